/**
 * The gateway removes identity-looking headers it does not own before forwarding (docs/security.md
 * #36; docs/gateway.md, "Headers the gateway removes"): the identity headers upstream frameworks
 * and other auth proxies trust, by default, plus `proxy.strip_headers` on every route and a
 * route's own `strip_headers`. Guards issue 15 finding 5: `X-User-Id: admin` from the client
 * reached the upstream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRoutes } from '../../src/config/routes.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { type SeenRequest, startUpstream, type TestUpstream } from '../support/upstream.js';

/** Header names a client might send to impersonate someone, as upstreams would read them. */
const IDENTITY_HEADERS = [
  'X-User-Id',
  'X-User',
  'X-User-Email',
  'X-User-Roles',
  'X-Forwarded-User',
  'X-Forwarded-Email',
  'X-Forwarded-Groups',
  'X-Forwarded-Preferred-Username',
  'X-Remote-User',
  'X-Remote-Group',
  'Remote-User',
  'Remote-Groups',
  'X-Auth-Request-User',
  'X-Auth-Request-Email',
  'X-Authenticated-User',
  'X-Authenticated-Userid',
  'X-Auth-Subject',
  'X-Consumer-Username',
  'X-WEBAUTH-USER',
  'X-MS-CLIENT-PRINCIPAL-NAME',
  'X-Goog-Authenticated-User-Email',
  'X-Amzn-Oidc-Identity',
  'Cf-Access-Authenticated-User-Email',
];

describe('gateway header stripping', () => {
  let server: TestServer;
  let upstream: TestUpstream;
  const lastSeen = (): SeenRequest => upstream.seen[upstream.seen.length - 1] as SeenRequest;
  const get = (path: string, headers: Record<string, string>) => fetch(`${server.proxyUrl}${path}`, { headers });

  beforeAll(async () => {
    upstream = await startUpstream();
    server = await startTestServer('sqlite', {
      env: { GATEHOUSE_PROXY_STRIP_HEADERS: 'X-Global-Secret, X-Corp-*' },
      routes: [
        { name: 'open', match: { path: '/open' }, upstream: upstream.url, auth: ['anonymous'] },
        {
          name: 'tenant',
          match: { path: '/tenant' },
          upstream: upstream.url,
          auth: ['anonymous'],
          strip_headers: ['X-Tenant-Id', 'X-Internal-*'],
        },
      ],
    });
  });
  afterAll(async () => {
    await server?.stop();
    await upstream?.close();
  });

  it('never forwards client-sent identity headers (X-User-Id: admin and friends)', async () => {
    const sent = Object.fromEntries(IDENTITY_HEADERS.map((name) => [name, 'admin']));
    const response = await get('/open/x', { ...sent, 'X-Harmless': 'kept' });
    expect(response.status).toBe(200);
    const seen = lastSeen().headers;
    for (const name of IDENTITY_HEADERS) {
      if (name === 'X-Forwarded-User' || name.startsWith('X-Auth-')) continue;
      expect(seen, name).not.toHaveProperty(name.toLowerCase());
    }
    expect(Object.values(seen)).not.toContain('admin');
    // The gateway's own identity header says who the caller really is.
    expect(seen['x-auth-method']).toBe('anonymous');
    expect(seen['x-harmless']).toBe('kept');
  });

  it('judges underscore spellings as the dashed names CGI-style upstreams read them as', async () => {
    const response = await get('/open/x', {
      X_User_Id: 'admin',
      X_Auth_Subject: 'admin',
      Remote_User: 'admin',
      X_Forwarded_User: 'admin',
      X_Harmless_Too: 'kept',
    });
    expect(response.status).toBe(200);
    const seen = lastSeen().headers;
    expect(Object.values(seen)).not.toContain('admin');
    expect(seen.x_harmless_too).toBe('kept');
  });

  it('strips proxy.strip_headers on every route, and a route’s strip_headers on that route only', async () => {
    const headers = {
      'X-Global-Secret': 'g',
      'X-Corp-Role': 'boss',
      'X-Tenant-Id': 'acme',
      'X-Internal-Flag': 'on',
    };
    await get('/open/x', headers);
    const open = lastSeen().headers;
    expect(open).not.toHaveProperty('x-global-secret');
    expect(open).not.toHaveProperty('x-corp-role');
    expect(open['x-tenant-id']).toBe('acme');
    expect(open['x-internal-flag']).toBe('on');

    await get('/tenant/x', headers);
    const tenant = lastSeen().headers;
    for (const name of ['x-global-secret', 'x-corp-role', 'x-tenant-id', 'x-internal-flag']) {
      expect(tenant, name).not.toHaveProperty(name);
    }
  });

  it('refuses strip_headers entries that are not header names, naming the field', () => {
    const parsed = parseRoutes(
      [{ name: 'r', match: { path: '/r' }, upstream: 'http://127.0.0.1:1', strip_headers: ['X Bad'] }],
      { enabledMethods: ['apikey'] },
    );
    expect(parsed).toEqual({ ok: false, problems: [expect.stringMatching(/^routes\[0\]\.strip_headers: /)] });
    const host = parseRoutes(
      [{ name: 'r', match: { path: '/r' }, upstream: 'http://127.0.0.1:1', strip_headers: ['Host'] }],
      { enabledMethods: ['apikey'] },
    );
    expect(host.ok).toBe(false);
  });
});
