#!/usr/bin/env node
/**
 * Gateway benchmark (issue 7). Run after `npm run build`:
 *
 *   node bench/gateway.mjs [--duration 10] [--connections 32] [--rounds 2] [--upstream-cpu 0]
 *
 * `--upstream-cpu N` makes the upstream spend N µs of CPU per request, standing in for a service
 * that does some work: with the default 0 the upstream is a no-op and the comparison measures the
 * gateway's own cost per request against almost nothing.
 *
 * One upstream (a bare node:http server answering a small JSON body, keep-alive) and one
 * Gatehouse (SQLite, default settings, a gateway route per scenario), each in its own child
 * process; autocannon in this process loads, in the same run and alternating round by round:
 *
 *   direct        the upstream itself                                 (the baseline)
 *   anonymous     through the gateway, `auth: [anonymous]`
 *   apikey        through the gateway with an API key (when this build has API keys)
 *   jwt           through the gateway with a JWT from /auth/login
 *   basic         through the gateway with HTTP Basic (verification cache warm)
 *   nginx (ref)   nginx `proxy_pass` to the same upstream, one worker, keep-alive, no auth at all —
 *                 not a contender but a yardstick: what proxying alone costs on this machine
 *                 (skipped when nginx is not installed)
 *   node (ref)    the least a Node proxy does: a default Fastify route relaying to the upstream
 *                 through an undici pool (what reply-from uses), whole bodies, no auth, no header
 *                 work — the floor for any proxy written on Fastify and undici
 *
 * Goal (issue 7): the gateway keeps at least 60 % of the direct throughput on this 2-core
 * machine with the load generator on it too, and adds under 1 ms at p50.
 * Prints a table and writes JSON to bench/results/.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { forkServer, reportUsage, serverUsage, startBenchGatehouse, stopServers, writeResults } from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    serve: { type: 'string' },
    'upstream-cpu': { type: 'string', default: '0' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '2' },
  },
});

// Children learn the upstream's URL and work from the parent's environment (BENCH_UPSTREAM*).
if (args.serve === 'upstream') await serveUpstream(Number(process.env.BENCH_UPSTREAM_CPU ?? 0));
else if (args.serve === 'gatehouse') await serveGatehouse(process.env.BENCH_UPSTREAM);
else if (args.serve === 'node-proxy') await serveNodeProxy(process.env.BENCH_UPSTREAM);
else await main();

// ---------------------------------------------------------------------------------------------
// Child processes. Each reports its CPU time and requests when asked (bench/lib.mjs
// `reportUsage`): CPU per request is the figure least disturbed by other load on the machine.

async function serveUpstream(workUs) {
  const body = JSON.stringify({ data: 'Secure data' });
  // --upstream-cpu: microseconds of work per request, to stand in for a real service.
  const workMs = workUs / 1000;
  const server = http.createServer((_request, response) => {
    if (workMs > 0) {
      const until = performance.now() + workMs;
      while (performance.now() < until);
    }
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  });
  server.keepAliveTimeout = 60_000;
  reportUsage(server);
  server.listen(0, '127.0.0.1', () => process.send({ url: `http://127.0.0.1:${server.address().port}` }));
  process.on('disconnect', () => process.exit(0));
}

/** The Node floor: Fastify and an undici pool, nothing else (undici comes with reply-from). */
async function serveNodeProxy(upstream) {
  const { default: Fastify } = await import('fastify');
  const { Pool } = await import('undici');
  const pool = new Pool(upstream, { connections: 64 });
  const host = new URL(upstream).host;
  const hopByHop = new Set(['connection', 'keep-alive', 'transfer-encoding']);
  const app = Fastify();
  app.get('/*', async (request, reply) => {
    const answer = await pool.request({ path: request.url, method: 'GET', headers: { host } });
    const body = Buffer.from(await answer.body.arrayBuffer());
    reply.code(answer.statusCode);
    for (const [name, value] of Object.entries(answer.headers)) if (!hopByHop.has(name)) reply.header(name, value);
    return reply.send(body);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  reportUsage(app.server);
  process.send({ url: `http://127.0.0.1:${app.server.address().port}` });
  process.on('disconnect', () => process.exit(0));
}

async function serveGatehouse(upstream) {
  // The routes of every scenario.
  const gatehouse = await startBenchGatehouse({
    routes: [
      { name: 'anonymous', match: { path: '/anonymous' }, upstream, strip_prefix: true, auth: ['anonymous'] },
      { name: 'apikey', match: { path: '/apikey' }, upstream, strip_prefix: true, auth: ['apikey'] },
      { name: 'jwt', match: { path: '/jwt' }, upstream, strip_prefix: true, auth: ['jwt'] },
      { name: 'basic', match: { path: '/basic' }, upstream, strip_prefix: true, auth: ['basic'] },
    ],
    env: {
      GATEHOUSE_LOG_LEVEL: 'error',
      // The load generator speaks plain HTTP over loopback.
      GATEHOUSE_BASIC_ALLOW_INSECURE_LOOPBACK: 'true',
    },
  });
  const { running } = gatehouse;
  const mechanisms = running.services.pipeline.authenticators.map((authenticator) => authenticator.name);
  const admin = adminClient(running.urls.admin, gatehouse.adminKey);
  const credentials = {};
  if (mechanisms.includes('apikey')) {
    const { key } = await admin('POST', '/admin/v1/api-keys', { name: 'bench', owner: 'bench-service' });
    credentials.apikey = { 'x-api-key': key };
  }
  if (mechanisms.includes('basic') || mechanisms.includes('jwt')) {
    const password = 'bench password 0123456789';
    await admin('POST', '/admin/v1/users', { username: 'bench', password });
    credentials.basic = { authorization: `Basic ${Buffer.from(`bench:${password}`).toString('base64')}` };
    const login = await fetch(`${running.urls.public}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bench', password }),
    });
    credentials.jwt = { authorization: `Bearer ${(await login.json()).access_token}` };
  }
  reportUsage(running.apps.proxy.server);
  process.send({ proxy: running.urls.proxy, credentials });
  process.on('disconnect', () => gatehouse.stop().then(() => process.exit(0)));
}

/** The admin API with the admin key (credentials are made as an operator would). */
function adminClient(base, key) {
  return async (method, route, body) => {
    const response = await fetch(`${base}${route}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`);
    return response.json();
  };
}

// ---------------------------------------------------------------------------------------------
// The run.

/**
 * nginx as a plain reverse proxy to the upstream: one worker (Gatehouse runs on one core too),
 * an upstream keep-alive pool, no logging. Null when nginx is not installed.
 */
async function startNginx(upstreamUrl) {
  try {
    execFileSync('nginx', ['-v'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-nginx-'));
  const port = await new Promise((resolve) => {
    const probe = http.createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
  });
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  upstream service { server ${new URL(upstreamUrl).host}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://service; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`,
  );
  const child = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: 'ignore' });
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Latency without queueing: one keep-alive connection, requests one after another, timed with a
 * sub-millisecond clock (autocannon's percentiles are whole milliseconds). Answers p50 and p99 in ms.
 */
async function probe(url, headers, count) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(url);
  const once = () =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const request = http.get(
        { host: target.hostname, port: target.port, path: target.pathname, headers, agent },
        (response) => {
          response.resume();
          response.on('end', () =>
            response.statusCode === 200
              ? resolve(performance.now() - started)
              : reject(new Error(`${url}: ${response.statusCode}`)),
          );
        },
      );
      request.on('error', reject);
    });
  for (let i = 0; i < 200; i++) await once();
  const samples = [];
  for (let i = 0; i < count; i++) samples.push(await once());
  agent.destroy();
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { p50: at(0.5), p99: at(0.99) };
}

/** One autocannon run; `server` is the process that answers (its CPU per request is reported). */
async function load(autocannon, url, headers, duration, connections, server) {
  if (server !== null) await serverUsage(server);
  const result = await autocannon({ url, headers, duration, connections, pipelining: 1 });
  const used = server === null ? null : await serverUsage(server);
  // The reference proxy may drop a connection now and then (nginx closes idle upstream sockets):
  // reported, not fatal. Gatehouse and the upstream must answer everything.
  if (result.non2xx > 0 || (result.errors > 0 && server !== null)) {
    throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuUs: used === null ? Number.NaN : used.cpuUs / used.requests,
  };
}

async function main() {
  const { default: autocannon } = await import('autocannon');
  const duration = Number(args.duration);
  const connections = Number(args.connections);
  const rounds = Number(args.rounds);
  const script = fileURLToPath(import.meta.url);
  const upstream = await forkServer(script, 'upstream', { env: { BENCH_UPSTREAM_CPU: args['upstream-cpu'] } });
  const gatehouse = await forkServer(script, 'gatehouse', { env: { BENCH_UPSTREAM: upstream.url } });
  const nginx = await startNginx(upstream.url);
  const nodeProxy = await forkServer(script, 'node-proxy', { env: { BENCH_UPSTREAM: upstream.url } });
  try {
    const scenarios = [
      { name: 'direct', url: `${upstream.url}/data`, headers: {} },
      { name: 'anonymous', url: `${gatehouse.proxy}/anonymous/data`, headers: {} },
      ...['apikey', 'jwt', 'basic']
        .filter((name) => gatehouse.credentials[name])
        .map((name) => ({ name, url: `${gatehouse.proxy}/${name}/data`, headers: gatehouse.credentials[name] })),
      ...(nginx ? [{ name: 'nginx (ref)', url: `${nginx.url}/data`, headers: {} }] : []),
      { name: 'node (ref)', url: `${nodeProxy.url}/data`, headers: {} },
    ];
    const skipped = ['apikey', 'jwt', 'basic'].filter((name) => !gatehouse.credentials[name]);
    // Warm-up: JIT, connection pools, caches.
    const references = { direct: upstream.child, 'nginx (ref)': null, 'node (ref)': nodeProxy.child };
    const serverOf = (scenario) => (scenario.name in references ? references[scenario.name] : gatehouse.child);
    for (const scenario of scenarios) {
      await load(autocannon, scenario.url, scenario.headers, 2, connections, serverOf(scenario));
    }
    const samples = Object.fromEntries(scenarios.map((scenario) => [scenario.name, []]));
    const probes = Object.fromEntries(scenarios.map((scenario) => [scenario.name, []]));
    // Each round starts one scenario further along: the one measured last in a round measured
    // slower on the 2-core machines, whichever it was (docs/testing.md#benchmarks).
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < scenarios.length; i++) {
        const scenario = scenarios[(round + i) % scenarios.length];
        samples[scenario.name].push(
          await load(autocannon, scenario.url, scenario.headers, duration, connections, serverOf(scenario)),
        );
        probes[scenario.name].push(await probe(scenario.url, scenario.headers, 3000));
      }
    }
    const mean = (values) => values.reduce((sum, value) => sum + value, 0) / values.length;
    const summary = scenarios.map(({ name }) => ({
      name,
      rps: mean(samples[name].map((sample) => sample.rps)),
      p50: mean(samples[name].map((sample) => sample.p50)),
      p99: mean(samples[name].map((sample) => sample.p99)),
      cpuUs: mean(samples[name].map((sample) => sample.cpuUs)),
      idleP50: mean(probes[name].map((sample) => sample.p50)),
      idleP99: mean(probes[name].map((sample) => sample.p99)),
    }));
    const direct = summary[0];
    const rows = summary.map((row) => ({
      ...row,
      share: row.rps / direct.rps,
      addedIdleP50: row.idleP50 - direct.idleP50,
    }));
    const table = [
      `gateway benchmark: ${connections} connections, ${rounds} × ${duration}s per scenario, upstream work ${args['upstream-cpu']} µs/request, node ${process.version}`,
      '',
      '             under load (autocannon)                         one request at a time',
      'scenario      req/s  % of direct  p50 ms  p99 ms  CPU µs/req   p50 ms  p99 ms  added p50 ms',
      ...rows.map((row) =>
        [
          row.name.padEnd(11),
          row.rps.toFixed(0).padStart(7),
          `${(row.share * 100).toFixed(1)} %`.padStart(11),
          row.p50.toFixed(0).padStart(6),
          row.p99.toFixed(0).padStart(6),
          (Number.isNaN(row.cpuUs) ? '–' : row.cpuUs.toFixed(0)).padStart(10),
          row.idleP50.toFixed(3).padStart(7),
          row.idleP99.toFixed(3).padStart(6),
          row.addedIdleP50.toFixed(3).padStart(12),
        ].join('  '),
      ),
      '',
      'goal: through the gateway ≥ 60 % of direct req/s, and < 1 ms added at p50',
      '(autocannon reports whole milliseconds; the added p50 comes from the one-at-a-time probe;',
      ' CPU µs/req is the answering process: the upstream for direct, the proxy otherwise;',
      ' the (ref) rows are yardsticks, not contenders: nginx proxying in C, and the least a Node',
      ' proxy on Fastify and undici does; neither authenticates nor touches a header)',
      ...(nginx ? [] : ['nginx (ref) skipped: nginx is not installed']),
      ...(skipped.length > 0 ? [`skipped (not in this build): ${skipped.join(', ')}`] : []),
    ].join('\n');
    process.stdout.write(`${table}\n`);
    writeResults('gateway', { connections, duration, rounds, node: process.version, rows, skipped });
  } finally {
    nginx?.stop();
    await stopServers({ upstream, gatehouse, nodeProxy });
  }
}
