#!/usr/bin/env node
/**
 * JWT verification speed (issue 5 item 9), everything measured in the same run on the same tokens:
 *
 * 1. per algorithm (ES256, EdDSA, RS256, HS256): raw `crypto.verify` / HMAC over the signing input
 *    (the baseline), our core on first sight as the server calls it (`verifyJwtDirect`: synchronous,
 *    keys in memory) and through the SDK's promise-returning `verifyJwt`, jose `jwtVerify`,
 *    fast-jwt without and with its cache. Target: first sight ≥ 0.8× raw.
 * 2. HTTP: `/auth/verify` with one repeated JWT (answered from the verified-token cache) against a
 *    bare Fastify route on the same machine, each in its own process, fresh every round (bench/lib.mjs
 *    `compareHttp`). Target: ≥ 0.8× the bare route.
 *
 * Run after `npm run build`: `node bench/jwt-verify.mjs [--seconds 1] [--http-seconds 5] [--http-rounds 5]`.
 * Prints a table and writes bench/results/jwt-verify-<time>.json.
 */
import { createPublicKey, createSecretKey } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createVerifier } from 'fast-jwt';
import Fastify from 'fastify';
import { jwtVerify } from 'jose';
import { verifyJwt, verifyJwtDirect } from '../packages/sdk/dist/jwt/index.js';
import { AUDIENCE, ISSUER, keysFor, rawVerifier, signTokens } from './jwt-fixtures.mjs';
import {
  argument,
  compareHttp,
  forkServer,
  median,
  reportUsage,
  roundRatio,
  startBenchGatehouse,
  writeResults,
} from './lib.mjs';

const SECONDS = argument('seconds', 5);
const HTTP_SECONDS = argument('http-seconds', 5);
const HTTP_ROUNDS = argument('http-rounds', 5);
const TOKENS = 512;
const ROUNDS = 5;

/**
 * Runs `step(i)` for `seconds`; answers operations per second. A step that answers synchronously
 * is not awaited (an `await` alone costs a microtask, a third of an HMAC), one that returns a
 * promise is.
 */
async function rate(step, seconds = SECONDS) {
  for (let i = 0; i < 100; i++) {
    const result = step(i); // warm-up
    if (result instanceof Promise) await result;
  }
  const end = performance.now() + seconds * 1000;
  let count = 0;
  const start = performance.now();
  while (performance.now() < end) {
    for (let j = 0; j < 50; j++) {
      const result = step(count++);
      if (result instanceof Promise) await result;
    }
  }
  return count / ((performance.now() - start) / 1000);
}

async function measureAlgorithm(alg) {
  const keys = keysFor(alg);
  const kid = `bench-${alg.toLowerCase()}`;
  const tokens = await signTokens(alg, keys, kid, TOKENS);
  const raw = rawVerifier(alg, keys, tokens);

  const verificationKey =
    alg === 'HS256' ? { kid, alg, key: createSecretKey(keys.secret) } : { kid, alg, key: createPublicKey(keys.pem) };
  const options = { issuer: ISSUER, audience: AUDIENCE, types: ['at+jwt'] };
  // What the server calls per request: synchronous, as its keys are in memory.
  const ours = (i) => {
    const result = verifyJwtDirect(tokens[i % TOKENS], () => verificationKey, options);
    if (!result.ok) throw new Error(result.code);
  };
  // The SDK's promise-returning entry point, on the same tokens.
  const oursAsync = async (i) => {
    const result = await verifyJwt(tokens[i % TOKENS], () => verificationKey, options);
    if (!result.ok) throw new Error(result.code);
  };
  const joseKey = alg === 'HS256' ? keys.secret : keys.publicKey;
  const jose = async (i) => {
    await jwtVerify(tokens[i % TOKENS], joseKey, {
      issuer: ISSUER,
      audience: AUDIENCE,
      typ: 'at+jwt',
      algorithms: [alg],
    });
  };
  const fastKey = alg === 'HS256' ? keys.secret : keys.pem;
  const fastOptions = { key: fastKey, algorithms: [alg], allowedIss: ISSUER, allowedAud: AUDIENCE };
  const fastNoCache = createVerifier({ ...fastOptions, cache: false });
  const fastCache = createVerifier({ ...fastOptions, cache: TOKENS * 2 });

  // The machine is shared: contenders are interleaved over several short rounds and each figure is
  // the median, so that a burst of load elsewhere does not land on one contender only.
  const contenders = {
    raw,
    ours,
    oursAsync,
    jose,
    fastJwt: (i) => fastNoCache(tokens[i % TOKENS]),
    fastJwtCache: (i) => fastCache(tokens[i % TOKENS]),
  };
  const samples = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
  const ratios = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const measured = {};
    for (const [name, step] of Object.entries(contenders)) measured[name] = await rate(step, SECONDS / ROUNDS);
    for (const name of Object.keys(contenders)) {
      samples[name].push(measured[name]);
      ratios[name].push(measured[name] / measured.raw);
    }
  }
  const row = { alg };
  for (const name of Object.keys(contenders)) {
    row[name] = median(samples[name]);
    row[`${name}VsRaw`] = median(ratios[name]);
  }
  return row;
}

/**
 * A server of the HTTP comparison, in its own child process (bench/lib.mjs `compareHttp`):
 * `gatehouse` (with a token issued by its own /auth/login) or `bare` (a default Fastify route
 * answering 200, as in bench/apikey-verify.mjs).
 */
async function serve(kind) {
  if (kind === 'bare') {
    const bare = Fastify();
    bare.get('/bare', (_request, reply) => reply.code(200).send());
    await bare.listen({ host: '127.0.0.1', port: 0 });
    reportUsage(bare.server);
    process.send({ url: `http://127.0.0.1:${bare.server.address().port}/bare` });
    process.on('disconnect', () => bare.close().then(() => process.exit(0)));
    return;
  }
  const gatehouse = await startBenchGatehouse({ discardLogs: true });
  const { running } = gatehouse;
  const created = await running.services.users.create(
    { username: 'bench', password: 'bench password 0123', scopes: ['read'] },
    'bench',
  );
  if (!created.ok) throw new Error(`cannot create the bench user: ${JSON.stringify(created)}`);
  const login = await fetch(`${running.urls.public}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'bench', password: 'bench password 0123' }),
  });
  const { access_token: token } = await login.json();
  reportUsage(running.apps.public.server);
  process.send({ url: `${running.urls.public}/auth/verify`, token });
  process.on('disconnect', () => gatehouse.stop().then(() => process.exit(0)));
}

/** `/auth/verify` with a repeated JWT against a bare Fastify route, fresh processes each round. */
async function measureHttp() {
  const script = fileURLToPath(import.meta.url);
  const results = await compareHttp({
    rounds: HTTP_ROUNDS,
    duration: HTTP_SECONDS,
    connections: 50,
    startRound: async () => {
      const verify = await forkServer(script, 'gatehouse');
      const headers = { authorization: `Bearer ${verify.token}` };
      const check = await fetch(verify.url, { headers });
      if (check.status !== 200) throw new Error(`/auth/verify answered ${check.status}`);
      return { bare: await forkServer(script, 'bare'), verify: { ...verify, headers } };
    },
  });
  return { ...results, roundRatio: roundRatio(results, 'verify', 'bare') };
}

async function main() {
  const fmt = (value) => Math.round(value).toLocaleString('en-US');
  const ratio = (a, b) => (a / b).toFixed(2);

  const rows = [];
  for (const alg of ['ES256', 'EdDSA', 'RS256', 'HS256']) rows.push(await measureAlgorithm(alg));
  console.log(
    `\nJWT verification, ops/s (median of ${ROUNDS} interleaved rounds, ${SECONDS}s per contender, ${TOKENS} distinct tokens cycled; Node ${process.version})\n`,
  );
  console.log(
    [
      'alg',
      'raw crypto',
      'gatehouse',
      'vs raw',
      'verifyJwt async',
      'vs raw',
      'jose',
      'vs raw',
      'fast-jwt',
      'vs raw',
      'fast-jwt cache',
      'vs raw',
    ]
      .map((cell) => cell.padStart(16))
      .join(''),
  );
  for (const row of rows) {
    console.log(
      [
        row.alg,
        fmt(row.raw),
        fmt(row.ours),
        row.oursVsRaw.toFixed(2),
        fmt(row.oursAsync),
        row.oursAsyncVsRaw.toFixed(2),
        fmt(row.jose),
        row.joseVsRaw.toFixed(2),
        fmt(row.fastJwt),
        row.fastJwtVsRaw.toFixed(2),
        fmt(row.fastJwtCache),
        row.fastJwtCacheVsRaw.toFixed(2),
      ]
        .map((cell) => String(cell).padStart(16))
        .join(''),
    );
  }

  const http = await measureHttp();
  console.log(
    `\nHTTP, requests/s (autocannon, 50 connections, median of ${HTTP_ROUNDS} rounds × ${HTTP_SECONDS}s, fresh processes each round)\n`,
  );
  console.log(
    `  bare Fastify route           ${fmt(http.bare.rps)}   p99 ${http.bare.p99_ms} ms   ${http.bare.cpu_us_per_request} µs CPU/request`,
  );
  console.log(
    `  /auth/verify, repeated JWT   ${fmt(http.verify.rps)}   p99 ${http.verify.p99_ms} ms   ${http.verify.cpu_us_per_request} µs CPU/request   (${ratio(http.verify.rps, http.bare.rps)}× bare; round by round ${http.roundRatio.ratios.map((r) => r.toFixed(2)).join(', ')}, median ${http.roundRatio.median.toFixed(2)})`,
  );

  writeResults('jwt-verify', { node: process.version, seconds: SECONDS, rows, http });
}

const serveIndex = process.argv.indexOf('--serve');
if (serveIndex > 0) await serve(process.argv[serveIndex + 1]);
else await main();
