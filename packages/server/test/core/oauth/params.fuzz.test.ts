/**
 * Property-based fuzzing of the OAuth parameter parser (src/core/oauth/params.ts, used for every
 * form body and query by src/http/oauth/form.ts) against a model of the WHATWG
 * application/x-www-form-urlencoded parser (split on `&`, first `=`, `+` is a space, lenient
 * percent-decoding, UTF-8 with replacement) plus RFC 6749 §3.1: a parameter sent without a value
 * is omitted, and none but `resource` / `audience` may be included more than once — however its
 * name is spelled (`client%5Fid`, `%63lient_id`). Runs: test/fuzz/runs.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_TIMEOUT, fuzz } from '../../../../../test/fuzz/runs.js';
import { parseOAuthParams } from '../../../src/core/oauth/params.js';

/** WHATWG URL §5.1 "percent-decode", then UTF-8 decode without BOM or fail. */
function formDecode(text: string): string {
  const bytes = Buffer.from(text.replaceAll('+', ' ').replace(/\p{Cs}/gu, '\uFFFD'), 'utf8');
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    const hex = bytes.subarray(i + 1, i + 3).toString('latin1');
    if (byte === 0x25 && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      out.push(Number.parseInt(hex, 16));
      i += 2;
    } else out.push(byte);
  }
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(Uint8Array.from(out));
}

const REPEATABLE = new Set(['resource', 'audience']);

function model(text: string): { first: Map<string, string[]>; duplicate: string | undefined } {
  const first = new Map<string, string[]>();
  let duplicate: string | undefined;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = formDecode(equals === -1 ? pair : pair.slice(0, equals));
    const value = formDecode(equals === -1 ? '' : pair.slice(equals + 1));
    if (value === '') continue; // RFC 6749 §3.1: treated as omitted
    const list = first.get(name);
    if (!list) first.set(name, [value]);
    else if (REPEATABLE.has(name)) list.push(value);
    else duplicate ??= name;
  }
  return { first, duplicate };
}

/** A name spelled with random percent-encoding (upper or lower hex) and `+` for spaces. */
const spelled = (name: string, choices: readonly number[]): string =>
  [...name]
    .map((char, i) => {
      const choice = choices[i % choices.length] as number;
      if (char === ' ' && choice === 1) return '+';
      if (choice === 0) return encodeURIComponent(char).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
      const hex = Buffer.from(char, 'utf8').toString('hex');
      const encoded = hex.replace(/../g, (byte) => `%${byte}`);
      return choice === 2 ? encoded.toUpperCase() : choice === 3 ? encoded : encodeURIComponent(char);
    })
    .join('');

const NAMES = ['client_id', 'grant_type', 'scope', 'resource', 'audience', 'code', 'redirect_uri', 'a b', 'é', ''];
const pairText = fc
  .record({
    name: fc.constantFrom(...NAMES),
    choices: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }),
    value: fc.oneof(
      fc.constant(''),
      fc.string({ maxLength: 6 }),
      fc.constantFrom('%', '%zz', '%C3', '%C3%A9', '+', '=', '%26'),
    ),
    bare: fc.boolean(),
  })
  .map(({ name, choices, value, bare }) =>
    bare
      ? spelled(name, choices)
      : `${spelled(name, choices)}=${value.includes('%') ? value : encodeURIComponent(value)}`,
  );
const formText = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom('', '?', '&', '??'), fc.array(pairText, { maxLength: 6 }))
      .map(([lead, pairs]) => lead + pairs.join('&')),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.string({
      unit: fc.constantFrom('a', '=', '&', '%', '2', 'F', '+', ';', 'é', '\u0000'),
      maxLength: 30,
    }),
  },
);

describe('parseOAuthParams (fuzzed against a WHATWG form model and RFC 6749 §3.1)', () => {
  it('regression: a leading "?" is part of the first name, as the form parser reads it (found by this fuzzer)', () => {
    // URLSearchParams' constructor strips it, so `?client_id=x` used to read as `client_id`.
    const parsed = parseOAuthParams('?client_id=x&scope=a');
    expect(parsed.params.get('client_id')).toBeUndefined();
    expect(parsed.params.get('?client_id')).toBe('x');
    expect(parsed.params.get('scope')).toBe('a');
    expect(parseOAuthParams('?grant_type=a&grant_type=b').duplicate).toBeUndefined();
  });

  it('regression: raw non-ASCII next to a stray "%" reads as the WHATWG parser reads it (found by this fuzzer)', () => {
    // Node 20's URLSearchParams read `é%+aa` as `\ufffd% aa` and `é%aa` as `\ufffd`.
    expect(parseOAuthParams('state=é%+aa').params.get('state')).toBe('é% aa');
    expect(parseOAuthParams('é%aa=1').params.names()).toEqual(['é\ufffd']);
    expect(parseOAuthParams('state=\ud800').params.get('state')).toBe('\ufffd');
  });

  it(
    'never throws, reports the first repeated parameter however it is spelled, and reads every value the model reads',
    () => {
      fc.assert(
        fc.property(formText, (text) => {
          const parsed = parseOAuthParams(text);
          const expected = model(text);
          expect(parsed.duplicate, text).toBe(expected.duplicate);
          expect(new Set(parsed.params.names()), text).toEqual(new Set(expected.first.keys()));
          for (const [name, values] of expected.first) {
            expect(parsed.params.get(name), text).toBe(values[0]);
            if (REPEATABLE.has(name)) expect(parsed.params.getAll(name)).toEqual(values);
          }
        }),
        fuzz(2500),
      );
    },
    FUZZ_TIMEOUT,
  );
});
