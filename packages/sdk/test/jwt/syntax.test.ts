/**
 * The duplicate-member check behind "a JWT's header and claims name each member once"
 * (RFC 7515 §4, RFC 7519 §4): `JSON.parse` keeps the last of two equal names silently, so the
 * members at depth one are counted in the text and compared with the parsed object's keys.
 */
import { describe, expect, it } from 'vitest';
import { parseJsonObject, topLevelMemberCount } from '../../src/jwt/syntax.js';

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
