/**
 * The duplicate-member check behind "a JWT's header and claims name each member once"
 * (RFC 7515 §4, RFC 7519 §4): `JSON.parse` keeps the last of two equal names silently, so the
 * members at depth one are counted in the text and compared with the parsed object's keys.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  base64urlByteLength,
  decodeBase64urlInto,
  isCanonicalBase64url,
  parseJsonObject,
  topLevelMemberCount,
} from '../../src/jwt/syntax.js';

/** decodeBase64urlInto as a function of one string: the bytes, or undefined when refused. */
function decode(text: string): Buffer | undefined {
  const out = Buffer.alloc(base64urlByteLength(text.length));
  return decodeBase64urlInto(text, 0, text.length, out) ? out : undefined;
}

describe('decodeBase64urlInto', () => {
  it("decodes what Node's own encoder writes, at every length up to 300 bytes", () => {
    for (let length = 0; length <= 300; length++) {
      for (const bytes of [randomBytes(length), Buffer.alloc(length, 0xff), Buffer.alloc(length, 0)]) {
        const text = bytes.toString('base64url');
        expect(base64urlByteLength(text.length)).toBe(length);
        expect(decode(text)).toEqual(bytes);
      }
    }
  });

  it.each([
    ['a length of 1 mod 4', 'AAAAA'],
    ['padding', 'AA=='],
    ['standard base64 characters', 'ab+/'],
    ['whitespace', 'AAA AAAA'],
    ['a dot', 'AA.A'],
    ['non-zero unused bits after one byte', 'AB'],
    ['non-zero unused bits after two bytes', 'AAB'],
    ['a Latin-1 character whose low seven bits are an alphabet letter', 'AA\u00c1A'],
    ['a character beyond Latin-1 whose low seven bits are one', 'AAA\u0141'],
    ['an emoji', 'AA\u{1F600}'],
    ['NUL', 'AAA\u0000'],
  ])('refuses %s', (_what, text) => {
    expect(isCanonicalBase64url(text)).toBe(false);
    expect(decode(text)).toBeUndefined();
  });

  it('accepts exactly what isCanonicalBase64url accepts, on random strings of a mixed alphabet', () => {
    const alphabet = 'AQgw_-09azZ+/=.\u00c1\u0141';
    for (let run = 0; run < 5000; run++) {
      const length = run % 13;
      let text = '';
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(Math.random() * alphabet.length)];
      const decoded = decode(text);
      expect(decoded !== undefined, JSON.stringify(text)).toBe(isCanonicalBase64url(text));
      if (decoded) expect(decoded).toEqual(Buffer.from(text, 'base64url'));
    }
  });

  it('decodes a range of a longer string, whatever surrounds it', () => {
    const bytes = randomBytes(100);
    const text = `Łé.${bytes.toString('base64url')}.+/=`;
    const out = Buffer.alloc(100);
    expect(decodeBase64urlInto(text, 3, text.length - 4, out)).toBe(true);
    expect(out).toEqual(bytes);
    expect(decodeBase64urlInto(text, 2, text.length - 4, Buffer.alloc(100))).toBe(false); // takes the '.'
    expect(decodeBase64urlInto(text, 3, text.length - 3, Buffer.alloc(101))).toBe(false); // takes the second '.'
  });
});

describe('topLevelMemberCount', () => {
  it.each([
    ['{}', 0],
    ['{"a":1}', 1],
    ['{"a":1,"b":{"c":2,"d":[3,{"e":4}]},"f":"g"}', 3],
    ['{"a":"x:y,z","b":"{\\"c\\":1}"}', 2], // colons, braces and escaped quotes inside strings
    ['{"a\\\\":1,"b":2}', 2], // a key ending in an escaped backslash: its quote is the real end
    ['{"a":"\\\\\\"","b":2}', 2], // escaped backslash, then escaped quote, then the end
    ['{ "a" : 1 , "b" : [ ":" ] }', 2],
    ['{"ü":"é","€":1}', 2],
  ])('counts %s as %i', (text, count) => {
    expect(JSON.parse(text)).toBeTypeOf('object');
    expect(topLevelMemberCount(text)).toBe(count);
  });
});

describe('parseJsonObject', () => {
  it('refuses a repeated member name, wherever the strings around it would mislead a scanner', () => {
    expect(parseJsonObject('{"sub":"a","sub":"b"}')).toEqual({ ok: false, problem: 'repeats a member name' });
    expect(parseJsonObject('{"x":"\\"","sub":"a","sub":"b"}')).toMatchObject({ ok: false });
    expect(parseJsonObject('{"x\\\\":"y","sub":"a","sub":"b"}')).toMatchObject({ ok: false });
    expect(parseJsonObject('{"o":{"sub":1,"sub":2}}')).toMatchObject({ ok: true }); // nested: not a claim name
  });

  it('accepts distinct names and refuses what is not a JSON object', () => {
    expect(parseJsonObject('{"sub":"a","x":"\\"sub\\":1"}')).toEqual({ ok: true, value: { sub: 'a', x: '"sub":1' } });
    expect(parseJsonObject('[1]')).toEqual({ ok: false, problem: 'is not a JSON object' });
    expect(parseJsonObject('{"a":')).toEqual({ ok: false, problem: 'is not JSON' });
  });
});
