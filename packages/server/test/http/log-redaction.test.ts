/**
 * What is logged (docs/security.md, "What is logged (redaction)"): no listener writes a
 * credential from the URL to the log, by parameter name or by the look of the value, and the
 * admin API refuses credentials in the query string with 400 naming the parameter, never
 * echoing the value. Guards issue 15 finding 3: `GET /admin/v1/users?admin_key=gh_admin_…`
 * wrote the admin key to the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/http/url-redaction.js';
import { startTestServer, type TestServer } from '../support/server.js';

const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU';

describe('redactUrl', () => {
  it.each([
    ['/x?admin_key=gh_admin_abcdef', '/x?admin_key=[redacted]'],
    ['/x?access_token=abc&limit=5', '/x?access_token=[redacted]&limit=5'],
    ['/cb?code=xyz&state=s1', '/cb?code=[redacted]&state=s1'],
    ['/x?CLIENT_SECRET=s', '/x?CLIENT_SECRET=[redacted]'],
    ['/x?client%5Fsecret=s', '/x?client%5Fsecret=[redacted]'],
    ['/x?assertion=a&client_assertion=b', '/x?assertion=[redacted]&client_assertion=[redacted]'],
    [
      '/x?password=p&key=k&secret=s&token=t',
      '/x?password=[redacted]&key=[redacted]&secret=[redacted]&token=[redacted]',
    ],
    ['/x?my_api_key=k&github_token=t', '/x?my_api_key=[redacted]&github_token=[redacted]'],
    // By the look of the value, whatever the name.
    ['/x?q=gk_0123_abcdef', '/x?q=[redacted]'],
    ['/x?q=ghcs_secret&r=ghr_refresh', '/x?q=[redacted]&r=[redacted]'],
    [`/x?note=${JWT}`, '/x?note=[redacted]'],
    [`/x?opaque=${'A'.repeat(40)}`, '/x?opaque=[redacted]'],
    ['/x?gh_admin_bare', '/x?[redacted]'],
    // Paths: a segment with one of our prefixes; ids stay.
    ['/v1/gh_admin_abc/users', '/v1/[redacted]/users'],
    ['/admin/v1/api-keys/key_0123456789abcdef', '/admin/v1/api-keys/key_0123456789abcdef'],
    ['/x#access_token=frag', '/x'],
    ['/plain?limit=5&cursor=WyIyMDMwIiwia2V5XzEiXQ', '/plain?limit=5&cursor=WyIyMDMwIiwia2V5XzEiXQ'],
  ])('%s → %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});

describe('credentials in URLs on a running server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('sqlite');
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('refuses the admin key in the admin query with 400 naming the parameter, and logs no secret', async () => {
    const key = server.adminKey;
    expect(key).toMatch(/^gh_admin_/);
    for (const [query, field] of [
      [`admin_key=${key}`, 'admin_key'],
      [`ADMIN_KEY=${encodeURIComponent(key)}`, 'ADMIN_KEY'],
      [`q=${key}`, 'q'],
      [key, 'query'],
      [`access_token=${JWT}`, 'access_token'],
      [`limit=5&api_key=gk_x&token=t`, 'api_key'],
    ] as const) {
      const response = await fetch(`${server.adminUrl}/admin/v1/users?${query}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      const text = await response.text();
      expect(response.status, query).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const body = JSON.parse(text);
      expect(body.type).toBe('urn:gatehouse:problem:invalid-request');
      expect(body.errors.map((error: { field: string }) => error.field)).toContain(field);
      expect(text).not.toContain(key);
      expect(text).not.toContain(JWT);
    }
    // Without a key, too: the refusal comes before authentication, and says nothing about the key.
    const anonymous = await fetch(`${server.adminUrl}/admin/v1/users?admin_key=${key}`);
    expect(anonymous.status).toBe(400);
    // Ordinary queries still work.
    expect((await server.admin('GET', '/admin/v1/users?limit=5')).status).toBe(200);
    const log = server.logs.join('');
    expect(log).toContain('/admin/v1/users?admin_key=[redacted]');
    expect(log).not.toContain(key);
    expect(log).not.toContain(JWT);
    expect(log).not.toContain(key.slice('gh_admin_'.length));
  });

  it('logs no credential from a public-listener URL', async () => {
    const secrets = ['ghr_refreshrefresh', 'ghcs_clientsecret', 'gk_somekey_value', JWT, 'hunter2-password'];
    await fetch(`${server.publicUrl}/auth/verify?access_token=${JWT}&api_key=gk_somekey_value`);
    await fetch(`${server.publicUrl}/oauth/authorize?code=ghr_refreshrefresh&client_secret=ghcs_clientsecret`);
    await fetch(`${server.publicUrl}/no-such-path?password=hunter2-password&x=${JWT}`);
    await fetch(`${server.publicUrl}/oauth/token?client_secret=ghcs_clientsecret`, { method: 'POST' });
    const log = server.logs.join('');
    for (const secret of secrets) expect(log, secret).not.toContain(secret);
  });
});
