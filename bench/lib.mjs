/**
 * What every benchmark in bench/ shares: reading a numeric flag, the median of interleaved
 * rounds, writing the run's figures as JSON to bench/results/ (git-ignored), and starting a real
 * Gatehouse to measure.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(here, 'results');
const dist = (file) => path.join(here, '..', 'packages', 'server', 'dist', file);

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

/**
 * A real Gatehouse as `gatehouse serve` would run it: SQLite in a fresh temporary data dir,
 * listeners on free loopback ports (the gateway's too when `routes` are given, written as the
 * config file), logs as JSON to stdout at `GATEHOUSE_LOG_LEVEL` (default warn), or nowhere with
 * `discardLogs`. `env` adds or overrides GATEHOUSE_* settings. Answers the running server, its
 * admin key, and `stop()`, which also removes the data dir. Run after `npm run build`.
 */
export async function startBenchGatehouse({ env = {}, routes, discardLogs = false } = {}) {
  const { loadConfigWithRoutes } = await import(dist('config/routes.js'));
  const { createLogger } = await import(dist('logging.js'));
  const { startGatehouse } = await import(dist('server.js'));
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-'));
  let file;
  if (routes) {
    file = path.join(dataDir, 'gatehouse.yaml');
    writeFileSync(file, JSON.stringify({ routes })); // JSON is YAML
  }
  const loaded = loadConfigWithRoutes({
    env: {
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_PORT: '0',
      GATEHOUSE_ADMIN_PORT: '0',
      GATEHOUSE_PROXY_HOST: '127.0.0.1',
      GATEHOUSE_PROXY_PORT: '0',
      GATEHOUSE_LOG_LEVEL: 'warn',
      GATEHOUSE_LOG_FORMAT: 'json',
      ...env,
    },
    ...(file ? { file } : {}),
    checkDataDir: true,
  });
  const logger = discardLogs ? createLogger(loaded.config, { write() {} }) : createLogger(loaded.config);
  const running = await startGatehouse({
    config: loaded.config,
    logger,
    routes: loaded.routes,
    announce: () => {},
  });
  return {
    running,
    adminKey: readFileSync(path.join(dataDir, 'admin.key'), 'utf8').trim(),
    stop: async () => {
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
