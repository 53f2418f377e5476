/**
 * Finding the credential in request headers (RFC 6750 §2.1, RFC 7617 §2, RFC 9110 §11.4): what is
 * recognised, what is somebody else's, and what is malformed (400 invalid_request, docs/security.md #28).
 */
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../src/index.js';
import { findCredential, findRepeatedHeader, toHeaderLookup } from '../src/verifier/credentials.js';

const find = (headers: Record<string, string | string[]>) => findCredential(toHeaderLookup(headers), 'x-api-key', 'gk');
const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln';

function malformed(headers: Record<string, string | string[]>): string {
  try {
    find(headers);
  } catch (error) {
    if (error instanceof InvalidRequestError) return error.code;
    throw error;
  }
  throw new Error('accepted');
}

describe('findCredential', () => {
  it('reads Bearer tokens with a case-insensitive scheme and one or more spaces', () => {
    for (const header of [`Bearer ${JWT}`, `bearer ${JWT}`, `BEARER   ${JWT}`]) {
      expect(find({ authorization: header })).toMatchObject({ kind: 'jwt', value: JWT, header: 'authorization' });
    }
  });

  it('tells JWTs, Gatehouse API keys (by prefix) and opaque tokens apart', () => {
    expect(find({ authorization: 'Bearer gk_abc123' })?.kind).toBe('apikey');
    expect(find({ authorization: 'Bearer 2YotnFZFEjr1zCsicMWpAA' })?.kind).toBe('opaque');
    expect(find({ authorization: 'Bearer a.b' })?.kind).toBe('opaque');
    expect(find({ authorization: 'Bearer a..c' })?.kind).toBe('opaque');
    expect(find({ authorization: 'Bearer a.b.' })?.kind).toBe('jwt'); // the JWT core refuses it with a precise code
    expect(find({ 'x-api-key': '  gk_abc  ' })).toMatchObject({ kind: 'apikey', value: 'gk_abc', header: 'x-api-key' });
    expect(find({ authorization: 'Basic Ym9iOnB3' })).toMatchObject({ kind: 'basic', headerValue: 'Basic Ym9iOnB3' });
  });

  it('treats other schemes and empty headers as no credential', () => {
    expect(find({})).toBeUndefined();
    expect(find({ authorization: '' })).toBeUndefined();
    expect(find({ authorization: 'Digest username="bob"' })).toBeUndefined();
    expect(find({ authorization: 'DPoP abc' })).toBeUndefined();
  });

  it('refuses malformed and ambiguous requests with 400 invalid_request', () => {
    expect(malformed({ authorization: 'Bearer' })).toBe('ERR_MALFORMED_AUTHORIZATION');
    expect(malformed({ authorization: 'Bearer two tokens' })).toBe('ERR_MALFORMED_AUTHORIZATION');
    // What a Fetch `Headers` makes of two Authorization headers: one value joined with ", ".
    expect(malformed({ authorization: `Bearer ${JWT}, Bearer other` })).toBe('ERR_MALFORMED_AUTHORIZATION');
    expect(malformed({ authorization: 'Basic' })).toBe('ERR_MALFORMED_AUTHORIZATION');
    expect(malformed({ authorization: '(bad) scheme' })).toBe('ERR_MALFORMED_AUTHORIZATION');
    expect(malformed({ authorization: ['Bearer a', 'Bearer b'] })).toBe('ERR_DUPLICATE_HEADER');
    expect(malformed({ authorization: `Bearer ${JWT}`, 'x-api-key': 'gk_x' })).toBe('ERR_MULTIPLE_CREDENTIALS');
  });

  it('never reads a credential from the URL (docs/security.md #26)', () => {
    expect(find({ ':path': '/orders?access_token=abc&api_key=gk_x' })).toBeUndefined();
  });
});

describe('findRepeatedHeader', () => {
  it('sees a second credential header that req.headers hides (docs/security.md #28)', () => {
    const names = ['authorization', 'x-api-key'];
    expect(findRepeatedHeader(['Authorization', 'Bearer a', 'Host', 'x', 'authorization', 'Bearer b'], names)).toBe(
      'authorization',
    );
    expect(findRepeatedHeader(['X-Api-Key', 'a', 'X-API-KEY', 'b'], names)).toBe('x-api-key');
    expect(findRepeatedHeader(['Authorization', 'Bearer a', 'X-API-Key', 'b'], names)).toBeUndefined();
  });
});
