/**
 * Unit tests of the verification core beyond the shared vectors: key/algorithm pinning, options,
 * asynchronous key lookup, and the memoised header checks.
 */
import { createSecretKey, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  tokenVectors,
  vectorKeyObjects,
  vectorSet,
  vectorVerifyOptions,
} from '../../../../test/vectors/jwt/vectors.js';
import { decodeJwtUnverified, type VerificationKey, verifyJwt } from '../../src/jwt/index.js';

const keys = vectorKeyObjects();
const base = vectorVerifyOptions;
const vector = (name: string) => {
  const found = tokenVectors.find((entry) => entry.name === name);
  if (!found) throw new Error(`no vector ${name}`);
  return found.token;
};
const es256Kid = () => [...keys.values()].find((key) => key.alg === 'ES256')?.kid as string;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('verifyJwt', () => {
  it('refuses HS256 when the trusted key is asymmetric, even if the caller mislabels it (docs/security.md #2)', async () => {
    const es = keys.get(es256Kid()) as VerificationKey;
    // A verifier misconfigured to treat the ES256 public key as an HS256 key still refuses.
    const mislabelled: VerificationKey = { kid: es.kid, alg: 'HS256', key: es.key };
    const result = await verifyJwt(vector('hs256-es256-public-key-as-secret'), () => mislabelled, base);
    expect(result).toMatchObject({ ok: false, code: 'ERR_JWT_ALG_NOT_ALLOWED' });
  });

  it('refuses keys too weak for their algorithm (docs/security.md #10)', async () => {
    const short = createSecretKey(Buffer.alloc(16, 1));
    const hs = [...keys.values()].find((key) => key.alg === 'HS256') as VerificationKey;
    const result = await verifyJwt(vector('valid-hs256'), () => ({ ...hs, key: short }), base);
    expect(result).toMatchObject({ ok: false, code: 'ERR_JWT_ALG_NOT_ALLOWED' });

    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const header = b64({ alg: 'RS256', kid: 'weak-rsa', typ: 'at+jwt' });
    const payload = b64({ iss: base.issuer, aud: base.audience, exp: vectorSet.now + 60 });
    const signature = sign('sha256', Buffer.from(`${header}.${payload}`), privateKey).toString('base64url');
    const weak = await verifyJwt(
      `${header}.${payload}.${signature}`,
      () => ({ kid: 'weak-rsa', alg: 'RS256', key: publicKey }),
      base,
    );
    expect(weak).toMatchObject({ ok: false, code: 'ERR_JWT_ALG_NOT_ALLOWED' });
  });

  it('accepts an asynchronous key lookup and reports an unknown kid from it', async () => {
    const ok = await verifyJwt(vector('valid-es256'), async (kid) => keys.get(kid), base);
    expect(ok.ok).toBe(true);
    const unknown = await verifyJwt(vector('valid-es256'), async () => undefined, base);
    expect(unknown).toMatchObject({ ok: false, code: 'ERR_JWT_UNKNOWN_KID' });
  });

  it('judges the same header against each caller’s own types (memoised checks stay per-options)', async () => {
    const token = vector('valid-es256');
    expect((await verifyJwt(token, (kid) => keys.get(kid), base)).ok).toBe(true);
    const other = await verifyJwt(token, (kid) => keys.get(kid), { ...base, types: ['id_token+jwt'] });
    expect(other).toMatchObject({ ok: false, code: 'ERR_JWT_TYPE' });
    expect((await verifyJwt(token, (kid) => keys.get(kid), base)).ok).toBe(true);
  });

  it('checks audience lists and required claims', async () => {
    const token = vector('valid-es256');
    const lookup = (kid: string) => keys.get(kid);
    expect((await verifyJwt(token, lookup, { ...base, audience: ['x', vectorSet.audience] })).ok).toBe(true);
    expect(await verifyJwt(token, lookup, { ...base, audience: ['x', 'y'] })).toMatchObject({
      code: 'ERR_JWT_AUDIENCE',
    });
    expect((await verifyJwt(token, lookup, { ...base, requiredClaims: ['sub', 'jti', 'client_id'] })).ok).toBe(true);
    expect(await verifyJwt(token, lookup, { ...base, requiredClaims: ['azp'] })).toMatchObject({
      code: 'ERR_JWT_CLAIM_MISSING',
      message: 'The token has no "azp" claim',
    });
  });

  it('applies the leeway exactly and refuses a leeway above five minutes (docs/security.md #8)', async () => {
    const token = vector('valid-es256');
    const lookup = (kid: string) => keys.get(kid);
    const exp = (decodeJwtUnverified(token) as unknown as { claims: { exp: number } }).claims.exp;
    const at = (seconds: number) => () => seconds * 1000;
    expect((await verifyJwt(token, lookup, { ...base, leewaySeconds: 0, now: at(exp - 1) })).ok).toBe(true);
    expect(await verifyJwt(token, lookup, { ...base, leewaySeconds: 0, now: at(exp) })).toMatchObject({
      code: 'ERR_JWT_EXPIRED',
    });
    expect((await verifyJwt(token, lookup, { ...base, leewaySeconds: 10, now: at(exp + 9) })).ok).toBe(true);
    await expect(verifyJwt(token, lookup, { ...base, leewaySeconds: 301 })).rejects.toThrow(RangeError);
  });

  it('caps the length before decoding, with a configurable limit (docs/security.md #12)', async () => {
    const token = vector('valid-es256');
    const lookup = (kid: string) => keys.get(kid);
    expect(await verifyJwt(token, lookup, { ...base, maxTokenLength: token.length - 1 })).toMatchObject({
      code: 'ERR_JWT_TOO_LARGE',
    });
    expect((await verifyJwt(token, lookup, { ...base, maxTokenLength: token.length })).ok).toBe(true);
  });

  it('does not call the key lookup for structurally bad tokens (a token never triggers a fetch)', async () => {
    let calls = 0;
    const lookup = (kid: string): VerificationKey | undefined => {
      calls++;
      return keys.get(kid);
    };
    for (const name of ['alg-none', 'jku-elsewhere', 'kid-path-traversal', 'crit-unknown', 'segments-padded']) {
      await verifyJwt(vector(name), lookup, base);
    }
    expect(calls).toBe(0);
  });

  it('returns frozen headers from its memo so one caller cannot alter another’s view', async () => {
    const result = await verifyJwt(vector('valid-eddsa'), (kid) => keys.get(kid), base);
    expect(result.ok && Object.isFrozen(result.header)).toBe(true);
  });
});

describe('decodeJwtUnverified', () => {
  it('decodes header and claims with the same strictness, without a key', () => {
    const decoded = decodeJwtUnverified(vector('expired'));
    expect(decoded).toMatchObject({ ok: true, header: { alg: 'ES256', typ: 'at+jwt' }, claims: { sub: 'usr_alice' } });
    expect(decodeJwtUnverified(vector('duplicate-claim-sub'))).toMatchObject({ ok: false, code: 'ERR_JWT_MALFORMED' });
    expect(decodeJwtUnverified('a.b')).toMatchObject({ ok: false, code: 'ERR_JWT_MALFORMED' });
  });
});
