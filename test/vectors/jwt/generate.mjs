#!/usr/bin/env node
/**
 * Generates the JWT test vectors that the SDK core tests, the server's black-box tests and the
 * differential test against jose all replay: `keys.json` (the trusted keys, with their private
 * parts so that the server can import them) and `tokens.json` (one token per case, with the error
 * code a verifier must answer). Run `node test/vectors/jwt/generate.mjs` from the repository root
 * after `npm install`; the output is committed, so every suite replays the same bytes.
 *
 * Well-formed tokens are signed with jose. Tokens jose refuses to produce (unknown `crit`,
 * duplicate names, invalid UTF-8, non-canonical base64url, alg confusion) are assembled here from
 * raw bytes and signed with node:crypto: they are attacks, and jose rightly will not make them.
 */
import { createHash, createHmac, createPrivateKey, createPublicKey, randomBytes, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';

const here = path.dirname(fileURLToPath(import.meta.url));
const NOW = 1_767_225_600; // 2026-01-01T00:00:00Z
const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'https://api.example.test';
const LEEWAY = 30;

const b64 = (value) => Buffer.from(value).toString('base64url');
const json = (value) => b64(JSON.stringify(value));

/** The kid Gatehouse derives for its configured HS256 secret (see core/tokens/hs256.ts). */
const hs256Kid = (secret) => `hs256-${createHash('sha256').update(secret).digest('base64url').slice(0, 16)}`;

async function asymmetricKey(alg, published = true) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = await exportJWK(privateKey);
  return {
    kid,
    alg,
    published,
    publicJwk: { ...publicJwk, kid, alg, use: 'sig' },
    privateJwk: { ...privateJwk, kid, alg, use: 'sig' },
  };
}

const es256 = await asymmetricKey('ES256');
const eddsa = await asymmetricKey('EdDSA');
const rs256 = await asymmetricKey('RS256');
const deleted = await asymmetricKey('ES256', false);
const attacker = await asymmetricKey('ES256', false);
const secret = randomBytes(32);
const hs256 = { kid: hs256Kid(secret), alg: 'HS256', published: true, secretHex: secret.toString('hex') };

const privateKeyOf = (key) => createPrivateKey({ key: key.privateJwk, format: 'jwk' });
const pemOf = (key) => createPublicKey({ key: key.publicJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });

const claims = (overrides = {}) => {
  const base = {
    iss: ISSUER,
    sub: 'usr_alice',
    aud: AUDIENCE,
    exp: NOW + 900,
    nbf: NOW - 60,
    iat: NOW - 60,
    jti: `jti_${randomBytes(9).toString('base64url')}`,
    client_id: 'cli_vectors',
    scope: 'read write',
  };
  const out = { ...base, ...overrides };
  for (const [name, value] of Object.entries(out)) if (value === undefined) delete out[name];
  return out;
};

/** A token signed by jose (the normal way). */
async function joseToken(key, { header = {}, payload = claims() } = {}) {
  const signingKey = key.alg === 'HS256' ? secret : privateKeyOf(key);
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header })
    .sign(signingKey);
}

/** A token assembled from exact header/payload text and signed with node:crypto. */
function rawToken(key, headerText, payloadText, { signAs = key.alg, hmacSecret } = {}) {
  const input = `${b64(headerText)}.${b64(payloadText)}`;
  let signature;
  if (signAs === 'HS256')
    signature = createHmac('sha256', hmacSecret ?? secret)
      .update(input)
      .digest();
  else if (signAs === 'ES256')
    signature = sign('sha256', Buffer.from(input), { key: privateKeyOf(key), dsaEncoding: 'ieee-p1363' });
  else if (signAs === 'EdDSA') signature = sign(null, Buffer.from(input), privateKeyOf(key));
  else if (signAs === 'RS256') signature = sign('sha256', Buffer.from(input), privateKeyOf(key));
  else signature = Buffer.alloc(0);
  return `${input}.${b64(signature)}`;
}

const header = (key, extra = {}) => JSON.stringify({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...extra });
const payloadText = (overrides) => JSON.stringify(claims(overrides));

const valid = await joseToken(es256);
const [validHeader, validPayload, validSignature] = valid.split('.');

/** Flips the low bit of the last signature byte's encoding, keeping base64url canonical. */
const nonCanonical = (segment) => {
  // An ES256 signature (64 bytes) encodes to 86 chars: the last char carries 4 unused bits.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(segment.at(-1));
  return segment.slice(0, -1) + alphabet[last | 1];
};

const cases = [
  // Accepted.
  { name: 'valid-es256', expect: 'valid', description: 'ES256 access token', token: valid },
  { name: 'valid-eddsa', expect: 'valid', description: 'EdDSA (Ed25519) access token', token: await joseToken(eddsa) },
  { name: 'valid-rs256', expect: 'valid', description: 'RS256 (2048-bit) access token', token: await joseToken(rs256) },
  {
    name: 'valid-hs256',
    expect: 'valid',
    description: 'HS256 with the configured 256-bit secret',
    token: await joseToken(hs256),
  },
  {
    name: 'valid-typ-media-type',
    expect: 'valid',
    description: 'typ application/at+jwt (RFC 7515 §4.1.9)',
    token: await joseToken(es256, { header: { typ: 'application/at+jwt' } }),
  },
  {
    name: 'valid-typ-case',
    expect: 'valid',
    description: 'typ compared case-insensitively',
    token: await joseToken(es256, { header: { typ: 'AT+JWT' } }),
  },
  {
    name: 'valid-aud-list',
    expect: 'valid',
    description: 'aud is a list that contains ours',
    token: await joseToken(es256, { payload: claims({ aud: ['https://other.example.test', AUDIENCE] }) }),
  },
  {
    name: 'valid-expired-within-leeway',
    expect: 'valid',
    description: `exp passed ${LEEWAY - 10} s ago, inside the leeway`,
    token: await joseToken(es256, { payload: claims({ exp: NOW - (LEEWAY - 10) }) }),
  },
  {
    name: 'valid-nbf-within-leeway',
    expect: 'valid',
    description: 'nbf 10 s ahead, inside the leeway',
    token: await joseToken(es256, { payload: claims({ nbf: NOW + 10, iat: NOW }) }),
  },
  {
    name: 'valid-no-nbf',
    expect: 'valid',
    description: 'nbf is optional',
    token: await joseToken(es256, { payload: claims({ nbf: undefined }) }),
  },

  // alg: none and algorithm confusion (docs/security.md #1, #2).
  ...['none', 'None', 'NONE', 'nOnE'].map((alg) => ({
    name: `alg-${alg}`,
    expect: 'ERR_JWT_ALG_NOT_ALLOWED',
    security: '#1',
    description: `alg "${alg}" with an empty signature`,
    token: `${json({ alg, kid: es256.kid, typ: 'at+jwt' })}.${validPayload}.`,
  })),
  {
    name: 'alg-none-with-signature',
    expect: 'ERR_JWT_ALG_NOT_ALLOWED',
    security: '#1',
    description: 'alg "none" keeping a signature',
    token: `${json({ alg: 'none', kid: es256.kid, typ: 'at+jwt' })}.${validPayload}.${validSignature}`,
  },
  {
    name: 'hs256-es256-public-key-as-secret',
    expect: 'ERR_JWT_ALG_NOT_ALLOWED',
    security: '#2',
    description: 'HS256 MAC keyed with our ES256 public key (PEM), kid of the ES256 key',
    token: rawToken(es256, header(es256, { alg: 'HS256' }), payloadText(), {
      signAs: 'HS256',
      hmacSecret: pemOf(es256),
    }),
  },
  {
    name: 'hs256-rs256-public-key-as-secret',
    expect: 'ERR_JWT_ALG_NOT_ALLOWED',
    security: '#2',
    description: 'HS256 MAC keyed with our RS256 public key (PEM), kid of the RS256 key',
    token: rawToken(rs256, header(rs256, { alg: 'HS256' }), payloadText(), {
      signAs: 'HS256',
      hmacSecret: pemOf(rs256),
    }),
  },
  {
    name: 'hs256-jwk-public-key-as-secret',
    expect: 'ERR_JWT_ALG_NOT_ALLOWED',
    security: '#2',
    description: 'HS256 MAC keyed with our ES256 public JWK text',
    token: rawToken(es256, header(es256, { alg: 'HS256' }), payloadText(), {
      signAs: 'HS256',
      hmacSecret: JSON.stringify(es256.publicJwk),
    }),
  },
  {
    name: 'alg-mismatch-rs256-on-es256-key',
    expect: 'ERR_JWT_ALG_NOT_ALLOWED',
    security: '#1',
    description: 'alg RS256 naming an ES256 key',
    token: rawToken(rs256, header(es256, { alg: 'RS256' }), payloadText(), { signAs: 'RS256' }),
  },
  {
    name: 'alg-es384',
    expect: 'ERR_JWT_ALG_NOT_ALLOWED',
    security: '#1',
    description: 'an algorithm outside the allowlist (ES384)',
    token: `${json({ alg: 'ES384', kid: es256.kid, typ: 'at+jwt' })}.${validPayload}.${validSignature}`,
  },
  {
    name: 'alg-missing',
    expect: 'ERR_JWT_MALFORMED',
    security: '#1',
    description: 'no alg at all',
    token: `${json({ kid: es256.kid, typ: 'at+jwt' })}.${validPayload}.${validSignature}`,
  },

  // Keys never come from the token (docs/security.md #3, #4).
  {
    name: 'kid-path-traversal',
    expect: 'ERR_JWT_KID_INVALID',
    security: '#4',
    description: 'kid with path characters',
    token: rawToken(es256, header(es256, { kid: '../../../../etc/passwd' }), payloadText()),
  },
  {
    name: 'kid-sql',
    expect: 'ERR_JWT_KID_INVALID',
    security: '#4',
    description: 'kid with SQL characters',
    token: rawToken(es256, header(es256, { kid: "x' OR '1'='1" }), payloadText()),
  },
  {
    name: 'kid-shell',
    expect: 'ERR_JWT_KID_INVALID',
    security: '#4',
    description: 'kid with shell characters',
    token: rawToken(es256, header(es256, { kid: '$(id);|ls' }), payloadText()),
  },
  {
    name: 'kid-too-long',
    expect: 'ERR_JWT_KID_INVALID',
    security: '#4',
    description: 'kid of 65 characters',
    token: rawToken(es256, header(es256, { kid: 'k'.repeat(65) }), payloadText()),
  },
  {
    name: 'kid-number',
    expect: 'ERR_JWT_KID_INVALID',
    security: '#4',
    description: 'kid that is not a string',
    token: rawToken(es256, header(es256, { kid: 7 }), payloadText()),
  },
  {
    name: 'kid-missing',
    expect: 'ERR_JWT_KID_INVALID',
    security: '#4',
    description: 'no kid',
    token: rawToken(es256, JSON.stringify({ alg: 'ES256', typ: 'at+jwt' }), payloadText()),
  },
  {
    name: 'kid-unknown',
    expect: 'ERR_JWT_UNKNOWN_KID',
    security: '#3',
    description: 'a well-formed kid we do not have',
    token: rawToken(es256, header(es256, { kid: 'no-such-key' }), payloadText()),
  },
  {
    name: 'kid-deleted-key',
    expect: 'ERR_JWT_UNKNOWN_KID',
    security: '#37',
    description: 'signed by a retired-and-deleted key (no longer published)',
    token: await joseToken(deleted),
  },
  {
    name: 'jku-elsewhere',
    expect: 'ERR_JWT_FORBIDDEN_HEADER',
    security: '#3',
    joseAccepts: 'jose ignores jku; we refuse the header outright',
    description: 'jku pointing at an attacker URL (signed with our key)',
    token: await joseToken(es256, { header: { jku: 'https://attacker.example/jwks.json' } }),
  },
  {
    name: 'x5u-elsewhere',
    expect: 'ERR_JWT_FORBIDDEN_HEADER',
    security: '#3',
    joseAccepts: 'jose ignores x5u; we refuse the header outright',
    description: 'x5u pointing elsewhere',
    token: await joseToken(es256, { header: { x5u: 'https://attacker.example/cert.pem' } }),
  },
  {
    name: 'embedded-jwk-attacker',
    expect: 'ERR_JWT_FORBIDDEN_HEADER',
    security: '#3',
    description: 'embedded jwk of an attacker key that signed the token',
    token: rawToken(attacker, header(es256, { jwk: attacker.publicJwk }), payloadText()),
  },
  {
    name: 'x5c-embedded',
    expect: 'ERR_JWT_FORBIDDEN_HEADER',
    security: '#3',
    joseAccepts: 'jose ignores x5c; we refuse the header outright',
    description: 'x5c certificate chain header',
    token: await joseToken(es256, { header: { x5c: ['MIIB'] } }),
  },

  // Structure (docs/security.md #5, #6, #12).
  {
    name: 'segments-not-base64url',
    expect: 'ERR_JWT_MALFORMED',
    security: '#5',
    description: 'three parts that are not base64url',
    token: 'not base64!.also not?.{}',
  },
  {
    name: 'segments-base64-plus-slash',
    expect: 'ERR_JWT_MALFORMED',
    security: '#5',
    description: 'standard base64 alphabet (+ /)',
    token: `${validHeader}.${validPayload.slice(0, -2)}+/.${validSignature}`,
  },
  {
    name: 'segments-padded',
    expect: 'ERR_JWT_MALFORMED',
    security: '#5',
    description: 'base64url with = padding',
    token: `${validHeader}=.${validPayload}.${validSignature}`,
  },
  {
    name: 'signature-non-canonical',
    expect: 'ERR_JWT_MALFORMED',
    security: '#5',
    joseAccepts: 'jose decodes non-canonical base64url to the same bytes; we refuse the alternative spelling',
    description: 'signature segment with non-zero unused bits (same bytes, different string)',
    token: `${validHeader}.${validPayload}.${nonCanonical(validSignature)}`,
  },
  {
    name: 'two-segments',
    expect: 'ERR_JWT_MALFORMED',
    security: '#5',
    description: 'two segments',
    token: `${validHeader}.${validPayload}`,
  },
  {
    name: 'four-segments',
    expect: 'ERR_JWT_MALFORMED',
    security: '#5',
    description: 'four segments',
    token: `${valid}.${validSignature}`,
  },
  {
    name: 'jwe-five-segments',
    expect: 'ERR_JWT_MALFORMED',
    security: '#5',
    description: 'a JWE (five segments)',
    token: `${json({ alg: 'dir', enc: 'A256GCM', kid: es256.kid })}..${b64('iv-iv-iv-iv')}.${b64('ciphertext')}.${b64('tag-tag-tag-tag')}`,
  },
  {
    name: 'json-serialization',
    expect: 'ERR_JWT_MALFORMED',
    security: '#5',
    description: 'JWS JSON serialization',
    token: JSON.stringify({ payload: validPayload, protected: validHeader, signature: validSignature }),
  },
  { name: 'empty', expect: 'ERR_JWT_MALFORMED', security: '#5', description: 'the empty string', token: '' },
  { name: 'empty-segments', expect: 'ERR_JWT_MALFORMED', security: '#5', description: 'two dots only', token: '..' },
  {
    name: 'header-not-json',
    expect: 'ERR_JWT_MALFORMED',
    security: '#5',
    description: 'header is not JSON',
    token: `${b64('alg=ES256')}.${validPayload}.${validSignature}`,
  },
  {
    name: 'header-array',
    expect: 'ERR_JWT_MALFORMED',
    security: '#5',
    description: 'header is a JSON array',
    token: `${json([{ alg: 'ES256' }])}.${validPayload}.${validSignature}`,
  },
  {
    name: 'payload-not-object',
    expect: 'ERR_JWT_MALFORMED',
    security: '#5',
    description: 'claims set is a JSON string',
    token: rawToken(es256, header(es256), JSON.stringify('hello')),
  },
  {
    name: 'nested-cty-jwt',
    expect: 'ERR_JWT_NESTED',
    security: '#5',
    description: 'cty JWT (nested token)',
    token: await joseToken(es256, { header: { cty: 'JWT' } }),
    joseAccepts: 'jose does not look at cty; nested tokens are refused here',
  },
  {
    name: 'crit-unknown',
    expect: 'ERR_JWT_CRIT',
    security: '#6',
    description: 'crit names an extension we do not understand',
    token: rawToken(
      es256,
      header(es256, { crit: ['urn:example:must-understand'], 'urn:example:must-understand': true }),
      payloadText(),
    ),
  },
  {
    name: 'crit-exp',
    expect: 'ERR_JWT_CRIT',
    security: '#6',
    description: 'crit naming a registered claim',
    token: rawToken(es256, header(es256, { crit: ['exp'], exp: NOW + 900 }), payloadText()),
  },
  {
    name: 'crit-empty',
    expect: 'ERR_JWT_CRIT',
    security: '#6',
    description: 'crit is an empty list (RFC 7515 §4.1.11: MUST NOT)',
    token: rawToken(es256, header(es256, { crit: [] }), payloadText()),
  },
  {
    name: 'crit-b64',
    expect: 'ERR_JWT_CRIT',
    security: '#6',
    joseAccepts: 'jose understands the b64 extension (RFC 7797); we understand none',
    description: 'crit b64 (RFC 7797) with b64 true',
    token: rawToken(es256, header(es256, { crit: ['b64'], b64: true }), payloadText()),
  },
  {
    name: 'duplicate-header-alg',
    expect: 'ERR_JWT_MALFORMED',
    security: '#6',
    joseAccepts: 'JSON.parse keeps the last of two equal names; we refuse duplicates',
    description: 'header repeats "alg"',
    token: rawToken(es256, `{"alg":"HS256","alg":"ES256","kid":"${es256.kid}","typ":"at+jwt"}`, payloadText()),
  },
  {
    name: 'duplicate-claim-sub',
    expect: 'ERR_JWT_MALFORMED',
    security: '#6',
    joseAccepts: 'JSON.parse keeps the last of two equal names; we refuse duplicates',
    description: 'claims repeat "sub"',
    token: rawToken(
      es256,
      header(es256),
      payloadText().replace('"sub":"usr_alice"', '"sub":"usr_admin","sub":"usr_alice"'),
    ),
  },
  {
    name: 'payload-not-utf8',
    expect: 'ERR_JWT_MALFORMED',
    security: '#6',
    description: 'claims set with invalid UTF-8 bytes',
    token: (() => {
      const input = `${b64(header(es256))}.${Buffer.concat([Buffer.from(payloadText().slice(0, -1)), Buffer.from(',"x":"\xff\xfe"}', 'latin1')]).toString('base64url')}`;
      return `${input}.${b64(sign('sha256', Buffer.from(input), { key: privateKeyOf(es256), dsaEncoding: 'ieee-p1363' }))}`;
    })(),
  },
  {
    name: 'too-large-9k',
    expect: 'ERR_JWT_TOO_LARGE',
    security: '#12',
    description: 'a signed token of about 9 KB (over the 8 KB cap)',
    token: await joseToken(es256, { payload: claims({ padding: 'x'.repeat(6800) }) }),
  },
  {
    name: 'too-large-1mb',
    expect: 'ERR_JWT_TOO_LARGE',
    security: '#12',
    description: '1 MB token (built by the loader: the valid token with its payload padded)',
    token: valid,
    padTo: 1_048_576,
  },

  // typ (docs/security.md #7).
  {
    name: 'typ-missing',
    expect: 'ERR_JWT_TYPE',
    security: '#7',
    description: 'no typ',
    token: rawToken(es256, JSON.stringify({ alg: 'ES256', kid: es256.kid }), payloadText()),
  },
  {
    name: 'typ-jwt',
    expect: 'ERR_JWT_TYPE',
    security: '#7',
    description: 'typ JWT (not an access token)',
    token: await joseToken(es256, { header: { typ: 'JWT' } }),
  },
  {
    name: 'typ-id-token',
    expect: 'ERR_JWT_TYPE',
    security: '#7',
    description: 'an ID token type',
    token: await joseToken(es256, { header: { typ: 'id_token+jwt' } }),
  },

  // Signature.
  {
    name: 'signature-tampered-claims',
    expect: 'ERR_JWT_SIGNATURE',
    description: 'claims changed after signing',
    token: `${validHeader}.${json(claims({ sub: 'usr_admin' }))}.${validSignature}`,
  },
  {
    name: 'signature-other-key-same-kid',
    expect: 'ERR_JWT_SIGNATURE',
    description: 'signed by an attacker key under our kid',
    token: rawToken(attacker, header(es256), payloadText()),
  },
  {
    name: 'signature-empty',
    expect: 'ERR_JWT_SIGNATURE',
    description: 'no signature',
    token: `${validHeader}.${validPayload}.`,
  },
  {
    name: 'signature-es256-der',
    expect: 'ERR_JWT_SIGNATURE',
    description: 'ES256 signature in DER instead of raw r‖s',
    token: (() => {
      const input = `${validHeader}.${validPayload}`;
      return `${input}.${b64(sign('sha256', Buffer.from(input), privateKeyOf(es256)))}`;
    })(),
  },
  {
    name: 'signature-hs256-wrong-secret',
    expect: 'ERR_JWT_SIGNATURE',
    description: 'HS256 with another secret under our kid',
    token: rawToken(hs256, header(hs256), payloadText(), { hmacSecret: randomBytes(32) }),
  },

  // Claims (docs/security.md #8).
  {
    name: 'expired',
    expect: 'ERR_JWT_EXPIRED',
    security: '#8',
    description: 'exp passed beyond the leeway',
    token: await joseToken(es256, { payload: claims({ exp: NOW - LEEWAY - 1, iat: NOW - 1000, nbf: NOW - 1000 }) }),
  },
  {
    name: 'expired-now',
    expect: 'ERR_JWT_EXPIRED',
    security: '#8',
    description: 'exp exactly now minus the leeway',
    token: await joseToken(es256, { payload: claims({ exp: NOW - LEEWAY, iat: NOW - 1000, nbf: NOW - 1000 }) }),
  },
  {
    name: 'nbf-future',
    expect: 'ERR_JWT_NOT_YET_VALID',
    security: '#8',
    description: 'nbf beyond the leeway',
    token: await joseToken(es256, { payload: claims({ nbf: NOW + LEEWAY + 60, iat: NOW }) }),
  },
  {
    name: 'iat-future',
    expect: 'ERR_JWT_NOT_YET_VALID',
    security: '#8',
    joseAccepts: 'jose checks iat only with maxTokenAge',
    description: 'iat beyond the leeway',
    token: await joseToken(es256, { payload: claims({ iat: NOW + 3600, nbf: undefined }) }),
  },
  {
    name: 'exp-missing',
    expect: 'ERR_JWT_CLAIM_MISSING',
    security: '#8',
    description: 'no exp',
    token: await joseToken(es256, { payload: claims({ exp: undefined }) }),
  },
  {
    name: 'exp-string',
    expect: 'ERR_JWT_CLAIM_INVALID',
    security: '#8',
    description: 'exp that is a string',
    token: rawToken(es256, header(es256), payloadText({ exp: String(NOW + 900) })),
  },
  {
    name: 'iss-wrong',
    expect: 'ERR_JWT_ISSUER',
    security: '#8',
    description: 'another issuer',
    token: await joseToken(es256, { payload: claims({ iss: 'https://evil.example.test' }) }),
  },
  {
    name: 'iss-trailing-slash',
    expect: 'ERR_JWT_ISSUER',
    security: '#8',
    description: 'issuer with a trailing slash (exact match)',
    token: await joseToken(es256, { payload: claims({ iss: `${ISSUER}/` }) }),
  },
  {
    name: 'iss-missing',
    expect: 'ERR_JWT_CLAIM_MISSING',
    security: '#8',
    description: 'no iss',
    token: await joseToken(es256, { payload: claims({ iss: undefined }) }),
  },
  {
    name: 'aud-wrong',
    expect: 'ERR_JWT_AUDIENCE',
    security: '#8',
    description: 'another audience',
    token: await joseToken(es256, { payload: claims({ aud: 'https://other.example.test' }) }),
  },
  {
    name: 'aud-list-without-ours',
    expect: 'ERR_JWT_AUDIENCE',
    security: '#8',
    description: 'aud list without ours',
    token: await joseToken(es256, { payload: claims({ aud: ['https://a.example.test', 'https://b.example.test'] }) }),
  },
  {
    name: 'aud-missing',
    expect: 'ERR_JWT_CLAIM_MISSING',
    security: '#8',
    description: 'no aud',
    token: await joseToken(es256, { payload: claims({ aud: undefined }) }),
  },
];

const keys = [es256, eddsa, rs256, deleted, hs256].map(({ privateJwk, publicJwk, ...rest }) => ({
  ...rest,
  ...(publicJwk ? { publicJwk, privateJwk } : {}),
}));

writeFileSync(
  path.join(here, 'keys.json'),
  `${JSON.stringify(
    {
      comment: 'Test keys for the JWT vectors. Private parts are here on purpose: test data only, never trust them.',
      issuer: ISSUER,
      audience: AUDIENCE,
      now: NOW,
      leewaySeconds: LEEWAY,
      maxTokenLength: 8192,
      types: ['at+jwt'],
      keys,
    },
    null,
    2,
  )}\n`,
);
writeFileSync(path.join(here, 'tokens.json'), `${JSON.stringify(cases, null, 2)}\n`);
process.stdout.write(`wrote ${cases.length} token vectors and ${keys.length} keys to ${here}\n`);
