/**
 * Property-based fuzzing of the API key format (src/core/apikeys/key-format.ts): a generated key is
 * always accepted, and nothing is accepted whose checksum a reference (zlib's CRC-32 of
 * `<prefix>_<secret>` as 6 base62 digits, computed here with BigInt) says is wrong — so garbage is
 * refused before any store lookup (docs/security.md #29). Runs: test/fuzz/runs.ts.
 */
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_TIMEOUT, fuzz } from '../../../../../test/fuzz/runs.js';
import { createKeyParser, generateApiKey } from '../../../src/core/apikeys/key-format.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function referenceChecksum(body: string): string {
  let value = BigInt(crc32(Buffer.from(body, 'utf8')));
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = BASE62[Number(value % 62n)] + out;
    value /= 62n;
  }
  return out;
}

/** The reference: exactly `<prefix>_` + 49 base62 characters whose last 6 are the checksum. */
const referenceAccepts = (prefix: string, text: string): boolean =>
  new RegExp(`^${prefix}_[0-9A-Za-z]{49}$`).test(text) && referenceChecksum(text.slice(0, -6)) === text.slice(-6);

const segment = fc.string({ unit: fc.constantFrom(...'abcz09'), minLength: 1, maxLength: 4 });
const prefix = fc
  .tuple(fc.constantFrom('gk', 'k', 'gatehouse'), fc.array(segment, { maxLength: 2 }))
  .map(([head, rest]) => [head, ...rest].join('_'));
const base62 = fc.string({ unit: fc.constantFrom(...BASE62), minLength: 49, maxLength: 49 });

describe('API key format (fuzzed against a reference checksum)', () => {
  it(
    'accepts every generated key, under any valid prefix',
    () => {
      fc.assert(
        fc.property(prefix, (p) => {
          const key = generateApiKey(p);
          expect(createKeyParser(p).check(key)).toBeUndefined();
          expect(referenceAccepts(p, key)).toBe(true);
        }),
        fuzz(1500),
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    'refuses any key with one character changed, added or removed',
    () => {
      fc.assert(
        fc.property(
          prefix,
          fc.nat(),
          fc.constantFrom(...BASE62, '_', ' ', '-', 'é'),
          fc.constantFrom('replace', 'insert', 'delete'),
          (p, at, char, edit) => {
            const key = generateApiKey(p);
            const i = at % key.length;
            const changed =
              edit === 'replace'
                ? key.slice(0, i) + char + key.slice(i + 1)
                : edit === 'insert'
                  ? key.slice(0, i) + char + key.slice(i)
                  : key.slice(0, i) + key.slice(i + 1);
            fc.pre(changed !== key);
            expect(createKeyParser(p).check(changed), changed).not.toBeUndefined();
          },
        ),
        fuzz(2000),
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    'never throws and never accepts what the reference refuses (random bodies, random text)',
    () => {
      fc.assert(
        fc.property(
          prefix,
          fc.oneof(
            base62,
            fc.string({ unit: 'binary', maxLength: 140 }),
            fc.string({ unit: fc.constantFrom(...BASE62, '_', 'é', ' '), maxLength: 90 }),
          ),
          fc.boolean(),
          (p, body, withPrefix) => {
            const text = withPrefix ? `${p}_${body}` : body;
            const parser = createKeyParser(p);
            const verdict = parser.check(text);
            expect(verdict === undefined, text).toBe(referenceAccepts(p, text));
            if (verdict !== undefined)
              expect(['empty', 'too_long', 'malformed', 'wrong_prefix', 'bad_checksum']).toContain(verdict);
          },
        ),
        fuzz(2500),
      );
    },
    FUZZ_TIMEOUT,
  );
});
