/**
 * The OAuth rules that are pure logic: PKCE (replaying RFC 7636 Appendix B), redirect URI
 * registration and exact matching (docs/security.md #13, RFC 8252 §7.3), scope syntax (RFC 6749 §3.3),
 * repeated parameters (RFC 6749 §3.1), client secrets (docs/security.md #18, #20).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  applyRegistration,
  blankClient,
  generateClientSecret,
  hashClientSecret,
  verifyClientSecret,
} from '../../src/core/oauth/clients.js';
import { parseOAuthParams } from '../../src/core/oauth/params.js';
import { CODE_CHALLENGE, CODE_VERIFIER, s256, verifyPkce } from '../../src/core/oauth/pkce.js';
import { checkRedirectUriRegistration, matchRedirectUri } from '../../src/core/oauth/redirect-uri.js';
import { parseScope } from '../../src/core/oauth/scopes.js';

const vector = JSON.parse(
  readFileSync(new URL('../../../../test/vectors/oauth/rfc7636-appendix-b.json', import.meta.url), 'utf8'),
) as { code_verifier: string; code_challenge: string };

describe('PKCE (RFC 7636)', () => {
  it('replays RFC 7636 Appendix B', () => {
    expect(s256(vector.code_verifier)).toBe(vector.code_challenge);
    expect(verifyPkce(vector.code_verifier, vector.code_challenge)).toBe(true);
    expect(verifyPkce(`${vector.code_verifier.slice(0, -1)}A`, vector.code_challenge)).toBe(false);
    // `plain` would compare the verifier itself: never accepted.
    expect(verifyPkce(vector.code_challenge, vector.code_challenge)).toBe(false);
  });

  it('bounds the verifier to 43-128 unreserved characters and the challenge to 43 base64url', () => {
    expect(CODE_VERIFIER.test('a'.repeat(42))).toBe(false);
    expect(CODE_VERIFIER.test('a'.repeat(43))).toBe(true);
    expect(CODE_VERIFIER.test('a'.repeat(128))).toBe(true);
    expect(CODE_VERIFIER.test('a'.repeat(129))).toBe(false);
    expect(CODE_VERIFIER.test(`${'a'.repeat(42)}+`)).toBe(false);
    expect(CODE_VERIFIER.test(`${'a'.repeat(40)}-._~`)).toBe(true);
    expect(CODE_CHALLENGE.test(vector.code_challenge)).toBe(true);
    expect(CODE_CHALLENGE.test(`${vector.code_challenge}=`)).toBe(false);
  });
});

describe('redirect URIs', () => {
  const registered = ['https://app.example.com/cb', 'http://127.0.0.1/native', 'com.example.app:/oauth'];

  it('matches exactly: trailing slash, port, case, query, fragment and scheme all differ', () => {
    expect(matchRedirectUri('https://app.example.com/cb', registered)).toBe(true);
    for (const uri of [
      'https://app.example.com/cb/',
      'https://app.example.com:443/cb',
      'https://app.example.com:8443/cb',
      'https://APP.example.com/cb',
      'https://app.example.com/CB',
      'https://app.example.com/cb?x=1',
      'https://app.example.com/cb#x',
      'http://app.example.com/cb',
      'https://app.example.com/cb/../cb',
      'https://app.example.com.evil.com/cb',
    ]) {
      expect(matchRedirectUri(uri, registered), uri).toBe(false);
    }
  });

  it('lets only the port of a loopback IP literal vary (RFC 8252 §7.3)', () => {
    expect(matchRedirectUri('http://127.0.0.1:49152/native', registered)).toBe(true);
    expect(matchRedirectUri('http://127.0.0.1:49152/other', registered)).toBe(false);
    expect(matchRedirectUri('http://localhost:49152/native', registered)).toBe(false);
    expect(matchRedirectUri('https://127.0.0.1:49152/native', registered)).toBe(false);
    expect(matchRedirectUri('com.example.app:/oauth', registered)).toBe(true);
  });

  it('registers https, loopback http and reverse-domain schemes only', () => {
    for (const uri of [
      'https://a.example/cb',
      'http://127.0.0.1:8080/cb',
      'http://[::1]/cb',
      'http://localhost/cb',
      'com.example.app:/cb',
    ]) {
      expect(checkRedirectUriRegistration(uri), uri).toEqual({ ok: true });
    }
    for (const uri of [
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      'data:text/html,x',
      'file:///etc/passwd',
      'http://example.com/cb',
      'http://127.0.0.1.nip.io/cb',
      'https://a.example/cb#f',
      'https://user:pw@a.example/cb',
      'myapp:/cb',
      'cb',
      'https://a.example/c b',
    ]) {
      expect(checkRedirectUriRegistration(uri).ok, uri).toBe(false);
    }
  });
});

describe('parameters and scopes', () => {
  it('reports the first repeated parameter; resource and audience may repeat; empty means absent (RFC 6749 §3.1)', () => {
    expect(parseOAuthParams('a=1&b=2&a=1').duplicate).toBe('a');
    const repeated = parseOAuthParams('resource=https%3A%2F%2Fa&resource=https%3A%2F%2Fb&audience=x&scope=');
    expect(repeated.duplicate).toBeUndefined();
    expect(repeated.params.getAll('resource')).toEqual(['https://a', 'https://b']);
    expect(repeated.params.get('scope')).toBeUndefined();
  });

  it('parses scope tokens per RFC 6749 §3.3', () => {
    expect(parseScope('openid  profile openid')).toEqual({ ok: true, scopes: ['openid', 'profile'] });
    expect(parseScope('a"b').ok).toBe(false);
    expect(parseScope('a\\b').ok).toBe(false);
    expect(parseScope('café').ok).toBe(false);
  });
});

describe('client secrets', () => {
  it('are 256-bit base62 secrets checked against digests, with expiring previous secrets', () => {
    const secret = generateClientSecret();
    expect(secret).toMatch(/^ghcs_[0-9A-Za-z]{43}$/);
    const old = generateClientSecret();
    const now = Date.parse('2030-01-01T00:00:00Z');
    const client = {
      ...blankClient('cli_x', new Date(now).toISOString()),
      secrets: [
        { hash: hashClientSecret(secret), expiresAt: null },
        { hash: hashClientSecret(old), expiresAt: new Date(now + 1000).toISOString() },
      ],
    };
    expect(verifyClientSecret(client, secret, now)).toBe(true);
    expect(verifyClientSecret(client, old, now)).toBe(true);
    expect(verifyClientSecret(client, old, now + 1000)).toBe(false);
    expect(verifyClientSecret(client, 'ghcs_wrong', now)).toBe(false);
    expect(verifyClientSecret(undefined, secret, now)).toBe(false);
  });

  it('refuses registrations that make no sense, naming each field', () => {
    const base = blankClient('cli_x', '2030-01-01T00:00:00.000Z');
    const result = applyRegistration(base, {
      grant_types: ['authorization_code', 'implicit'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] },
      jwks_uri: 'http://keys.example.com/jwks',
      scope: 'ok bad"scope',
    });
    expect(result.ok).toBe(false);
    const fields = result.ok ? [] : result.problems.map((problem) => problem.field);
    expect(fields).toEqual(
      expect.arrayContaining(['grant_types', 'scope', 'jwks_uri', 'redirect_uris', 'jwks', 'jwks.keys.0']),
    );
  });
});
