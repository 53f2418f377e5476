/**
 * Canonical request targets: every spelling of a path that servers might read as another path
 * either becomes that path or is refused, so a route policy cannot be dodged.
 */
import { describe, expect, it } from 'vitest';
import { canonicalTarget, MAX_TARGET_LENGTH, withoutQueryParameters } from '../../src/core/policies/request-target.js';

const pathOf = (target: string): string => {
  const result = canonicalTarget(target);
  if (!result.ok) throw new Error(`refused ${target}: ${result.detail}`);
  return result.path;
};
const reasonOf = (target: string): string => {
  const result = canonicalTarget(target);
  if (result.ok) throw new Error(`accepted ${target} as ${result.path}`);
  return result.reason;
};

describe('canonicalTarget', () => {
  it('keeps canonical paths and splits off the query untouched', () => {
    expect(canonicalTarget('/data/items?limit=10&b=%2F')).toEqual({
      ok: true,
      path: '/data/items',
      query: 'limit=10&b=%2F',
    });
    expect(pathOf('/')).toBe('/');
    expect(pathOf('/data/')).toBe('/data/');
    expect(pathOf('/.well-known/openid-configuration')).toBe('/.well-known/openid-configuration');
    expect(pathOf('/a..b/...')).toBe('/a..b/...');
    expect(pathOf("/a:b@c!$&'()*+,;=")).toBe("/a:b@c!$&'()*+,;=");
  });

  it('removes dot segments, also percent-encoded ones (RFC 3986 §5.2.4)', () => {
    expect(pathOf('/data/../admin')).toBe('/admin');
    expect(pathOf('/data/./x/.')).toBe('/data/x/');
    expect(pathOf('/data/%2e%2e/admin')).toBe('/admin');
    expect(pathOf('/data/%2E%2e/admin')).toBe('/admin');
    expect(pathOf('/data/.%2e/admin')).toBe('/admin');
    expect(pathOf('/../../admin')).toBe('/admin');
    expect(pathOf('/data/..')).toBe('/');
    expect(pathOf('/a/b/c/../../d')).toBe('/a/d');
  });

  it('merges empty segments (//data is /data)', () => {
    expect(pathOf('//data')).toBe('/data');
    expect(pathOf('/data//x///y')).toBe('/data/x/y');
    expect(pathOf('//')).toBe('/');
  });

  it('decodes unreserved characters and upper-cases the hex of the rest (RFC 3986 §6.2.2)', () => {
    expect(pathOf('/%61dmin')).toBe('/admin');
    expect(pathOf('/%7euser')).toBe('/~user');
    expect(pathOf('/a%20b')).toBe('/a%20b');
    expect(pathOf('/a%3fb')).toBe('/a%3Fb');
    expect(pathOf('/caf%c3%a9')).toBe('/caf%C3%A9');
    // Characters outside pchar are encoded rather than passed on raw.
    expect(pathOf('/a"b<c>')).toBe('/a%22b%3Cc%3E');
  });

  it('refuses encoded slashes and backslashes, raw backslashes and control characters', () => {
    expect(reasonOf('/data%2fadmin')).toBe('encoded_slash');
    expect(reasonOf('/data%2F..%2Fadmin')).toBe('encoded_slash');
    expect(reasonOf('/data%5cadmin')).toBe('encoded_slash');
    expect(reasonOf('/data\\..\\admin')).toBe('encoded_slash');
    expect(reasonOf('/data%00')).toBe('bad_character');
    expect(reasonOf('/data%0d%0aX-Injected:1')).toBe('bad_character');
    expect(reasonOf('/da ta')).toBe('bad_character');
    expect(reasonOf('/d\u00e9')).toBe('bad_character');
  });

  it('refuses broken percent-encoding and invalid UTF-8', () => {
    expect(reasonOf('/data%zz')).toBe('bad_encoding');
    expect(reasonOf('/data%2')).toBe('bad_encoding');
    expect(reasonOf('/data%c3')).toBe('bad_encoding');
    expect(reasonOf('/%c0%ae%c0%ae/admin')).toBe('bad_encoding'); // overlong "." (CVE-2000-0884 style)
  });

  it('refuses fragments and anything but origin-form', () => {
    expect(reasonOf('/data#x')).toBe('fragment');
    expect(reasonOf('/data?a=1#x')).toBe('fragment');
    expect(reasonOf('http://example.com/data')).toBe('not_origin_form');
    expect(reasonOf('*')).toBe('not_origin_form');
    expect(reasonOf('')).toBe('not_origin_form');
    expect(reasonOf(`/${'a'.repeat(MAX_TARGET_LENGTH)}`)).toBe('too_long');
  });

  it('answers quickly for long hostile paths (no regular-expression backtracking)', () => {
    const hostile = `/${'a'.repeat(MAX_TARGET_LENGTH - 2)}%`;
    expect(reasonOf(hostile)).toBe('bad_encoding');
  });
});

describe('withoutQueryParameters', () => {
  it('removes credential parameters, also when their names are percent-encoded', () => {
    expect(withoutQueryParameters('api_key=s3cret&a=1', ['api_key'])).toBe('a=1');
    expect(withoutQueryParameters('a=1&api%5Fkey=s3cret&b=2&api_key', ['api_key'])).toBe('a=1&b=2');
    expect(withoutQueryParameters('a=1&b=2', ['api_key'])).toBe('a=1&b=2');
    expect(withoutQueryParameters('', ['api_key'])).toBe('');
    expect(withoutQueryParameters('api_key=x', ['api_key'])).toBe('');
    expect(withoutQueryParameters('%zz=1', ['api_key'])).toBe('%zz=1');
  });
});
