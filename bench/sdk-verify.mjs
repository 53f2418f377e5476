#!/usr/bin/env node
/**
 * @gatehouse/sdk verification speed (issue 8), everything in the same run on the same tokens:
 *
 * 1. per algorithm (ES256, EdDSA, RS256, HS256), ops/s of
 *    - raw `node:crypto` (`crypto.verify` / HMAC over the signing input): the baseline;
 *    - the SDK's `verifier.verify(token)` on first sight (cache off, distinct tokens): target ≥ 0.8× raw;
 *    - the SDK's WebCrypto verifier (`@gatehouse/sdk/fetch`) on first sight, for information;
 *    - jose `jwtVerify`; fast-jwt without cache;
 *    - a repeated token: fast-jwt with its cache (default, hashed keys) and the SDK with its
 *      verified-token cache: target SDK ≥ fast-jwt's cache.
 * 2. HTTP (autocannon): a Fastify route behind the SDK's plugin with a repeated token, next to the
 *    same route without it.
 *
 * Run after `npm run build`: `node bench/sdk-verify.mjs [--slice 0.1] [--rounds 15] [--http-seconds 3]`.
 * Cells are measured in interleaved slices and the median counts (see ROUNDS).
 * Prints a table and writes bench/results/sdk-verify-<time>.json.
 */
import autocannon from 'autocannon';
import { createVerifier as createFastJwtVerifier } from 'fast-jwt';
import Fastify from 'fastify';
import { exportJWK, jwtVerify } from 'jose';
import { createVerifier as createWebCryptoVerifier } from '../packages/sdk/dist/fetch.js';
import { createVerifier } from '../packages/sdk/dist/index.js';
import { gatehouse } from '../packages/sdk/dist/middleware/fastify.js';
import { AUDIENCE, ISSUER, keysFor, rawVerifier, signTokens } from './jwt-fixtures.mjs';
import { argument, median, writeResults } from './lib.mjs';

/** Length of one measurement slice, seconds. */
const SLICE = argument('slice', 0.1);
/**
 * Every cell is measured in this many slices, interleaved with the other cells of its row, and the
 * median slice counts: on a shared machine a neighbour's burst of CPU then hits every cell alike
 * instead of deciding a ratio.
 */
const ROUNDS = argument('rounds', 15);
const HTTP_SECONDS = argument('http-seconds', 3);
const TOKENS = 512;

/** Runs `step(i)` (sync or async) for `seconds`; answers operations per second. */
async function rate(step, seconds = SLICE) {
  const end = performance.now() + seconds * 1000;
  let count = 0;
  const start = performance.now();
  while (performance.now() < end) {
    for (let j = 0; j < 100; j++) await step(count++);
  }
  return count / ((performance.now() - start) / 1000);
}

async function measureAlgorithm(alg) {
  const keys = keysFor(alg);
  const kid = `bench-${alg.toLowerCase()}`;
  const tokens = await signTokens(alg, keys, kid, TOKENS);
  const raw = rawVerifier(alg, keys, tokens);
  const sdkKeys =
    alg === 'HS256'
      ? { secret: { secret: new Uint8Array(keys.secret), kid } }
      : { keys: [{ ...(await exportJWK(keys.publicKey)), kid, alg }] };
  const common = { issuer: ISSUER, audience: AUDIENCE, ...sdkKeys };
  const firstSight = createVerifier({ ...common, cacheSize: 0 });
  const webFirstSight = createWebCryptoVerifier({ ...common, cacheSize: 0 });
  const cached = createVerifier(common);
  const must = async (promise) => {
    const identity = await promise;
    if (!identity.subject) throw new Error('no subject');
  };
  const joseKey = alg === 'HS256' ? keys.secret : keys.publicKey;
  const fastOptions = {
    key: alg === 'HS256' ? keys.secret : keys.pem,
    algorithms: [alg],
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
  };
  const fastNoCache = createFastJwtVerifier({ ...fastOptions, cache: false });
  const fastCache = createFastJwtVerifier({ ...fastOptions, cache: TOKENS * 2 });
  const one = tokens[0];

  const cells = {
    raw,
    sdkFirstSight: (i) => must(firstSight.verify(tokens[i % TOKENS])),
    sdkWebCryptoFirstSight: (i) => must(webFirstSight.verify(tokens[i % TOKENS])),
    jose: (i) =>
      jwtVerify(tokens[i % TOKENS], joseKey, { issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt', algorithms: [alg] }),
    fastJwt: (i) => fastNoCache(tokens[i % TOKENS]),
    fastJwtCacheRepeated: () => fastCache(one),
    sdkCacheRepeated: () => must(cached.verify(one)),
    // The same caches over 512 tokens in turn (all hits after the first round).
    fastJwtCacheCycled: (i) => fastCache(tokens[i % TOKENS]),
    sdkCacheCycled: (i) => must(cached.verify(tokens[i % TOKENS])),
  };
  for (const step of Object.values(cells)) for (let i = 0; i < 500; i++) await step(i); // warm-up
  const samples = Object.fromEntries(Object.keys(cells).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, step] of Object.entries(cells)) samples[name].push(await rate(step));
  }
  const row = { alg };
  for (const [name, values] of Object.entries(samples)) row[name] = median(values);
  return row;
}

/** A Fastify route behind the SDK plugin (repeated token) next to the same route bare. */
async function measureHttp() {
  const keys = keysFor('ES256');
  const kid = 'bench-http';
  const [token] = await signTokens('ES256', keys, kid, 1);
  const verifier = createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: [{ ...(await exportJWK(keys.publicKey)), kid, alg: 'ES256' }],
  });
  const start = async (protect) => {
    const app = Fastify();
    if (protect) await app.register(gatehouse, { verifier });
    app.get('/orders', async (request) => ({ user: request.auth?.subject ?? null }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    return { app, url: `http://127.0.0.1:${app.server.address().port}/orders` };
  };
  const bare = await start(false);
  const protectedApp = await start(true);
  const check = await fetch(protectedApp.url, { headers: { authorization: `Bearer ${token}` } });
  if (check.status !== 200) throw new Error(`protected route answered ${check.status}`);
  const load = (url, headers = {}) =>
    autocannon({ url, connections: 50, pipelining: 1, duration: HTTP_SECONDS, headers });
  // Alternate three times, so that neither side always runs on a warmer (or busier) machine.
  const bareRuns = [];
  const sdkRuns = [];
  for (let round = 0; round < 3; round++) {
    bareRuns.push(await load(bare.url));
    sdkRuns.push(await load(protectedApp.url, { authorization: `Bearer ${token}` }));
  }
  await bare.app.close();
  await protectedApp.app.close();
  return {
    bare: median(bareRuns.map((run) => run.requests.average)),
    sdk: median(sdkRuns.map((run) => run.requests.average)),
    sdkNon2xx: sdkRuns.reduce((sum, run) => sum + run.non2xx, 0),
    sdkP99Ms: median(sdkRuns.map((run) => run.latency.p99)),
    bareP99Ms: median(bareRuns.map((run) => run.latency.p99)),
  };
}

const fmt = (value) => Math.round(value).toLocaleString('en-US');
const ratio = (a, b) => (a / b).toFixed(2);

const rows = [];
for (const alg of ['ES256', 'EdDSA', 'RS256', 'HS256']) rows.push(await measureAlgorithm(alg));

console.log(
  `\nFirst sight, ops/s (median of ${ROUNDS} interleaved ${SLICE}s slices per cell, ${TOKENS} distinct tokens cycled, caches off; Node ${process.version})\n`,
);
/** Prints a table: a header row, then one row per algorithm, cells right-aligned. */
function table(width, header, cells) {
  console.log(header.map((cell) => cell.padStart(width)).join(''));
  for (const row of rows) console.log([row.alg, ...cells(row)].map((cell) => String(cell).padStart(width)).join(''));
}
/** A figure, then its ratio to the baseline. */
const against = (value, baseline) => [fmt(value), ratio(value, baseline)];

table(
  14,
  ['alg', 'raw crypto', 'SDK', 'vs raw', 'SDK WebCrypto', 'vs raw', 'jose', 'vs raw', 'fast-jwt', 'vs raw'],
  (row) => [
    fmt(row.raw),
    ...against(row.sdkFirstSight, row.raw),
    ...against(row.sdkWebCryptoFirstSight, row.raw),
    ...against(row.jose, row.raw),
    ...against(row.fastJwt, row.raw),
  ],
);
console.log('\nSeen before (verified-token caches), ops/s\n');
table(15, ['alg', 'fast-jwt 1 tok', 'SDK 1 tok', 'vs fast-jwt', 'fast-jwt 512', 'SDK 512', 'vs fast-jwt'], (row) => [
  fmt(row.fastJwtCacheRepeated),
  ...against(row.sdkCacheRepeated, row.fastJwtCacheRepeated),
  fmt(row.fastJwtCacheCycled),
  ...against(row.sdkCacheCycled, row.fastJwtCacheCycled),
]);

const http = await measureHttp();
console.log(`\nHTTP, requests/s (autocannon, 50 connections, median of 3 alternated ${HTTP_SECONDS}s runs)\n`);
console.log(`  bare Fastify route                      ${fmt(http.bare)}   p99 ${http.bareP99Ms} ms`);
console.log(
  `  same route behind the SDK plugin (JWT)  ${fmt(http.sdk)}   p99 ${http.sdkP99Ms} ms   (${ratio(http.sdk, http.bare)}× bare; non-2xx ${http.sdkNon2xx})`,
);

writeResults('sdk-verify', { node: process.version, slice: SLICE, rounds: ROUNDS, rows, http });
