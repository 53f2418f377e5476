/**
 * The shared JWT vectors (test/vectors/jwt, also replayed by the SDK core tests) replayed over
 * HTTP against a real server: the vector keys are put in the server's key store (as retired keys:
 * verify only), the HS256 secret is configured, the clock is the vectors' own, and each token is
 * presented to /auth/verify. Accepted vectors answer 200; every other one answers 401
 * `invalid_token` and the log names exactly the vector's error code (docs/security.md #1–#12).
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenVectors, vectorSet } from '../../../../test/vectors/jwt/vectors.js';
import { manualClock } from '../support/basic.js';
import { storeKinds } from '../support/databases.js';
import { rawRequest } from '../support/http.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe.each(storeKinds())('shared JWT vectors over /auth/verify on %s', (kind) => {
  let server: TestServer;
  const clock = manualClock(vectorSet.now * 1000);
  const hs256 = vectorSet.keys.find((key) => key.alg === 'HS256');

  beforeAll(async () => {
    server = await startTestServer(kind, {
      clock,
      env: {
        GATEHOUSE_ISSUER: vectorSet.issuer,
        GATEHOUSE_TOKENS_AUDIENCE: vectorSet.audience,
        GATEHOUSE_TOKENS_LEEWAY: `${vectorSet.leewaySeconds}s`,
        GATEHOUSE_TOKENS_MAX_LENGTH: String(vectorSet.maxTokenLength),
        GATEHOUSE_KEYS_HS256_SECRET: hs256?.secretHex ?? '',
      },
    });
    // Seed the published vector keys as verify-only keys, as an operator migrating keys would.
    const until = new Date(clock.now() + 365 * 86_400_000).toISOString();
    for (const key of vectorSet.keys) {
      if (!key.published || !key.publicJwk) continue;
      await server.running.services.store.db
        .insertInto('signing_keys')
        .values({
          kid: key.kid,
          alg: key.alg,
          state: 'retired',
          public_jwk: JSON.stringify(key.publicJwk),
          private_jwk_sealed: null,
          created_at: new Date(clock.now()).toISOString(),
          activates_at: null,
          activated_at: new Date(clock.now()).toISOString(),
          retired_at: new Date(clock.now()).toISOString(),
          delete_after: until,
        })
        .execute();
    }
    await server.running.services.tokens.keyRing.sync();
  });
  afterAll(async () => server?.stop());

  it.each(tokenVectors.map((vector) => [vector.name, vector] as const))('%s', async (name, vector) => {
    if (vector.token.length > 16 * 1024) {
      // Node refuses headers over 16 KB before any of our code runs (docs/security.md #12).
      expect(await oversizedRequestStatus(`${server.publicUrl}/auth/verify`, vector.token)).toBe(431);
      return;
    }
    const response = await rawRequest(`${server.publicUrl}/auth/verify`, {
      headers: [
        ['authorization', `Bearer ${vector.token}`],
        ['x-request-id', `vector-${name}`],
      ],
    });
    if (vector.expect === 'valid') {
      expect(response.status, vector.description).toBe(200);
      expect(response.headers['x-auth-method']).toBe('jwt');
      expect(response.headers['x-auth-subject']).toBe('usr_alice');
      return;
    }
    expect(response.status, vector.description).toBe(401);
    const line = server.logs.find(
      (entry) => entry.includes(`"request_id":"vector-${name}"`) && entry.includes('denied'),
    );
    if (vector.token.length === 0 || !vector.token.includes('.')) {
      // Not a JWT at all (no dots): no bearer JWT was presented.
      expect(line).toContain('"reason":"no_credentials"');
      return;
    }
    expect(response.json()).toMatchObject({ error: 'invalid_token' });
    expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="gatehouse", error="invalid_token"/);
    expect(line, `${vector.description} ${vector.security ?? ''}`).toContain(`"reason":"${vector.expect}"`);
  });
});

/** Sends an oversized Authorization header; the server answers 431 and resets while we still write. */
function oversizedRequestStatus(url: string, token: string): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        agent: false,
        headers: { authorization: `Bearer ${token}` },
      },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    // The reset after the answer is expected; before an answer it is a failure.
    request.on('error', (error) => reject(error));
    request.end();
  });
}
