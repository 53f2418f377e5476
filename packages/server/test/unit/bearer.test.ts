/**
 * Reading `Authorization: Bearer …` without a regular expression (core/pipeline/bearer.ts) and the
 * JWT authenticator's choice of what is a JWT (RFC 6750 §2.1; the scheme is case-insensitive,
 * RFC 9110 §11.1).
 */
import { describe, expect, it } from 'vitest';
import { afterBearerScheme } from '../../src/core/pipeline/bearer.js';
import { bearerJwt } from '../../src/core/tokens/jwt-authenticator.js';

describe('afterBearerScheme', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER abc', 'abc'],
    ['BeArEr    abc def ', 'abc def '],
    ['Bearer a', 'a'],
  ])('reads %j as %j', (header, credential) => {
    expect(afterBearerScheme(header)).toBe(credential);
  });

  it.each([
    [undefined],
    [''],
    ['Bearer'],
    ['Bearer '],
    ['Bearer    '],
    ['Bearerabc'],
    ['Bearer\tabc'],
    ['Basic abc'],
    ['Bearex abc'],
    ['Bearér abc'],
    ['Bearer\u00a0abc'],
    [' Bearer abc'],
    ['Bea@er abc'], // '@' | 0x20 is '`', not 'r': only letters fold
  ])('finds no bearer credential in %j', (header) => {
    expect(afterBearerScheme(header)).toBeUndefined();
  });
});

describe('bearerJwt', () => {
  const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';

  it('takes a dotted bearer credential, forgiving trailing spaces', () => {
    expect(bearerJwt(`Bearer ${jwt}`, 8192)).toBe(jwt);
    expect(bearerJwt(`bearer   ${jwt}   `, 8192)).toBe(jwt);
  });

  it('leaves credentials without a dot (an API key) and other schemes to other mechanisms', () => {
    expect(bearerJwt('Bearer gk_abc', 8192)).toBeUndefined();
    expect(bearerJwt(`Basic ${jwt}`, 8192)).toBeUndefined();
    expect(bearerJwt(undefined, 8192)).toBeUndefined();
  });

  it('refuses a token over the length cap before anything looks at it (docs/security.md #12)', () => {
    expect(bearerJwt(`Bearer ${jwt}`, jwt.length - 1)).toEqual({ refuse: 'ERR_JWT_TOO_LARGE' });
    expect(bearerJwt(`Bearer ${jwt}`, jwt.length)).toBe(jwt);
  });

  it('passes odd characters through to the JWT core, which refuses them as malformed', () => {
    expect(bearerJwt(`Bearer ${jwt}!`, 8192)).toBe(`${jwt}!`);
    expect(bearerJwt(`Bearer ${jwt}\u00a0`, 8192)).toBe(`${jwt}\u00a0`);
  });
});
