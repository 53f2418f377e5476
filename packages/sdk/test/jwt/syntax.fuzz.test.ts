/**
 * Property-based fuzzing of the strict compact-JWS decoding (src/jwt/syntax.ts, segments.ts,
 * decode.ts): attacker bytes reach these before any signature check. References: Node's own
 * base64url decoder plus a canonical-encoding check (RFC 7515 §2, §C), `JSON.parse` plus a count of
 * the member names, and jose's `jwtVerify` for the whole verification. Properties: never throw,
 * never accept what the reference refuses, and decode exactly what the reference decodes.
 * Runs: test/fuzz/runs.ts (GATEHOUSE_TEST_FUZZ_RUNS for a long run).
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { type JWTHeaderParameters, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { FUZZ_TIMEOUT, fuzz } from '../../../../test/fuzz/runs.js';
import { vectorKeyObjects, vectorSet, vectorVerifyOptions } from '../../../../test/vectors/jwt/vectors.js';
import { decodeJwtUnverified } from '../../src/jwt/decode.js';
import { JWT_ERROR_CODES } from '../../src/jwt/errors.js';
import { verifyJwt } from '../../src/jwt/index.js';
import {
  base64urlByteLength,
  decodeBase64urlInto,
  isCanonicalBase64url,
  parseJsonObject,
} from '../../src/jwt/syntax.js';

const B64URL_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The reference: Node's decoder, and canonical means re-encoding gives the text back. */
function referenceDecode(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

/** Mostly base64url characters, with the odd padding, `+/`, space, non-ASCII or look-alike. */
const base64urlish = fc.string({
  unit: fc.oneof(
    { weight: 20, arbitrary: fc.constantFrom(...B64URL_CHARS) },
    { weight: 1, arbitrary: fc.constantFrom('=', '+', '/', ' ', '.', '\n', '\u0141', '\u00c1', '\u0100', '\uff21') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  ),
  maxLength: 40,
});

describe('base64url decoding (fuzzed against Buffer base64url + canonical re-encoding)', () => {
  it(
    'decodeBase64urlInto accepts exactly the canonical texts, with the bytes Node decodes, at any offset',
    () => {
      fc.assert(
        fc.property(base64urlish, fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), (text, before, after) => {
          const whole = before + text + after;
          const out = new Uint8Array(base64urlByteLength(text.length));
          const ours = decodeBase64urlInto(whole, before.length, before.length + text.length, out);
          const reference = referenceDecode(text);
          expect(ours).toBe(reference !== undefined);
          expect(isCanonicalBase64url(text)).toBe(reference !== undefined);
          if (reference) expect(Buffer.from(out).equals(reference)).toBe(true);
        }),
        fuzz(2000),
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    'every byte string round-trips through its canonical encoding',
    () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
          const text = Buffer.from(bytes).toString('base64url');
          const out = new Uint8Array(base64urlByteLength(text.length));
          expect(decodeBase64urlInto(text, 0, text.length, out)).toBe(true);
          expect(Buffer.from(out).equals(Buffer.from(bytes))).toBe(true);
        }),
        fuzz(1500),
      );
    },
    FUZZ_TIMEOUT,
  );
});

/** A JSON member name spelled with random `\uXXXX` escapes, so equal names can look different. */
const spelledName = (name: string, escapes: readonly boolean[]): string => {
  let out = '"';
  [...name].forEach((char, i) => {
    const code = char.charCodeAt(0);
    if (escapes[i % Math.max(1, escapes.length)] && char.length === 1)
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += JSON.stringify(char).slice(1, -1);
  });
  return `${out}"`;
};

/** A JSON object text from members that may repeat names, with random whitespace. */
const objectText = fc
  .record({
    members: fc.array(
      fc.tuple(fc.constantFrom('a', 'b', 'kid', 'é', '"', '\\', ':', '{', 'a"b'), fc.jsonValue({ maxDepth: 2 })),
      { maxLength: 6 },
    ),
    escapes: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
    space: fc.constantFrom('', ' ', '\n', '\t ', '\r\n'),
  })
  .map(({ members, escapes, space }) => ({
    names: members.map(([name]) => name),
    text: `{${space}${members
      .map(([name, value]) => `${spelledName(name, escapes)}${space}:${space}${JSON.stringify(value)}`)
      .join(`,${space}`)}${space}}`,
  }));

describe('JSON objects with unique member names (RFC 7515 §4, RFC 7519 §4)', () => {
  it(
    'refuses exactly the objects that repeat a name, however the names are spelled',
    () => {
      fc.assert(
        fc.property(objectText, ({ names, text }) => {
          const result = parseJsonObject(text);
          const unique = new Set(names).size === names.length;
          expect(result.ok, text).toBe(unique);
          if (result.ok) expect(result.value).toEqual(JSON.parse(text));
        }),
        fuzz(1000),
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    'never throws on arbitrary text, and accepts only what JSON.parse reads as an object',
    () => {
      fc.assert(
        fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.json({ maxDepth: 3 })), (text) => {
          const result = parseJsonObject(text);
          if (!result.ok) return;
          const parsed = JSON.parse(text);
          expect(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)).toBe(true);
        }),
        fuzz(2000),
      );
    },
    FUZZ_TIMEOUT,
  );
});

describe('decodeJwtUnverified', () => {
  const segment = fc.oneof(
    base64urlish,
    fc.jsonValue({ maxDepth: 2 }).map((value) => Buffer.from(JSON.stringify(value)).toString('base64url')),
    fc.uint8Array({ maxLength: 30 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
  );
  it(
    'never throws; answers a registered error code or an object header and claims',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ unit: 'binary', maxLength: 80 }),
            fc.array(segment, { maxLength: 5 }).map((parts) => parts.join('.')),
          ),
          (token) => {
            const decoded = decodeJwtUnverified(token);
            if (!decoded.ok) expect(JWT_ERROR_CODES).toContain(decoded.code);
            else {
              const [h, p] = token.split('.') as [string, string];
              expect(decoded.header).toEqual(JSON.parse(referenceDecode(h)?.toString('utf8') as string));
              expect(decoded.claims).toEqual(JSON.parse(referenceDecode(p)?.toString('utf8') as string));
            }
          },
        ),
        fuzz(2000),
      );
    },
    FUZZ_TIMEOUT,
  );
});

describe('verifyJwt never accepts what jose refuses (fuzzed headers, claims and mutations)', () => {
  const keys = vectorKeyObjects();
  const hs = [...keys.values()].find((key) => key.alg === 'HS256');
  if (!hs) throw new Error('the vectors have an HS256 key');
  const secret = hs.key.export();
  const now = vectorSet.now;

  const header = fc.record(
    {
      alg: fc.constantFrom('HS256', 'hs256', 'none', 'RS256', 'ES256'),
      kid: fc.constantFrom(hs.kid, 'other', '../etc', ''),
      typ: fc.constantFrom('at+jwt', 'application/at+jwt', 'AT+JWT', 'JWT', 'jwt'),
      crit: fc.constantFrom(['exp'], [], ['b64']),
      cty: fc.constantFrom('JWT', 'json'),
      jku: fc.constant('https://evil.example/jwks'),
      b64: fc.boolean(),
    },
    { requiredKeys: [] },
  );
  const claims = fc.record(
    {
      iss: fc.constantFrom(vectorSet.issuer, `${vectorSet.issuer}/`, 'https://evil.example', 7),
      aud: fc.constantFrom(vectorSet.audience, [vectorSet.audience, 'x'], ['x'], 'x', 3, []),
      exp: fc.oneof(fc.integer({ min: now - 100, max: now + 100 }), fc.constantFrom('9999999999', null, 1e300)),
      nbf: fc.oneof(fc.integer({ min: now - 100, max: now + 100 }), fc.constant('0')),
      iat: fc.integer({ min: now - 100, max: now + 100 }),
      sub: fc.oneof(fc.string({ maxLength: 8 }), fc.constant(1)),
    },
    { requiredKeys: [] },
  );
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const sign = (input: string) => `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  const token = fc
    .record({
      header: fc.oneof(fc.constant({}), header).map((h) => ({ alg: 'HS256', kid: hs.kid, typ: 'at+jwt', ...h })),
      claims: fc
        .oneof(fc.constant({}), claims)
        .map((c) => ({ iss: vectorSet.issuer, aud: vectorSet.audience, exp: now + 60, ...c })),
      mutation: fc.option(fc.tuple(fc.nat(), fc.constantFrom(...B64URL_CHARS, '.', '=')), { freq: 3 }),
    })
    .map(({ header, claims, mutation }) => {
      const signed = sign(`${encode(header)}.${encode(claims)}`);
      if (!mutation) return signed;
      const at = mutation[0] % signed.length;
      return signed.slice(0, at) + mutation[1] + signed.slice(at + 1);
    });

  async function joseAccepts(text: string): Promise<boolean> {
    try {
      await jwtVerify(
        text,
        (h: JWTHeaderParameters) => {
          const key = h.kid === undefined ? undefined : keys.get(h.kid);
          if (!key || key.alg !== h.alg) throw new Error('no key for this kid and alg');
          return new Uint8Array(key.key.export());
        },
        {
          issuer: vectorSet.issuer,
          audience: vectorSet.audience,
          typ: 'at+jwt',
          algorithms: ['HS256'],
          clockTolerance: vectorSet.leewaySeconds,
          currentDate: new Date(now * 1000),
          requiredClaims: ['exp'],
        },
      );
      return true;
    } catch {
      return false;
    }
  }

  it(
    'a token we accept is one jose accepts; every refusal carries a registered code',
    async () => {
      let accepted = 0;
      await fc.assert(
        fc.asyncProperty(token, async (text) => {
          const ours = await verifyJwt(text, (kid) => keys.get(kid), vectorVerifyOptions);
          if (!ours.ok) {
            expect(JWT_ERROR_CODES).toContain(ours.code);
            return;
          }
          accepted++;
          expect(await joseAccepts(text), text).toBe(true);
        }),
        fuzz(1000),
      );
      // The generator must reach valid tokens, or the property says nothing.
      expect(accepted).toBeGreaterThan(0);
    },
    FUZZ_TIMEOUT,
  );
});
