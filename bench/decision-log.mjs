#!/usr/bin/env node
/**
 * What the decision log costs `/auth/verify` (issue 15 finding 6: within 5 % of the throughput
 * without it). Run after `npm run build`:
 *
 *   node bench/decision-log.mjs [--duration 10] [--connections 50] [--rounds 5] [--pin]
 *
 * Three real Gatehouses (SQLite, default settings, logs at `info` as JSON to the child's stdout,
 * which goes to /dev/null: pino still formats and writes every line), each in its own child
 * process, loaded by autocannon with a cached API key in interleaved rounds of the same run
 * (bench/lib.mjs `compareHttp`: fresh processes each round, rotated order):
 *
 *   off   — `log.decisions: off`: the baseline;
 *   info  — `log.decisions: info` (the default): one line per request;
 *   debug — `log.decisions: debug` under `log.level: info`: on, but below the level (the check only).
 *
 * Target: info ≥ 95 % of off (round by round median). Prints a table and writes JSON to bench/results/.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compareHttp, forkServer, pin, roundRatio, serveVerifyWithApiKey, writeResults } from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    serve: { type: 'string' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '5' },
    pin: { type: 'boolean', default: false },
  },
});

const LEVELS = { off: 'off', info: 'info', debug: 'debug' };

if (args.serve) await serve(args.serve);
else await main();

async function serve(kind) {
  await serveVerifyWithApiKey({
    env: { GATEHOUSE_LOG_LEVEL: 'info', GATEHOUSE_LOG_DECISIONS: LEVELS[kind] },
  });
}

function startChild(kind) {
  const pinCpu = args.pin ? { pinCpu: availableParallelism() - 1 } : {};
  return forkServer(fileURLToPath(import.meta.url), kind, pinCpu);
}

async function startServers() {
  const servers = {};
  for (const kind of Object.keys(LEVELS)) {
    const started = await startChild(kind);
    const answered = await fetch(started.url, { headers: { 'x-api-key': started.key } });
    if (answered.status !== 200) throw new Error(`${kind}: /auth/verify answered ${answered.status}`);
    servers[kind] = { ...started, headers: { 'x-api-key': started.key } };
  }
  return servers;
}

async function main() {
  const startedAt = new Date().toISOString();
  if (args.pin) pin(process.pid, 0);
  const http = await compareHttp({
    startRound: startServers,
    rounds: Number(args.rounds),
    duration: Number(args.duration),
    connections: Number(args.connections),
  });
  console.log(
    `\n/auth/verify with a cached API key, decision log off / info / debug-below-level — median of ${args.rounds} interleaved rounds × ${args.duration} s, ${args.connections} connections`,
  );
  console.table(
    Object.entries(http).map(([name, result]) => ({
      scenario: name,
      'req/s': result.rps,
      'vs off': `${((result.rps / http.off.rps) * 100).toFixed(1)} %`,
      'p99 ms': result.p99_ms,
      'server CPU µs/req': result.cpu_us_per_request,
      'samples req/s': result.samples.map((sample) => sample.rps).join(' '),
    })),
  );
  const info = roundRatio(http, 'info', 'off');
  const debug = roundRatio(http, 'debug', 'off');
  console.log(
    `round by round, info is ${info.ratios.map((r) => `${(r * 100).toFixed(1)} %`).join(', ')} of off: median ${(info.median * 100).toFixed(1)} % (target ≥ 95 %)${info.median >= 0.95 ? '' : ' — below target'}`,
  );
  console.log(`debug below the level: median ${(debug.median * 100).toFixed(1)} % of off`);
  console.log(
    `server CPU per request: off ${http.off.cpu_us_per_request} µs, info ${http.info.cpu_us_per_request} µs (+${(http.info.cpu_us_per_request - http.off.cpu_us_per_request).toFixed(2)} µs per line)\n`,
  );
  writeResults('decision-log', { startedAt, node: process.version, settings: args, http, info, debug });
}
