#!/usr/bin/env node
/**
 * API key verification benchmark (issue 3). Run after `npm run build`:
 *
 *   node bench/apikey-verify.mjs [--duration 10] [--connections 50] [--rounds 5] [--pin]
 *
 * (a) micro: a cached verification (the `apikey` authenticator, and the verifier inside it) against
 *     one SHA-256 of the key, in this process: target "little more than one SHA-256".
 * (b) HTTP, each server in its own child process started the same way, loaded by autocannon with
 *     the same settings, in interleaved rounds of the same run, each round with fresh processes
 *     and starting one scenario further along (medians reported):
 *       bare   — a default Fastify route answering 200: the ceiling of this machine and HTTP stack;
 *       headers — the same route answering with the five headers /auth/verify sends (Cache-Control
 *                and the four X-Auth-*), no authentication: what writing them costs Node alone;
 *       stack  — a route answering 200 on Gatehouse's own Fastify settings (request ids, logger,
 *                timeouts), without authentication: the ceiling for any mechanism in Gatehouse;
 *       floor  — a plain Node handler (as /auth/verify's fast lane is) doing only what any API key
 *                verification of issue 3 must: one SHA-256 of the presented key, one
 *                constant-time comparison with a stored digest (docs/security.md #29), and the same
 *                five headers; no lookup, no checks, no metrics. The ceiling for verify itself;
 *       verify — `/auth/verify` with an API key on a real Gatehouse (SQLite, default settings).
 *     Target: verify ≥ 80 % of bare. Also reported: the server's CPU time per request, the figure
 *     least disturbed by other load on the machine.
 *
 * Prints a table and writes JSON to bench/results/.
 */
import { createHash, hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  compareHttp,
  forkServer,
  pin,
  reportUsage,
  roundRatio as roundRatioOf,
  serveVerifyWithApiKey,
  writeResults,
} from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (file) => path.join(root, 'packages/server/dist', file);

const { values: args } = parseArgs({
  options: {
    serve: { type: 'string' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '5' },
    iterations: { type: 'string', default: '300000' },
    // Pin the load generator to CPU 0 and each server to the last CPU (needs taskset), so they
    // do not take turns on one core; both servers are pinned alike.
    pin: { type: 'boolean', default: false },
  },
});

if (args.serve) await serve(args.serve);
else await main();

// ---------------------------------------------------------------------------------------------
// Child process: one server; it reports its URL (and a key) to the parent.

async function serve(kind) {
  if (kind === 'stack') {
    const { createFastify } = await import(dist('http/fastify.js'));
    const { createLogger } = await import(dist('logging.js'));
    const app = createFastify({ logger: createLogger({ log: { level: 'info', format: 'json' } }), logRequests: false });
    app.get('/', (_request, reply) => reply.code(200).header('cache-control', 'no-store').send());
    await app.listen({ host: '127.0.0.1', port: 0 });
    reportUsage(app.server);
    process.send({ url: `http://127.0.0.1:${app.server.address().port}/` });
    process.on('disconnect', () => app.close().then(() => process.exit(0)));
    return;
  }
  if (kind === 'floor') {
    const { createServer } = await import('node:http');
    const { apiKeyDigest, sameDigest } = await import(dist('core/apikeys/hash.js'));
    const answer = Object.entries(JSON.parse(process.env.BENCH_ANSWER_HEADERS ?? '{}')).flat();
    answer.push('content-length', '0');
    const stored = createHash('sha256')
      .update(process.env.BENCH_KEY ?? '')
      .digest();
    const server = createServer((request, response) => {
      const key = request.headers['x-api-key'];
      const ok = typeof key === 'string' && sameDigest(stored, apiKeyDigest(key));
      response.writeHead(ok ? 200 : 401, answer);
      response.end();
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    reportUsage(server);
    process.send({ url: `http://127.0.0.1:${server.address().port}/auth/verify` });
    process.on('disconnect', () => server.close(() => process.exit(0)));
    return;
  }
  if (kind === 'bare' || kind === 'headers') {
    const { default: Fastify } = await import('fastify');
    const app = Fastify();
    // `headers`: the same default route, answering with the headers /auth/verify answers this
    // key with (given by the parent), and no authentication: what those headers alone cost.
    const answer = kind === 'headers' ? JSON.parse(process.env.BENCH_ANSWER_HEADERS ?? '{}') : {};
    app.get('/', (_request, reply) => reply.code(200).headers(answer).send());
    await app.listen({ host: '127.0.0.1', port: 0 });
    reportUsage(app.server);
    process.send({ url: `http://127.0.0.1:${app.server.address().port}/` });
    process.on('disconnect', () => app.close().then(() => process.exit(0)));
    return;
  }
  // Default settings, logs at info to stdout (the child's stdout goes nowhere).
  await serveVerifyWithApiKey({ env: { GATEHOUSE_LOG_LEVEL: 'info' } });
}

function startChild(kind, env = {}) {
  const pinCpu = args.pin ? { pinCpu: availableParallelism() - 1 } : {};
  return forkServer(fileURLToPath(import.meta.url), kind, { env, ...pinCpu });
}

// ---------------------------------------------------------------------------------------------
// Parent: micro benchmark, then HTTP.

function timeLoop(label, iterations, fn) {
  for (let i = 0; i < Math.min(iterations, 20_000); i++) fn(); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  return { label, ns_per_op: Math.round(ns), ops_per_s: Math.round(1e9 / ns) };
}

async function micro() {
  const { openStore } = await import(dist('store/database.js'));
  const { migrateToLatest } = await import(dist('store/migrate.js'));
  const { apiKeyRepository } = await import(dist('store/api-key-repository.js'));
  const { createApiKeyService } = await import(dist('core/apikeys/service.js'));
  const { createMemoryRateLimiter } = await import(dist('core/ratelimit/memory-limiter.js'));
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-micro-'));
  const store = await openStore(`sqlite:${path.join(dir, 'bench.db')}`);
  await migrateToLatest(store);
  const clock = { now: () => Date.now() };
  const service = createApiKeyService({
    store: apiKeyRepository(store.db),
    settings: {
      prefix: 'gk',
      header: 'x-api-key',
      queryParam: false,
      cacheTtlMs: 3_600_000,
      negativeCacheTtlMs: 5000,
      cacheSize: 10_000,
      staleIfErrorMs: 0,
      lastUsedFlushMs: 60_000,
    },
    limiter: createMemoryRateLimiter({ clock }),
    clock,
    newId: () => `key_bench${Math.random().toString(36).slice(2)}`,
  });
  const base = {
    name: 'bench',
    owner: 'bench',
    scopes: ['data:read'],
    metadata: {},
    remainingUses: null,
    expiresAt: null,
  };
  const plain = await service.create({ ...base, rateLimit: null });
  const limited = await service.create({ ...base, rateLimit: { limit: 1_000_000_000, windowMs: 1000 } });
  const request = (key) => ({
    header: (name) => (name === 'x-api-key' ? key : undefined),
    method: 'GET',
    url: '/auth/verify',
    secure: false,
    clientIp: '127.0.0.1',
  });
  const plainRequest = request(plain.plaintext);
  const limitedRequest = request(limited.plaintext);
  // Warm the cache (the first verification of each key reads the store).
  for (const req of [plainRequest, limitedRequest]) {
    const outcome = await service.authenticator.authenticate(req);
    if (outcome.kind !== 'authenticated') throw new Error(`bench key not accepted: ${JSON.stringify(outcome)}`);
  }
  const iterations = Number(args.iterations);
  const key = plain.plaintext;
  const rows = [
    // The baseline is the cheapest SHA-256 Node offers for a short string (to hex, as stored).
    timeLoop('SHA-256 of the key (crypto.hash, hex)', iterations, () => hash('sha256', key, 'hex')),
    timeLoop('SHA-256 of the key (createHash…digest)', iterations, () => createHash('sha256').update(key).digest()),
    timeLoop('cached verify (authenticator)', iterations, () => service.authenticator.authenticate(plainRequest)),
    timeLoop('cached verify + rate limit', iterations, () => service.authenticator.authenticate(limitedRequest)),
    timeLoop('malformed key (refused by format)', iterations, () =>
      service.authenticator.authenticate(request('gk_not-a-key')),
    ),
  ];
  const stats = service.stats();
  if (stats.lookups !== 2) throw new Error(`expected 2 store lookups, saw ${stats.lookups}`);
  await service.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const baseline = rows[0].ns_per_op;
  return rows.map((row) => ({ ...row, vs_sha256: `${(row.ns_per_op / baseline).toFixed(2)}×` }));
}

/** One server of each scenario, started alike; `verify` first, for its key and its answer's headers. */
async function startServers() {
  const verify = await startChild('gatehouse');
  const answered = await fetch(verify.url, { headers: { 'x-api-key': verify.key } });
  if (answered.status !== 200) throw new Error(`/auth/verify answered ${answered.status}`);
  const answerHeaders = JSON.stringify(
    Object.fromEntries(
      [...answered.headers].filter(([name]) => name === 'cache-control' || name.startsWith('x-auth-')),
    ),
  );
  const keyHeader = { 'x-api-key': verify.key };
  return {
    bare: await startChild('bare'),
    headers: await startChild('headers', { BENCH_ANSWER_HEADERS: answerHeaders }),
    stack: await startChild('stack'),
    floor: {
      ...(await startChild('floor', { BENCH_ANSWER_HEADERS: answerHeaders, BENCH_KEY: verify.key })),
      headers: keyHeader,
    },
    verify: { ...verify, headers: keyHeader },
  };
}

async function main() {
  const startedAt = new Date().toISOString();
  if (args.pin) pin(process.pid, 0);
  const microRows = await micro();
  console.log('\n(a) micro: cached API key verification vs one SHA-256 of the key');
  console.table(microRows);

  const http = await compareHttp({
    startRound: startServers,
    rounds: Number(args.rounds),
    duration: Number(args.duration),
    connections: Number(args.connections),
  });
  console.log(
    `\n(b) HTTP: /auth/verify with an API key vs bare routes — median of ${args.rounds} interleaved rounds × ${args.duration} s, ${args.connections} connections, pipelining 1${args.pin ? ', servers pinned to one CPU, autocannon to another' : ''}`,
  );
  const { bare, stack } = http;
  console.table(
    Object.entries(http).map(([name, result]) => ({
      scenario: name,
      'req/s': result.rps,
      'vs bare': `${((result.rps / bare.rps) * 100).toFixed(1)} %`,
      'vs stack': `${((result.rps / stack.rps) * 100).toFixed(1)} %`,
      'p99 ms': result.p99_ms,
      'server CPU µs/req': result.cpu_us_per_request,
      'samples req/s': result.samples.map((sample) => sample.rps).join(' '),
    })),
  );
  const ratio = http.verify.rps / bare.rps;
  console.log(
    `the same headers without authentication are ${((http.headers.rps / bare.rps) * 100).toFixed(1)} % of bare; verify is ${((http.verify.rps / http.headers.rps) * 100).toFixed(1)} % of that`,
  );
  console.log(
    `the floor (headers + one SHA-256 + one constant-time comparison, nothing else) is ${((http.floor.rps / bare.rps) * 100).toFixed(1)} % of bare; verify is ${((http.verify.rps / http.floor.rps) * 100).toFixed(1)} % of the floor`,
  );
  // The same comparison round by round (both measured within one round), whose median is less
  // moved by the machine's drift between rounds than the ratio of the two medians.
  const { ratios: roundRatios, median: roundRatio } = roundRatioOf(http, 'verify', 'bare');
  console.log(
    `round by round, verify is ${roundRatios.map((r) => `${(r * 100).toFixed(1)} %`).join(', ')} of bare: median ${(roundRatio * 100).toFixed(1)} %`,
  );
  const cpuRatio = bare.cpu_us_per_request / http.verify.cpu_us_per_request;
  console.log(
    `verify is ${(ratio * 100).toFixed(1)} % of bare Fastify (target ≥ 80 %)${ratio >= 0.8 ? '' : ' — below target'}`,
  );
  console.log(
    `CPU per request: bare needs ${(cpuRatio * 100).toFixed(1)} % of what verify needs (the share a CPU-bound server would reach)\n`,
  );

  writeResults('apikey-verify', {
    startedAt,
    node: process.version,
    settings: args,
    micro: microRows,
    http,
    ratio,
    roundRatio,
    cpuRatio,
  });
}
