#!/usr/bin/env node
/**
 * Client-credentials token requests per second (issue 6): Gatehouse's `POST /oauth/token` against
 * `oidc-provider` (panva/node-oidc-provider 9, a minimal provider configured here), in the same run
 * on the same machine, both signing ES256 JWT access tokens (RFC 9068) for the same request:
 * `client_id` + `client_secret` in the form body (client_secret_post), `scope=read`.
 *
 * Each server runs in its own child process, autocannon in this one. Contenders are interleaved
 * over several rounds and each figure is the median, so a burst of load elsewhere on the shared
 * machine does not land on one contender only. Goal: Gatehouse ≥ 1.5× oidc-provider.
 *
 * Run after `npm run build`: `node bench/oauth-client-credentials.mjs [--seconds 5] [--rounds 3]`.
 * Prints a table and writes bench/results/oauth-client-credentials-<time>.json.
 */
import { fork } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { argument, median, startBenchGatehouse, writeResults } from './lib.mjs';

const SECONDS = argument('seconds', 5);
const ROUNDS = argument('rounds', 3);
const CONNECTIONS = argument('connections', 20);

/** Gatehouse on SQLite with one client; answers the token URL and the form body. */
async function serveGatehouse() {
  const gatehouse = await startBenchGatehouse({ env: { GATEHOUSE_KEYS_ALGORITHM: 'ES256' }, discardLogs: true });
  const { running, adminKey } = gatehouse;
  const created = await fetch(`${running.urls.admin}/admin/v1/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'bench',
      grant_types: ['client_credentials'],
      scope: 'read',
      token_endpoint_auth_method: 'client_secret_post',
    }),
  });
  const client = await created.json();
  return {
    url: `${running.urls.public}/oauth/token`,
    body: `client_id=${client.client_id}&client_secret=${client.client_secret}&grant_type=client_credentials&scope=read`,
    stop: gatehouse.stop,
  };
}

/** oidc-provider with the client credentials grant and ES256 JWT access tokens for one resource. */
async function serveOidcProvider() {
  const { default: Provider } = await import('oidc-provider');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-es256', alg: 'ES256', use: 'sig' };
  const secret = 'bench-secret-bench-secret-bench-secret-0123456789';
  const resource = 'https://api.bench.test';
  const http = await import('node:http');
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'bench',
        client_secret: secret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_post',
        // Its only key is ES256 (the ID-token default, RS256, would need a second key).
        id_token_signed_response_alg: 'ES256',
        scope: 'read',
      },
    ],
    jwks: { keys: [jwk] },
    scopes: ['read'],
    ttl: { ClientCredentials: 900 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'read',
          audience: resource,
          accessTokenTTL: 900,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
  });
  server.on('request', provider.callback());
  return {
    url: `${issuer}/token`,
    body: `client_id=bench&client_secret=${secret}&grant_type=client_credentials&scope=read`,
    stop: async () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Child process: start the named server, report its target, wait to be told to stop. */
async function child(role) {
  const served = role === 'gatehouse' ? await serveGatehouse() : await serveOidcProvider();
  // One check that the server answers a token before it is measured.
  const check = await fetch(served.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: served.body,
  });
  const token = await check.json();
  const header = JSON.parse(Buffer.from(String(token.access_token).split('.')[0], 'base64url').toString());
  process.send({ url: served.url, body: served.body, status: check.status, alg: header.alg, typ: header.typ });
  process.on('message', async (message) => {
    if (message === 'stop') {
      await served.stop();
      process.exit(0);
    }
  });
}

function start(role) {
  return new Promise((resolve, reject) => {
    const worker = fork(fileURLToPath(import.meta.url), ['--child', role], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    worker.once('message', (target) => resolve({ worker, target }));
    worker.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}

async function measure(target) {
  const result = await autocannon({
    url: target.url,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: target.body,
    connections: CONNECTIONS,
    duration: SECONDS,
  });
  const ok = result['2xx'];
  return {
    rps: ok / SECONDS,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

async function main() {
  const servers = { gatehouse: await start('gatehouse'), oidcProvider: await start('oidc-provider') };
  for (const [name, { target }] of Object.entries(servers)) {
    if (target.status !== 200 || target.alg !== 'ES256') throw new Error(`${name} did not issue an ES256 token`);
  }
  // Warm-up (JIT, connection pools), not measured.
  for (const { target } of Object.values(servers))
    await autocannon({
      ...target,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      connections: CONNECTIONS,
      duration: 1,
    });
  const samples = { gatehouse: [], oidcProvider: [] };
  const ratios = [];
  for (let round = 0; round < ROUNDS; round++) {
    const gatehouse = await measure(servers.gatehouse.target);
    const oidcProvider = await measure(servers.oidcProvider.target);
    samples.gatehouse.push(gatehouse);
    samples.oidcProvider.push(oidcProvider);
    ratios.push(gatehouse.rps / oidcProvider.rps);
  }
  for (const { worker } of Object.values(servers)) worker.send('stop');

  const summary = (list) => ({
    rps: median(list.map((item) => item.rps)),
    p50_ms: median(list.map((item) => item.p50)),
    p99_ms: median(list.map((item) => item.p99)),
    non2xx: list.reduce((sum, item) => sum + item.non2xx, 0),
    errors: list.reduce((sum, item) => sum + item.errors, 0),
  });
  const results = {
    node: process.version,
    seconds: SECONDS,
    rounds: ROUNDS,
    connections: CONNECTIONS,
    gatehouse: { ...summary(samples.gatehouse), token_typ: servers.gatehouse.target.typ },
    oidcProvider: { ...summary(samples.oidcProvider), token_typ: servers.oidcProvider.target.typ },
    ratio: median(ratios),
    goal: 1.5,
  };
  const row = (name, value) =>
    `${name.padEnd(14)} ${value.rps.toFixed(0).padStart(8)} ${String(value.p50_ms).padStart(8)} ${String(value.p99_ms).padStart(8)} ${String(value.non2xx + value.errors).padStart(8)}`;
  process.stdout.write(
    [
      `client credentials, ES256 JWT access tokens, ${CONNECTIONS} connections, ${ROUNDS}×${SECONDS}s (median)`,
      `${'server'.padEnd(14)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(8)}`,
      row('gatehouse', results.gatehouse),
      row('oidc-provider', results.oidcProvider),
      `ratio ${results.ratio.toFixed(2)}× (goal ≥ ${results.goal}×) ${results.ratio >= results.goal ? 'met' : 'NOT met'}`,
      '',
    ].join('\n'),
  );
  writeResults('oauth-client-credentials', results);
}

const childIndex = process.argv.indexOf('--child');
if (childIndex > 0) await child(process.argv[childIndex + 1]);
else await main();
