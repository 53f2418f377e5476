/**
 * Property-based fuzzing of the header helpers every authenticated request goes through
 * (src/http/auth-request.ts): the duplicate credential-header check over Node's raw header list
 * (docs/security.md #28) against a plain count, and `headerSafe`, which turns identity values (claims
 * of tokens from any configured issuer, metadata) into header values: it must never throw and
 * always answer something Node accepts as a header value (printable ASCII, no CR/LF).
 * Runs: test/fuzz/runs.ts.
 */
import { validateHeaderValue } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_TIMEOUT, fuzz } from '../../../../test/fuzz/runs.js';
import { CREDENTIAL_HEADERS, findDuplicateHeader, headerSafe } from '../../src/http/auth-request.js';

describe('findDuplicateHeader (fuzzed against a count of lower-cased names)', () => {
  const name = fc.constantFrom(
    'Authorization',
    'authorization',
    'AUTHORIZATION',
    'X-Api-Key',
    'x-api-key',
    'Proxy-Authorization',
    'Host',
    'X-Other',
    'authorizatio',
    'authorizationx',
  );
  it(
    'answers the first credential header that repeats, whatever its case, and nothing else',
    () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(name, fc.string({ maxLength: 3 })), { maxLength: 8 }), (pairs) => {
          const raw = pairs.flat();
          const seen = new Set<string>();
          let expected: string | undefined;
          for (const [header] of pairs) {
            const lower = header.toLowerCase();
            if (!CREDENTIAL_HEADERS.includes(lower)) continue;
            if (seen.has(lower)) {
              expected = lower;
              break;
            }
            seen.add(lower);
          }
          expect(findDuplicateHeader(raw)).toBe(expected);
        }),
        fuzz(2000),
      );
    },
    FUZZ_TIMEOUT,
  );
});

describe('headerSafe (fuzzed)', () => {
  it('regression: a lone surrogate becomes U+FFFD instead of throwing URIError (found by this fuzzer)', () => {
    expect(headerSafe('\ud800x')).toBe('%EF%BF%BDx');
    expect(headerSafe('a\udc00\ud83d\ude00')).toBe('a%EF%BF%BD%F0%9F%98%80');
  });

  it(
    'never throws, and always answers a value Node accepts in a header, unchanged when already printable ASCII',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ unit: 'binary', maxLength: 20 }),
            // Lone surrogates: a JSON claim may carry "\ud800", and JSON.parse keeps it.
            fc.string({
              unit: fc.constantFrom('a', ' ', '\r', '\n', '\u0000', 'é', '\ud800', '\udc00', '\ud83d\ude00', '%'),
              maxLength: 12,
            }),
          ),
          (value) => {
            const safe = headerSafe(value);
            expect(safe).toMatch(/^[\x20-\x7e]*$/);
            expect(() => validateHeaderValue('x-auth-subject', safe)).not.toThrow();
            if (/^[\x20-\x7e]*$/.test(value)) expect(safe).toBe(value);
          },
        ),
        fuzz(2000),
      );
    },
    FUZZ_TIMEOUT,
  );
});
