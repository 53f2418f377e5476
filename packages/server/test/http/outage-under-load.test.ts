/**
 * Fail closed under load (docs/security.md #35; the store-outage decision at the top of docs/security.md):
 * concurrent /auth/verify traffic — API keys, JWTs and Basic, each cached, uncached, revoked,
 * unknown or invalid — while the PostgreSQL behind a TCP forwarder is cut for several seconds and
 * restored. Guarantees: no 2xx for anything that could not be verified (a revoked, unknown or
 * invalid credential never, an uncached one not while the store is away), no 5xx but 503, and
 * recovery without a restart (credentials never seen before verify again within seconds).
 * The outage is real; the load is a bounded loop of concurrent keep-alive requests.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumOf } from '../../src/core/apikeys/key-format.js';
import { issueKey } from '../support/api-keys.js';
import { basicHeader, createUser } from '../support/basic.js';
import { postgresBaseUrl } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { postgresBehindProxy } from '../support/tcp-proxy.js';

const CONCURRENCY = 8;
const OUTAGE_MS = 4000;
const RECOVERY_DEADLINE_MS = 8000;

type Phase = 'before' | 'outage' | 'after';

interface Credential {
  readonly label: string;
  /** `verifiable`: may be 2xx when the store is up; `never`: must never be 2xx. */
  readonly expect: 'verifiable' | 'never';
  /** Never verified before the outage: must not be 2xx while the store is away. */
  readonly uncached: boolean;
  readonly headers: Record<string, string>;
  /** Where the request comes from (the Basic throttle counts per client address). */
  readonly localAddress?: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });

function verifyStatus(server: TestServer, credential: Credential): Promise<number> {
  const url = new URL(`${server.publicUrl}/auth/verify`);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        headers: credential.headers,
        agent: credential.localAddress ? undefined : agent,
        ...(credential.localAddress ? { localAddress: credential.localAddress } : {}),
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end();
  });
}

const neverIssuedKey = (): string => {
  const body = `gk_${'Z'.repeat(43)}`;
  return body + checksumOf(body);
};

describe.skipIf(!postgresBaseUrl)('store outage under load (PostgreSQL behind a cut TCP forwarder)', () => {
  let behindProxy: Awaited<ReturnType<typeof postgresBehindProxy>>;
  let server: TestServer;
  const credentials: Credential[] = [];
  /** Valid credentials first presented after the store is back: recovery is measured on these. */
  const fresh: Credential[] = [];

  beforeAll(async () => {
    behindProxy = await postgresBehindProxy();
    server = await startTestServer('postgres', {
      databaseUrl: behindProxy.serverUrl,
      // Basic over plain HTTP from loopback clients, as a sidecar would send it.
      env: { GATEHOUSE_DATABASE_CONNECT_TIMEOUT: '1s', GATEHOUSE_BASIC_ALLOW_INSECURE_LOOPBACK: 'true' },
    });
    const key = async (name: string) => (await issueKey(server, { name })).key;
    const users = {
      carol: { username: 'carol', password: 'carol-password-1' },
      dave: { username: 'dave', password: 'dave-password-1' },
      erin: { username: 'erin', password: 'erin-password-1' },
      frank: { username: 'frank', password: 'frank-password-1' },
    };
    for (const user of Object.values(users)) await createUser(server, user);
    const login = async (user: { username: string; password: string }) => {
      const response = await fetch(`${server.publicUrl}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(user),
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { access_token: string }).access_token;
    };

    const cachedKey = await key('cached');
    const revokedKey = await issueKey(server, { name: 'revoked' });
    const cachedJwt = await login(users.carol);
    const revokedJwt = await login(users.carol);
    const revokedJti = JSON.parse(Buffer.from(revokedJwt.split('.')[1] as string, 'base64url').toString()).jti;
    const forgedJwt = `${cachedJwt.slice(0, -4)}${cachedJwt.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;

    // Refused API keys and tokens come from an address of their own (127.0.0.4), as an attacker's
    // would: the verification failure budget they spend then holds back only them (docs/security.md).
    credentials.push(
      { label: 'cached API key', expect: 'verifiable', uncached: false, headers: { 'x-api-key': cachedKey } },
      {
        label: 'uncached API key',
        expect: 'verifiable',
        uncached: true,
        headers: { 'x-api-key': await key('uncached') },
      },
      {
        label: 'revoked API key',
        expect: 'never',
        uncached: false,
        headers: { 'x-api-key': revokedKey.key },
        localAddress: '127.0.0.4',
      },
      {
        label: 'unknown API key',
        expect: 'never',
        uncached: false,
        headers: { 'x-api-key': neverIssuedKey() },
        localAddress: '127.0.0.4',
      },
      {
        label: 'API key with a bad checksum',
        expect: 'never',
        uncached: false,
        headers: { 'x-api-key': `${cachedKey.slice(0, -1)}0` },
        localAddress: '127.0.0.4',
      },
      { label: 'cached JWT', expect: 'verifiable', uncached: false, headers: { authorization: `Bearer ${cachedJwt}` } },
      {
        label: 'revoked JWT',
        expect: 'never',
        uncached: false,
        headers: { authorization: `Bearer ${revokedJwt}` },
        localAddress: '127.0.0.4',
      },
      {
        label: 'JWT with a bad signature',
        expect: 'never',
        uncached: false,
        headers: { authorization: `Bearer ${forgedJwt}` },
        localAddress: '127.0.0.4',
      },
      {
        label: 'cached Basic',
        expect: 'verifiable',
        uncached: false,
        headers: { authorization: basicHeader('carol', users.carol.password) },
      },
      {
        label: 'uncached Basic',
        expect: 'verifiable',
        uncached: true,
        headers: { authorization: basicHeader('dave', users.dave.password) },
      },
      // Wrong guesses come from their own address, so that the throttle they earn holds back only them.
      {
        label: 'Basic with a wrong password',
        expect: 'never',
        uncached: false,
        headers: { authorization: basicHeader('erin', 'not-erins-password') },
        localAddress: '127.0.0.3',
      },
      {
        label: 'Basic for an unknown user',
        expect: 'never',
        uncached: false,
        headers: { authorization: basicHeader('nobody', 'whatever-password') },
        localAddress: '127.0.0.3',
      },
    );
    fresh.push(
      {
        label: 'API key first seen after the outage',
        expect: 'verifiable',
        uncached: true,
        headers: { 'x-api-key': await key('fresh') },
      },
      {
        label: 'Basic first seen after the outage',
        expect: 'verifiable',
        uncached: true,
        headers: { authorization: basicHeader('frank', users.frank.password) },
      },
      {
        label: 'JWT issued before, first seen after the outage',
        expect: 'verifiable',
        uncached: true,
        headers: { authorization: `Bearer ${await login(users.erin)}` },
      },
    );

    // Warm what is meant to be cached, then revoke (a revoked credential was valid once).
    for (const credential of credentials.filter((c) => c.expect === 'verifiable' && !c.uncached)) {
      expect(await verifyStatus(server, credential), credential.label).toBe(200);
    }
    expect(await verifyStatus(server, credentials[2] as Credential)).toBe(200);
    expect((await server.admin('DELETE', `/admin/v1/api-keys/${revokedKey.id}`)).status).toBe(204);
    expect((await server.admin('POST', '/admin/v1/tokens/revoke', { jti: revokedJti })).status).toBe(200);
  });

  afterAll(async () => {
    await behindProxy?.proxy.restore().catch(() => {});
    await server?.stop();
    await behindProxy?.drop();
    agent.destroy();
  });

  it('never answers 2xx for what it could not verify, nor 5xx but 503, and recovers without a restart', async () => {
    const seen = new Map<string, Map<number, number>>();
    const violations: string[] = [];
    let phase: Phase = 'before';
    let running = true;
    let sent = 0;

    const note = (credential: Credential, status: number, startedIn: Phase, endedIn: Phase) => {
      const key = `${credential.label} [${startedIn}]`;
      const counts = seen.get(key) ?? new Map<number, number>();
      counts.set(status, (counts.get(status) ?? 0) + 1);
      seen.set(key, counts);
      const ok = status >= 200 && status < 300;
      if (status >= 500 && status !== 503) violations.push(`${credential.label}: ${status} (${startedIn})`);
      if (ok && credential.expect === 'never') violations.push(`${credential.label}: ${status} (${startedIn})`);
      // Wholly inside the outage, a credential only the store can confirm is not confirmed.
      if (credential.uncached && startedIn === 'outage' && endedIn === 'outage' && status !== 503) {
        violations.push(`${credential.label}: ${status} during the outage (must be 503)`);
      }
    };

    const worker = async (offset: number) => {
      for (let i = offset; running; i++) {
        const credential = credentials[i % credentials.length] as Credential;
        const startedIn = phase;
        // Uncached means it: first presented once the store is away.
        if (credential.uncached && startedIn === 'before') continue;
        const status = await verifyStatus(server, credential);
        sent++;
        note(credential, status, startedIn, phase);
      }
    };

    const workers = Array.from({ length: CONCURRENCY }, (_, i) => worker(i * 3));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await behindProxy.proxy.cut();
    phase = 'outage';
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    phase = 'after';
    await behindProxy.proxy.restore();

    // Recovery: every valid credential, including ones never seen before, verifies again.
    const recovered = new Map<string, number>();
    const restoredAt = Date.now();
    while (recovered.size < fresh.length + 2 && Date.now() - restoredAt < RECOVERY_DEADLINE_MS) {
      for (const credential of [...fresh, ...credentials.filter((c) => c.uncached)]) {
        if (recovered.has(credential.label)) continue;
        const status = await verifyStatus(server, credential);
        note(credential, status, 'after', 'after');
        if (status === 200) recovered.set(credential.label, Date.now() - restoredAt);
      }
      if (recovered.size < fresh.length + 2) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    running = false;
    await Promise.all(workers);

    const summary = Object.fromEntries([...seen].map(([key, counts]) => [key, Object.fromEntries(counts)]));
    expect(violations, JSON.stringify(summary, null, 1)).toEqual([]);
    expect([...recovered.keys()].sort(), JSON.stringify(summary, null, 1)).toEqual(
      [...fresh, ...credentials.filter((c) => c.uncached)].map((c) => c.label).sort(),
    );
    // The load reached the outage: uncached credentials were refused with 503 while it lasted.
    expect(seen.get('uncached API key [outage]')?.get(503) ?? 0, JSON.stringify(summary, null, 1)).toBeGreaterThan(0);
    expect(seen.get('uncached Basic [outage]')?.get(503) ?? 0, JSON.stringify(summary, null, 1)).toBeGreaterThan(0);
    expect(sent).toBeGreaterThan(200);
  });
});
