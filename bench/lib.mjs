/**
 * What every benchmark in bench/ shares: reading a numeric flag, the median of interleaved
 * rounds, writing the run's figures as JSON to bench/results/ (git-ignored), starting a real
 * Gatehouse to measure, and comparing HTTP servers in fresh processes round by round.
 */
import { execFileSync, fork } from 'node:child_process';
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
      // Load comes over plain HTTP on loopback: passwords and client secrets need this (docs/security.md).
      GATEHOUSE_SECURITY_ALLOW_INSECURE_LOOPBACK: 'true',
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

// ---------------------------------------------------------------------------------------------
// Comparing HTTP servers fairly on a shared machine. Each server runs in its own child process
// (forked from the benchmark's own script with `--serve <kind>`), autocannon in the parent. On the
// 2-core machines this project runs on, three things skewed such comparisons (docs/testing.md,
// "Benchmarks"): two processes of the same server measured up to 15 % apart, long-lived processes
// drifted apart over a run, and the scenario measured last in a round measured slower, whichever
// it was. So every round starts fresh processes, warms each, and starts one scenario further along.

/**
 * In a child: counts the requests `server` (a node:http server) answers and, when the parent asks
 * ('usage'), reports the CPU time and requests since the last report. CPU per request is the
 * figure least disturbed by other load on the machine.
 */
export function reportUsage(server) {
  let requests = 0;
  let since = process.cpuUsage();
  server.on('request', () => requests++);
  process.on('message', (message) => {
    if (message !== 'usage') return;
    const used = process.cpuUsage(since);
    process.send({ usage: { cpuUs: used.user + used.system, requests } });
    requests = 0;
    since = process.cpuUsage();
  });
}

/**
 * Forks `script --serve <kind>` and answers `{ child, ...its first message }` once the child
 * reports (its `url`, at least). `pinCpu` pins every thread of the child to that CPU (taskset).
 */
export function forkServer(script, kind, { env = {}, pinCpu } = {}) {
  return new Promise((resolve, reject) => {
    const child = fork(script, ['--serve', kind], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { ...process.env, ...env },
    });
    child.once('message', (message) => {
      if (pinCpu !== undefined) pin(child.pid, pinCpu, true);
      resolve({ child, ...message });
    });
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
}

/** Pins a process (with `allThreads`, every thread of it) to one CPU; needs taskset. */
export function pin(pid, cpu, allThreads = false) {
  execFileSync('taskset', [allThreads ? '-apc' : '-pc', String(cpu), String(pid)], { stdio: 'ignore' });
}

/** Stops forked servers and waits until each has exited, so none is still closing while the next round runs. */
export function stopServers(servers) {
  return Promise.all(
    Object.values(servers).map(({ child }) => {
      child.removeAllListeners('exit');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.disconnect();
      return exited;
    }),
  );
}

/**
 * Asks a child that called `reportUsage` for its CPU time (µs) and requests since it was last
 * asked: ask once before a load to start the count, once after to read it.
 */
export function serverUsage(child) {
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (!message.usage) return;
      child.off('message', onMessage);
      resolve(message.usage);
    };
    child.on('message', onMessage);
    child.send('usage');
  });
}

async function load(autocannon, server, { duration, connections }) {
  await serverUsage(server.child);
  const result = await autocannon({
    url: server.url,
    headers: server.headers ?? {},
    connections,
    pipelining: 1,
    duration,
  });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0 || result['2xx'] !== result.requests.total) {
    throw new Error(`${server.url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  const { cpuUs, requests } = await serverUsage(server.child);
  return {
    rps: Math.round(result.requests.average),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    cpu_us_per_request: Number((cpuUs / requests).toFixed(1)),
  };
}

/**
 * Runs `rounds` rounds. Each calls `startRound()` for fresh servers (`{ [scenario]: { child, url,
 * headers? } }`, children that call `reportUsage`), warms each for 2 s, loads each for `duration`
 * seconds in turn, the round's order starting one scenario further along, then stops them all.
 * Answers per scenario the median req/s, p50, p99 and server CPU µs per request, and the samples
 * round by round. Any non-2xx answer or error fails the run: a benchmark never measures refusals.
 */
export async function compareHttp({ startRound, rounds, duration, connections }) {
  const { default: autocannon } = await import('autocannon');
  const samples = {};
  for (let round = 0; round < rounds; round++) {
    const servers = await startRound(round);
    try {
      const names = Object.keys(servers);
      for (const name of names) {
        samples[name] ??= [];
        const { url, headers = {} } = servers[name];
        await autocannon({ url, headers, connections: Math.min(connections, 10), duration: 2 });
      }
      for (let i = 0; i < names.length; i++) {
        const name = names[(round + i) % names.length];
        samples[name].push(await load(autocannon, servers[name], { duration, connections }));
      }
    } finally {
      await stopServers(servers);
    }
  }
  const middle = (list, field) => median(list.map((sample) => sample[field]));
  return Object.fromEntries(
    Object.entries(samples).map(([name, list]) => [
      name,
      {
        rps: middle(list, 'rps'),
        p50_ms: middle(list, 'p50_ms'),
        p99_ms: middle(list, 'p99_ms'),
        cpu_us_per_request: middle(list, 'cpu_us_per_request'),
        samples: list,
      },
    ]),
  );
}

/** The median, over rounds, of `scenario`'s req/s as a share of `baseline`'s in the same round. */
export function roundRatio(results, scenario, baseline) {
  const ratios = results[scenario].samples.map((sample, i) => sample.rps / (results[baseline].samples[i]?.rps ?? NaN));
  return { ratios, median: median(ratios) };
}

/**
 * A child's whole job in the /auth/verify benchmarks: a Gatehouse (startBenchGatehouse's options)
 * with one API key, reporting its CPU time; sends the parent the verify URL and the key, and
 * stops when the parent goes.
 */
export async function serveVerifyWithApiKey(options) {
  const gatehouse = await startBenchGatehouse(options);
  const { running } = gatehouse;
  const issued = await running.services.apiKeys.create({
    name: 'bench',
    owner: 'bench-service',
    scopes: ['data:read'],
    metadata: {},
    rateLimit: null,
    remainingUses: null,
    expiresAt: null,
  });
  reportUsage(running.apps.public.server);
  process.send({ url: `${running.urls.public}/auth/verify`, key: issued.plaintext });
  process.on('disconnect', () => gatehouse.stop().then(() => process.exit(0)));
}
