/**
 * Property-based fuzzing of request-target canonicalisation (src/core/policies/request-target.ts),
 * which decides the route a request falls under. Properties: it never throws; a canonical result
 * is a fixed point (canonicalising it again changes nothing) made only of `/`, pchar and upper-case
 * percent-encodings with no empty or dot segment; every re-spelling of a path that RFC 3986 §6.2.2
 * and §5.2.4 say is equivalent (dot segments, doubled slashes, percent-encoded unreserved
 * characters, lower-case hex) lands on the same canonical path, the one RFC 3986 §5.2.4's own
 * algorithm gives. Runs: test/fuzz/runs.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_TIMEOUT, fuzz } from '../../../../../test/fuzz/runs.js';
import { canonicalTarget, withoutQueryParameters } from '../../../src/core/policies/request-target.js';

/**
 * RFC 3986 §5.2.4 "remove_dot_segments", step by step as the RFC writes it (Node's WHATWG URL
 * parser cannot be the reference: Node 20 leaves `/a/.b/./c` as it is).
 */
function removeDotSegments(path: string): string {
  let input = path;
  let output = '';
  const dropLast = () => {
    output = output.slice(0, Math.max(0, output.lastIndexOf('/')));
  };
  while (input.length > 0) {
    if (input.startsWith('../')) input = input.slice(3);
    else if (input.startsWith('./')) input = input.slice(2);
    else if (input.startsWith('/./')) input = input.slice(2);
    else if (input === '/.') input = '/';
    else if (input.startsWith('/../')) {
      input = input.slice(3);
      dropLast();
    } else if (input === '/..') {
      input = '/';
      dropLast();
    } else if (input === '.' || input === '..') input = '';
    else {
      const first = /^\/?[^/]*/.exec(input)?.[0] as string;
      output += first;
      input = input.slice(first.length);
    }
  }
  return output;
}

const REASONS = ['not_origin_form', 'bad_character', 'encoded_slash', 'bad_encoding', 'fragment', 'too_long'];
const CANONICAL_PATH = /^(?:\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-F]{2})*)+$/;

/** Characters and fragments that make canonicalisation interesting. */
const targetChar = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      '/',
      '.',
      'a',
      'B',
      '~',
      '-',
      '%',
      '2',
      'e',
      'E',
      'f',
      'F',
      '5',
      'c',
      '?',
      '#',
      '\\',
      ';',
      '@',
      ':',
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '%2e',
      '%2E',
      '%2f',
      '%5C',
      '%00',
      '%41',
      '%7e',
      '%C3%A9',
      '%C3',
      '%e2%82',
      '%25',
      '%20',
      '..',
      '//',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
const target = fc.oneof(
  fc.array(targetChar, { maxLength: 24 }).map((parts) => `/${parts.join('')}`),
  fc.string({ maxLength: 30 }),
);

describe('canonicalTarget (fuzzed)', () => {
  it(
    'never throws; answers a typed refusal or a canonical path that is its own canonical form',
    () => {
      fc.assert(
        fc.property(target, (raw) => {
          const result = canonicalTarget(raw);
          if (!result.ok) {
            expect(REASONS).toContain(result.reason);
            return;
          }
          expect(result.path, raw).toMatch(CANONICAL_PATH);
          expect(result.path.split('/').slice(1, -1)).not.toContain('');
          expect(result.path.split('/')).not.toContain('.');
          expect(result.path.split('/')).not.toContain('..');
          expect(result.path).not.toMatch(/%(?:2F|5C|2E|[46][1-9A-F]|[57][0-9A]|3[0-9]|5F|7E|2D)/);
          const again = canonicalTarget(result.query ? `${result.path}?${result.query}` : result.path);
          expect(again, raw).toEqual(result);
        }),
        fuzz(3000),
      );
    },
    FUZZ_TIMEOUT,
  );

  const UNRESERVED = 'ABCXYZabcxyz0189-._~';
  const segment = fc
    .string({ unit: fc.constantFrom(...UNRESERVED, '!', '$', '(', '=', ':', '@'), minLength: 1, maxLength: 5 })
    .filter((text) => text !== '.' && text !== '..');

  /** One equivalent spelling of `/a/b/c`: dot segments, extra slashes, encoded unreserved characters. */
  const respelled = fc
    .record({
      segments: fc.array(segment, { minLength: 1, maxLength: 5 }),
      noise: fc.array(fc.constantFrom('', '/.', '/./', '//', '/%2e', '/x/..', '/x/%2E%2e', '/%2E/'), {
        minLength: 5,
        maxLength: 5,
      }),
      encode: fc.array(fc.constantFrom('none', 'upper', 'lower'), { minLength: 1, maxLength: 6 }),
    })
    .map(({ segments, noise, encode }) => {
      const encodeChar = (char: string, i: number) => {
        const how = encode[i % encode.length];
        if (!UNRESERVED.includes(char) || how === 'none') return char;
        const hex = char.charCodeAt(0).toString(16).padStart(2, '0');
        return `%${how === 'upper' ? hex.toUpperCase() : hex}`;
      };
      const plain = `/${segments.join('/')}`;
      const spelled = segments
        .map((part, i) => `${(noise[i] ?? '').replace(/\/$/, '')}/${[...part].map(encodeChar).join('')}`)
        .join('');
      return { plain, spelled };
    });

  it(
    'maps every equivalent spelling of a path to the same canonical path, as RFC 3986 §5.2.4 resolves it',
    () => {
      fc.assert(
        fc.property(respelled, ({ plain, spelled }) => {
          const canonical = canonicalTarget(spelled);
          expect(canonical, spelled).toMatchObject({ ok: true, path: plain });
          // RFC 3986 §5.2.4 literally, after §6.2.2.2 decoding and merging slashes, says the same.
          expect(removeDotSegments(decodeURIComponent(spelled).replace(/\/+/g, '/')), spelled).toBe(plain);
        }),
        fuzz(2000),
      );
    },
    FUZZ_TIMEOUT,
  );
});

describe('withoutQueryParameters (fuzzed against URLSearchParams)', () => {
  const pair = fc
    .record({
      name: fc.constantFrom(
        'api_key',
        'api%5Fkey',
        'api%5fkey',
        '%61pi_key',
        'access_token',
        'api_key%zz',
        'api+key',
        'x',
        'API_KEY',
        '',
      ),
      value: fc.string({ unit: fc.constantFrom('a', '%', '=', '+', '2', 'é'), maxLength: 4 }),
      bare: fc.boolean(),
    })
    .map(({ name, value, bare }) => (bare ? name : `${name}=${value}`));
  it(
    'never throws, and leaves no parameter that a form parser reads as one of the removed names',
    () => {
      fc.assert(
        fc.property(
          fc.array(pair, { maxLength: 6 }).map((pairs) => pairs.join('&')),
          (query) => {
            const names = ['api_key', 'access_token'];
            const kept = withoutQueryParameters(query, names);
            for (const [name] of new URLSearchParams(kept)) expect(names, `${query} → ${kept}`).not.toContain(name);
          },
        ),
        fuzz(2000),
      );
    },
    FUZZ_TIMEOUT,
  );
});
