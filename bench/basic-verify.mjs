/**
 * Requests per second through `/auth/verify` with HTTP Basic credentials, against bare routes in
 * the same run:
 *   bare  — a default Fastify route that answers 200: the ceiling of this machine and HTTP stack;
 *   stack — a route answering 200 on Gatehouse's own Fastify settings (request ids, logger,
 *           timeouts) without any authentication: the ceiling for any mechanism in Gatehouse;
 *   warm  — Gatehouse with the verification cache (the normal case: a client repeating its
 *           credentials pays argon2id once per `basic.cache_ttl`);
 *   cold  — Gatehouse with `basic.cache_ttl=0`: every request runs argon2id (m=19 MiB, t=2, p=1).
 * Each server runs in its own child process, autocannon here, in interleaved rounds with fresh
 * processes each round (bench/lib.mjs `compareHttp`); medians are reported, with the server's CPU
 * time per request and the warm/bare ratio round by round.
 *
 *   npm run build && node bench/basic-verify.mjs
 *   BENCH_DURATION=10 BENCH_ROUNDS=5 BENCH_CONNECTIONS=50 node bench/basic-verify.mjs
 *
 * Writes bench/results/basic-verify-<time>.json.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareHttp, forkServer, reportUsage, roundRatio, startBenchGatehouse, writeResults } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'packages', 'server', 'dist');
const USERNAME = 'bench-user';
const PASSWORD = 'bench password, long enough';
const AUTHORIZATION = `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`;

if (process.argv[2] === '--serve') {
  await serve(process.argv[3]);
} else {
  await main();
}

/** Child: start one server and tell the parent its URL. */
async function serve(mode) {
  if (mode === 'stack') {
    const { createFastify } = await import(path.join(dist, 'http', 'fastify.js'));
    const { createLogger } = await import(path.join(dist, 'logging.js'));
    const app = createFastify({
      logger: createLogger({ log: { level: 'error', format: 'json' } }),
      logRequests: false,
    });
    app.get('/auth/verify', async (_request, reply) => reply.code(200).header('cache-control', 'no-store').send());
    await app.listen({ host: '127.0.0.1', port: 0 });
    reportUsage(app.server);
    process.on('disconnect', () => app.close().finally(() => process.exit(0)));
    process.send?.({ url: `http://127.0.0.1:${app.server.address().port}/auth/verify` });
    return;
  }
  if (mode === 'bare') {
    const { default: Fastify } = await import('fastify');
    const app = Fastify({ logger: false });
    app.get('/auth/verify', async (_request, reply) => reply.code(200).header('cache-control', 'no-store').send());
    await app.listen({ host: '127.0.0.1', port: 0 });
    reportUsage(app.server);
    process.on('disconnect', () => app.close().finally(() => process.exit(0)));
    process.send?.({ url: `http://127.0.0.1:${app.server.address().port}/auth/verify` });
    return;
  }
  const gatehouse = await startBenchGatehouse({
    env: {
      GATEHOUSE_LOG_LEVEL: 'error',
      GATEHOUSE_AUTH_METHODS: 'basic',
      // Plain HTTP on loopback for the benchmark; TLS cost is the same for every scenario.
      GATEHOUSE_BASIC_ALLOW_INSECURE_LOOPBACK: 'true',
      GATEHOUSE_BASIC_CACHE_TTL: mode === 'cold' ? '0' : '30s',
    },
  });
  const { running } = gatehouse;
  const created = await running.services.users.create({ username: USERNAME, password: PASSWORD }, 'bench');
  if (!created.ok) throw new Error(`cannot create the bench user: ${JSON.stringify(created)}`);
  reportUsage(running.apps.public.server);
  process.on('disconnect', () => gatehouse.stop().finally(() => process.exit(0)));
  process.send?.({ url: `${running.urls.public}/auth/verify` });
}

async function main() {
  const duration = Number(process.env.BENCH_DURATION ?? 5);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
  const script = fileURLToPath(import.meta.url);
  const modes = ['bare', 'stack', 'warm', 'cold'];
  const results = await compareHttp({
    rounds,
    duration,
    connections,
    startRound: async () => {
      const servers = {};
      for (const mode of modes) {
        servers[mode] = { ...(await forkServer(script, mode)), headers: { authorization: AUTHORIZATION } };
      }
      return servers;
    },
  });
  const bare = results.bare.rps;
  const stack = results.stack.rps;
  const rows = Object.entries(results).map(([mode, result]) => ({
    scenario: mode,
    'req/s': result.rps,
    'vs bare': `${((result.rps / bare) * 100).toFixed(1)}%`,
    'vs stack': `${((result.rps / stack) * 100).toFixed(1)}%`,
    'p50 ms': result.p50_ms,
    'p99 ms': result.p99_ms,
    'server CPU µs/req': result.cpu_us_per_request,
    'samples req/s': result.samples.map((sample) => sample.rps).join(' '),
  }));
  console.log(
    `\n/auth/verify with HTTP Basic — median of ${rounds} interleaved rounds × ${duration}s, fresh processes each round, ${connections} connections, node ${process.version}`,
  );
  console.table(rows);
  const warmShare = results.warm.rps / bare;
  const byRound = roundRatio(results, 'warm', 'bare');
  console.log(
    `warm is ${(warmShare * 100).toFixed(1)}% of bare Fastify (target ≥ 80%)${warmShare >= 0.8 ? '' : ' — below target'}; round by round ${byRound.ratios.map((r) => `${(r * 100).toFixed(1)}%`).join(', ')}, median ${(byRound.median * 100).toFixed(1)}%`,
  );
  console.log(
    `warm is ${((results.warm.rps / stack) * 100).toFixed(1)}% of a route on Gatehouse's own Fastify settings`,
  );
  writeResults('basic-verify', {
    benchmark: 'basic-verify',
    at: new Date().toISOString(),
    node: process.version,
    duration,
    rounds,
    connections,
    results,
    warmRoundRatio: byRound,
  });
}
