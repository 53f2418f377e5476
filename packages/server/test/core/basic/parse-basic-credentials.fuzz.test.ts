/**
 * Property-based fuzzing of the Basic credentials parser (src/core/basic/parse-basic-credentials.ts)
 * against a plain model of RFC 7617 §2: `Basic` (any case) then spaces then the canonical base64 of
 * UTF-8 `user-id ":" password`, split at the first colon, no control characters, non-empty user-id.
 * The parser must never throw, never accept what the model refuses, and read exactly what the
 * model reads. Runs: test/fuzz/runs.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_TIMEOUT, fuzz } from '../../../../../test/fuzz/runs.js';
import { BASIC_TOKEN_MAX_LENGTH, parseBasicAuthorization } from '../../../src/core/basic/parse-basic-credentials.js';

type Model = { kind: 'absent' } | { kind: 'malformed' } | { kind: 'credentials'; username: string; password: string };

/** RFC 7617 §2 and RFC 9110 §11.4, read literally. */
function model(header: string | undefined): Model {
  if (header === undefined) return { kind: 'absent' };
  const scheme = header.slice(0, 5);
  if (scheme.toLowerCase() !== 'basic' || (header.length > 5 && header[5] !== ' ')) return { kind: 'absent' };
  const token = header.slice(5).replace(/^ +/, '');
  if (token.length === 0 || token.length > BASIC_TOKEN_MAX_LENGTH) return { kind: 'malformed' };
  // RFC 4648 §4 alphabet, padded, canonical (decode then encode gives it back).
  if (token.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(token)) return { kind: 'malformed' };
  const bytes = Buffer.from(token, 'base64');
  if (bytes.toString('base64') !== token) return { kind: 'malformed' };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return { kind: 'malformed' };
  }
  const colon = text.indexOf(':');
  if (colon <= 0) return { kind: 'malformed' };
  // "The user-id and password MUST NOT contain any control characters" (C0, DEL, C1).
  if ([...text].some((char) => /[\u0000-\u001f\u007f-\u009f]/.test(char))) return { kind: 'malformed' };
  return { kind: 'credentials', username: text.slice(0, colon), password: text.slice(colon + 1) };
}

const encode = (text: string) => Buffer.from(text, 'utf8').toString('base64');
/** Well-formed text (no lone surrogates: those cannot be sent as UTF-8 at all). */
const text = fc.string({
  unit: fc.oneof(
    fc.constantFrom(':', '\u0000', '\u007f', '\u0085', '\ufeff', 'é'),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
  ),
  maxLength: 12,
});
const schemeSpelling = fc.constantFrom(
  'Basic ',
  'basic ',
  'BASIC  ',
  'bAsIc ',
  'Basic',
  'Basic\t',
  'Bearer ',
  'Basicx ',
  ' Basic ',
);

const header = fc.oneof(
  // Real credentials, sometimes damaged.
  fc
    .record({
      scheme: schemeSpelling,
      user: text,
      password: text,
      damage: fc.option(fc.tuple(fc.nat(), fc.constantFrom('=', '-', '_', ' ', 'A', '\n'))),
    })
    .map(({ scheme, user, password, damage }) => {
      let token = encode(`${user}:${password}`);
      if (damage) {
        const at = damage[0] % (token.length + 1);
        token = token.slice(0, at) + damage[1] + token.slice(at + 1);
      }
      return scheme + token;
    }),
  // Raw bytes that are not UTF-8, and non-canonical trailing bits.
  fc
    .record({ scheme: schemeSpelling, bytes: fc.uint8Array({ maxLength: 20 }) })
    .map(({ scheme, bytes }) => scheme + Buffer.from(bytes).toString('base64')),
  fc.string({ unit: 'binary', maxLength: 30 }).map((rest) => `Basic ${rest}`),
  fc.string({ maxLength: 30 }),
);

describe('parseBasicAuthorization (fuzzed against an RFC 7617 model)', () => {
  it(
    'never throws, and agrees with the model on absent, malformed and the credentials read',
    () => {
      fc.assert(
        fc.property(fc.option(header, { freq: 20 }), (value) => {
          const input = value ?? undefined;
          const parsed = parseBasicAuthorization(input);
          const expected = model(input);
          if (parsed.kind === 'credentials') {
            expect(expected, input).toEqual({ kind: 'credentials', ...parsed.credentials });
          } else {
            expect(parsed.kind, input).toBe(expected.kind);
          }
        }),
        fuzz(2500),
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    'reads back every credential a client can send: the user-id up to the first colon, the password whole',
    () => {
      const user = text.filter((value) => value.length > 0 && !value.includes(':') && !/\p{Cc}/u.test(value));
      const password = text.filter((value) => !/\p{Cc}/u.test(value));
      fc.assert(
        fc.property(user, password, (username, secret) => {
          const parsed = parseBasicAuthorization(`Basic ${encode(`${username}:${secret}`)}`);
          expect(parsed).toMatchObject({ kind: 'credentials', credentials: { username, password: secret } });
        }),
        fuzz(1500),
      );
    },
    FUZZ_TIMEOUT,
  );
});
