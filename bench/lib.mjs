/**
 * What every benchmark in bench/ shares: reading a numeric flag, the median of interleaved
 * rounds, and writing the run's figures as JSON to bench/results/ (git-ignored).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const resultsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

/** `--name N` as a number, or `fallback`. */
export function argument(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
}

/** The middle value (the upper middle for an even count). */
export function median(values) {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

/** Writes `bench/results/<name>-<time>.json`, says where, and answers the path. */
export function writeResults(name, data) {
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  console.log(`results: ${path.relative(process.cwd(), file)}`);
  return file;
}
