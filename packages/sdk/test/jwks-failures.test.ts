/**
 * A JWKS endpoint that misbehaves, on a real local HTTP server: garbage, an HTML page, a private
 * key, 10 MB, a hang, a 5xx, a redirect, an empty set. Each time the verifier fails closed (503,
 * never an allow: docs/security.md #35) with a clear error naming the cause, within its deadline; while
 * it backs off it answers at once without asking again; and it recovers when the endpoint does.
 * Cached keys keep working through a brief outage, and stop after `jwksMaxStale`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVerifier, type KeySetEvent, RemoteDocumentError, VerifierUnavailableError } from '../src/index.js';
import { type JwksMode, startIssuer, type TestIssuer } from './support/issuer.js';
import { refusal } from './support/refusal.js';

let issuer: TestIssuer;
let now: number;
const clock = () => now;

beforeEach(async () => {
  issuer = await startIssuer();
  now = Date.now();
});
afterEach(async () => issuer.close());

const cases: Array<{ mode: JwksMode; code: string; message: RegExp }> = [
  { mode: 'garbage', code: 'ERR_REMOTE_INVALID_JSON', message: /not valid UTF-8 JSON/ },
  { mode: 'html', code: 'ERR_REMOTE_CONTENT_TYPE', message: /an HTML page \(text\/html\), expected JSON/ },
  { mode: 'private-key', code: 'ERR_JWKS_PRIVATE_KEY', message: /private key material \("d"\).*whole set is refused/ },
  { mode: 'huge', code: 'ERR_REMOTE_TOO_LARGE', message: /exceeds the 262144-byte limit/ },
  { mode: 'hang', code: 'ERR_REMOTE_TIMEOUT', message: /no complete answer within 300 ms/ },
  { mode: 'error', code: 'ERR_REMOTE_STATUS', message: /answered HTTP 502/ },
  { mode: 'redirect', code: 'ERR_REMOTE_REDIRECT', message: /redirects to .*\/elsewhere/ },
  { mode: 'empty', code: 'ERR_JWKS_NO_USABLE_KEYS', message: /no usable signature verification key/ },
];

describe('a JWKS endpoint that misbehaves', () => {
  it.each(cases)('$mode: fails closed with $code, backs off, and recovers', async ({ mode, code, message }) => {
    issuer.jwksMode = mode;
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience, clock, timeout: 300 });
    const token = await issuer.sign();

    const error = await refusal(verifier.verify(token));
    expect(error).toBeInstanceOf(VerifierUnavailableError);
    expect(error).toMatchObject({ status: 503, error: 'temporarily_unavailable', code });
    expect(error.message).toMatch(message);
    expect(error.message).toContain('/jwks');
    expect(error.cause).toBeInstanceOf(RemoteDocumentError);
    // The caller is told to come back, not why (the operator reads error.message in the log).
    expect(error.description).toBe('Credentials cannot be verified right now; try again shortly');
    await expect(verifier.ready()).rejects.toMatchObject({ code });
    expect(issuer.count('/jwks')).toBe(1);

    // During the backoff the same answer comes at once, without asking the endpoint again.
    const again = await refusal(verifier.verify(await issuer.sign()));
    expect(again.code).toBe(code);
    expect(issuer.count('/jwks')).toBe(1);

    // The endpoint recovers; after the backoff (1 s) the verifier does too.
    issuer.jwksMode = 'ok';
    now += 1000;
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'usr_alice' });
    expect(issuer.count('/jwks')).toBe(2);
  });

  it('backs off exponentially while the endpoint stays down (1 s, 2 s, 4 s …)', async () => {
    issuer.jwksMode = 'error';
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience, clock });
    const token = await issuer.sign();
    await refusal(verifier.verify(token));
    now += 1000;
    await refusal(verifier.verify(token));
    expect(issuer.count('/jwks')).toBe(2);
    now += 1999;
    await refusal(verifier.verify(token));
    expect(issuer.count('/jwks')).toBe(2);
    now += 1;
    const error = await refusal(verifier.verify(token));
    expect(issuer.count('/jwks')).toBe(3);
    expect((error as VerifierUnavailableError).retryAfter).toBe(4);
  });

  it('keeps verifying from cached keys while the issuer is briefly unreachable, then fails closed after jwksMaxStale', async () => {
    const events: KeySetEvent[] = [];
    const verifier = createVerifier({
      issuer: issuer.url,
      audience: issuer.audience,
      clock,
      jwksMaxStale: 3_600_000,
      timeout: 300,
      onEvent: (event) => events.push(event),
    });
    await verifier.ready();
    issuer.jwksMode = 'error';
    // Past freshness (600 s): the refresh fails in the background; cached keys answer meanwhile.
    now += 700_000;
    await expect(verifier.verify(await issuer.sign({}, { now }))).resolves.toMatchObject({ subject: 'usr_alice' });
    while (!events.some((event) => event.type === 'jwks_refresh_failed')) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(events.find((event) => event.type === 'jwks_refresh_failed')).toMatchObject({ servingCachedKeys: true });
    now += 1_000_000;
    await expect(verifier.verify(await issuer.sign({}, { now }))).resolves.toMatchObject({ subject: 'usr_alice' });
    // Past freshness + maxStale: the keys are dropped, and so are the tokens they verified.
    now += 3_000_000;
    const late = await issuer.sign({}, { now });
    expect((await refusal(verifier.verify(late))).status).toBe(503);
    expect(events.map((event) => event.type)).toContain('jwks_expired');
  });

  it('never lets a token pick where keys come from (jku, x5u, jwk are refused; no fetch) — docs/security.md #3', async () => {
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience, clock });
    await verifier.ready();
    const before = issuer.requests.length;
    for (const header of [{ jku: `${issuer.url}/elsewhere` }, { x5u: `${issuer.url}/elsewhere` }]) {
      const error = await refusal(verifier.verify(await issuer.sign({}, { header })));
      expect(error.code).toBe('ERR_JWT_FORBIDDEN_HEADER');
    }
    expect(issuer.requests.length).toBe(before);
    expect(issuer.count('/elsewhere')).toBe(0);
  });
});
