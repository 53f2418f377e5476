/**
 * What the JWT benchmarks (jwt-verify.mjs, sdk-verify.mjs) share: keys per algorithm, a set of
 * distinct access tokens signed with them, and the baseline — raw `node:crypto` over each token's
 * signing input, with the signature already decoded.
 */
import { createHmac, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { SignJWT } from 'jose';

export const ISSUER = 'https://auth.bench.test';
export const AUDIENCE = 'https://api.bench.test';

/** `{ secret }` for HS256; `{ publicKey, privateKey, pem }` otherwise. */
export function keysFor(alg) {
  if (alg === 'HS256') return { secret: randomBytes(32) };
  const type = { ES256: 'ec', EdDSA: 'ed25519', RS256: 'rsa' }[alg];
  const { publicKey, privateKey } = generateKeyPairSync(
    type,
    type === 'ec' ? { namedCurve: 'P-256' } : { modulusLength: 2048 },
  );
  return { publicKey, privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }) };
}

/** `count` distinct RFC 9068 access tokens (`typ: at+jwt`), valid for an hour. */
export async function signTokens(alg, keys, kid, count) {
  const now = Math.floor(Date.now() / 1000);
  const tokens = [];
  for (let i = 0; i < count; i++) {
    tokens.push(
      await new SignJWT({ client_id: 'cli_bench', scope: 'read write', jti: `jti-${i}` })
        .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject(`usr_${i}`)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + 3600)
        .sign(alg === 'HS256' ? keys.secret : keys.privateKey),
    );
  }
  return tokens;
}

/** The baseline: `step(i)` verifies token `i` (cycled) with `crypto.verify` or an HMAC, nothing else. */
export function rawVerifier(alg, keys, tokens) {
  const parts = tokens.map((token) => {
    const dot = token.lastIndexOf('.');
    return { input: Buffer.from(token.slice(0, dot)), signature: Buffer.from(token.slice(dot + 1), 'base64url') };
  });
  const at = (i) => parts[i % parts.length];
  return {
    ES256: (i) => {
      const p = at(i);
      return verify('sha256', p.input, { key: keys.publicKey, dsaEncoding: 'ieee-p1363' }, p.signature);
    },
    EdDSA: (i) => {
      const p = at(i);
      return verify(null, p.input, keys.publicKey, p.signature);
    },
    RS256: (i) => {
      const p = at(i);
      return verify('sha256', p.input, keys.publicKey, p.signature);
    },
    HS256: (i) => {
      const p = at(i);
      return createHmac('sha256', keys.secret).update(p.input).digest().equals(p.signature);
    },
  }[alg];
}
