/**
 * Requests per second through `/auth/verify` with HTTP Basic credentials, against bare routes in
 * the same run:
 *   bare  — a default Fastify route that answers 200: the ceiling of this machine and HTTP stack;
 *   stack — a route answering 200 on Gatehouse's own Fastify settings (request ids, logger,
 *           timeouts) without any authentication: the ceiling for any mechanism in Gatehouse;
 *   warm  — Gatehouse with the verification cache (the normal case: a client repeating its
 *           credentials pays argon2id once per `basic.cache_ttl`);
 *   cold  — Gatehouse with `basic.cache_ttl=0`: every request runs argon2id (m=19 MiB, t=2, p=1).
 * Each server runs in its own child process; autocannon runs here. bare, stack and warm are
 * measured in interleaved rounds and the median is reported, so that load from elsewhere on the
 * machine affects them alike.
 *
 *   npm run build && node bench/basic-verify.mjs
 *   BENCH_DURATION=10 BENCH_ROUNDS=5 BENCH_CONNECTIONS=50 node bench/basic-verify.mjs
 *
 * Writes bench/results/basic-verify-<time>.json.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchGatehouse, writeResults } from './lib.mjs';

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
    process.on('disconnect', () => app.close().finally(() => process.exit(0)));
    process.send?.({ url: `http://127.0.0.1:${app.server.address().port}` });
    return;
  }
  if (mode === 'bare') {
    const { default: Fastify } = await import('fastify');
    const app = Fastify({ logger: false });
    app.get('/auth/verify', async (_request, reply) => reply.code(200).header('cache-control', 'no-store').send());
    await app.listen({ host: '127.0.0.1', port: 0 });
    process.on('disconnect', () => app.close().finally(() => process.exit(0)));
    process.send?.({ url: `http://127.0.0.1:${app.server.address().port}` });
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
  process.on('disconnect', () => gatehouse.stop().finally(() => process.exit(0)));
  process.send?.({ url: running.urls.public });
}

function startChild(mode) {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--serve', mode], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (message) => resolve({ child, url: message.url }));
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
}

async function run(url, { duration, connections }) {
  const { default: autocannon } = await import('autocannon');
  const result = await autocannon({
    url: `${url}/auth/verify`,
    headers: { authorization: AUTHORIZATION },
    duration,
    connections,
    pipelining: 1,
  });
  const non2xx = result.non2xx + result.errors + result.timeouts;
  return {
    requestsPerSecond: result.requests.average,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    requests: result.requests.total,
    failures: non2xx,
  };
}

async function main() {
  const duration = Number(process.env.BENCH_DURATION ?? 5);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
  const modes = ['bare', 'stack', 'warm', 'cold'];
  const servers = {};
  for (const mode of modes) servers[mode] = await startChild(mode);
  const samples = Object.fromEntries(modes.map((mode) => [mode, []]));
  try {
    for (const mode of modes) await run(servers[mode].url, { duration: 1, connections }); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const mode of ['bare', 'stack', 'warm'])
        samples[mode].push(await run(servers[mode].url, { duration, connections }));
    }
    samples.cold.push(await run(servers.cold.url, { duration, connections }));
  } finally {
    for (const { child } of Object.values(servers)) {
      child.removeAllListeners('exit');
      child.disconnect();
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
  const median = (list) => {
    const sorted = [...list].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
    return {
      ...sorted[Math.floor(sorted.length / 2)],
      samples: list.map((item) => Math.round(item.requestsPerSecond)),
    };
  };
  const results = Object.fromEntries(modes.map((mode) => [mode, median(samples[mode])]));
  const bare = results.bare.requestsPerSecond;
  const stack = results.stack.requestsPerSecond;
  const rows = Object.entries(results).map(([mode, result]) => ({
    scenario: mode,
    'req/s': Math.round(result.requestsPerSecond),
    'vs bare': `${((result.requestsPerSecond / bare) * 100).toFixed(1)}%`,
    'vs stack': `${((result.requestsPerSecond / stack) * 100).toFixed(1)}%`,
    'p50 ms': result.latencyP50Ms,
    'p99 ms': result.latencyP99Ms,
    'non-2xx/errors': result.failures,
  }));
  console.log(
    `\n/auth/verify with HTTP Basic — median of ${rounds} × ${duration}s (cold: 1 × ${duration}s), ${connections} connections, node ${process.version}`,
  );
  console.table(rows);
  const warmShare = results.warm.requestsPerSecond / bare;
  console.log(
    `warm is ${(warmShare * 100).toFixed(1)}% of bare Fastify (target ≥ 80%)${warmShare >= 0.8 ? '' : ' — below target'}`,
  );
  console.log(
    `warm is ${((results.warm.requestsPerSecond / stack) * 100).toFixed(1)}% of a route on Gatehouse's own Fastify settings`,
  );
  writeResults('basic-verify', {
    benchmark: 'basic-verify',
    at: new Date().toISOString(),
    node: process.version,
    duration,
    rounds,
    connections,
    results,
  });
  if (Object.values(results).some((result) => result.failures > 0)) process.exitCode = 1;
}
