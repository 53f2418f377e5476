/**
 * `/auth/verify` with route policies: the original request the proxy describes picks the route
 * (nginx X-Original-*, Caddy/Traefik X-Forwarded-*, Envoy's path below /auth/verify), default
 * deny answers 403, descriptions that disagree are refused (a client cannot add its own), and
 * the 2xx only comes with a positive decision (docs/security.md #36).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { rawRequest } from '../support/http.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe.each(storeKinds())('forward auth with routes on %s', (kind) => {
  let server: TestServer;
  const verify = (headers: Record<string, string>, path = '/auth/verify', method = 'GET') =>
    fetch(`${server.publicUrl}${path}`, { method, headers });
  /** As Caddy and Traefik ask: X-Forwarded-Method and X-Forwarded-Uri (plus `more`). */
  const ask = (method: string, uri: string, more: Record<string, string> = {}) =>
    verify({ 'x-forwarded-method': method, 'x-forwarded-uri': uri, ...more });

  beforeAll(async () => {
    server = await startTestServer(kind, {
      routes: [
        { name: 'public', match: { path: '/public' }, auth: ['anonymous'] },
        { name: 'read', match: { path: '/read', methods: ['GET'] }, auth: ['anonymous'] },
        { name: 'admin', match: { path: '/admin' }, auth: ['apikey'], responses: { 401: { error: 'Unauthorized' } } },
        { name: 'api', match: { path: '/', host: 'api.example.test' }, auth: ['anonymous'] },
      ],
    });
  });
  afterAll(async () => server?.stop());

  it('allows an anonymous route with X-Auth-Method: anonymous and no subject', async () => {
    for (const headers of <Array<Record<string, string>>>[
      { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/public/x?y=1' },
      { 'x-original-method': 'POST', 'x-original-uri': '/public/x' },
    ]) {
      const response = await verify(headers);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-auth-method')).toBe('anonymous');
      // Always present, empty when not applicable, so proxies overwrite any client-sent copy.
      expect(response.headers.get('x-auth-subject')).toBe('');
      expect(response.headers.get('x-auth-scopes')).toBe('');
      expect(response.headers.get('x-auth-client-id')).toBe('');
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('applies the route’s mechanisms and its own 401 body', async () => {
    const response = await ask('GET', '/admin/users');
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: 'Unauthorized' });
  });

  it('denies what no route covers with 403 (default deny), methods included', async () => {
    const none = await ask('GET', '/nothing');
    expect(none.status).toBe(403);
    expect(await none.json()).toEqual({ error: 'forbidden', error_description: 'No route covers GET /nothing' });
    const method = await ask('DELETE', '/read/1');
    expect(method.status).toBe(403);
    expect(method.headers.get('x-auth-method')).toBeNull();
  });

  it('canonicalises the original URI: path tricks land on the protected route or are refused', async () => {
    const dots = await ask('GET', '/public/../admin');
    expect(dots.status).toBe(401);
    const encodedDots = await ask('GET', '/public/%2e%2e/admin');
    expect(encodedDots.status).toBe(401);
    const slashes = await ask('GET', '//admin');
    expect(slashes.status).toBe(401);
    const encodedSlash = await ask('GET', '/public/..%2Fadmin');
    expect(encodedSlash.status).toBe(400);
    expect((await encodedSlash.json()).error).toBe('invalid_request');
    const upper = await ask('GET', '/PUBLIC');
    expect(upper.status).toBe(403);
  });

  it('matches the original host from X-Forwarded-Host (case and a trailing dot do not matter)', async () => {
    const api = await ask('GET', '/x', { 'x-forwarded-host': 'API.example.test.' });
    expect(api.status).toBe(200);
    const other = await ask('GET', '/x', { 'x-forwarded-host': 'other.test' });
    expect(other.status).toBe(403);
    const bad = await ask('GET', '/x', { 'x-forwarded-host': 'a..b' });
    expect(bad.status).toBe(400);
    const list = await ask('GET', '/x', { 'x-forwarded-host': 'api.example.test, evil.test' });
    expect(list.status).toBe(400);
  });

  it('refuses descriptions that disagree, so a client cannot add its own', async () => {
    // Behind nginx (which sets X-Original-*), a client adds X-Forwarded-Uri for an open route.
    const uri = await verify({
      'x-original-method': 'GET',
      'x-original-uri': '/admin/users',
      'x-forwarded-method': 'GET',
      'x-forwarded-uri': '/public',
    });
    expect(uri.status).toBe(400);
    expect(await uri.json()).toEqual({
      error: 'invalid_request',
      error_description: 'The original request is ambiguous: X-Original-URI and X-Forwarded-Uri disagree',
    });
    const method = await verify({
      'x-original-method': 'GET',
      'x-forwarded-method': 'POST',
      'x-original-uri': '/read',
    });
    expect(method.status).toBe(400);
    const agreeing = await verify({
      'x-original-method': 'GET',
      'x-forwarded-method': 'GET',
      'x-original-uri': '/read',
      'x-forwarded-uri': '/read',
    });
    expect(agreeing.status).toBe(200);
    const twice = await rawRequest(`${server.publicUrl}/auth/verify`, {
      headers: [
        ['X-Forwarded-Method', 'GET'],
        ['X-Forwarded-Uri', '/public'],
        ['X-Forwarded-Uri', '/admin'],
      ],
    });
    expect(twice.status).toBe(400);
  });

  it('requires the URI, and the method when the URI comes from a header', async () => {
    const noUri = await verify({});
    expect(noUri.status).toBe(400);
    expect((await noUri.json()).error_description).toMatch(/must say which request/);
    const noMethod = await verify({ 'x-original-uri': '/public' });
    expect(noMethod.status).toBe(400);
    expect((await noMethod.json()).error_description).toMatch(/which method/);
  });

  it('takes Envoy’s form: the original path below /auth/verify, with the original method and Host', async () => {
    const open = await verify({}, '/auth/verify/public/x?y=1', 'POST');
    expect(open.status).toBe(200);
    const read = await verify({}, '/auth/verify/read/1', 'DELETE');
    expect(read.status).toBe(403);
    const protectedPath = await verify({}, '/auth/verify/admin', 'GET');
    expect(protectedPath.status).toBe(401);
    const tricked = await verify({}, '/auth/verify/public/..%2fadmin', 'GET');
    expect(tricked.status).toBe(400);
    const conflicting = await verify({ 'x-forwarded-uri': '/public' }, '/auth/verify/admin', 'GET');
    expect(conflicting.status).toBe(400);
  });

  it('counts forward-auth decisions by route in /metrics', async () => {
    const metrics = await (await fetch(`${server.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /gatehouse_requests_total\{surface="verify",route="public",mechanism="anonymous",outcome="allowed"\} \d+/,
    );
    expect(metrics).toMatch(
      /gatehouse_requests_total\{surface="verify",route="-",mechanism="none",outcome="no_route"\} \d+/,
    );
    expect(metrics).toMatch(
      /gatehouse_requests_total\{surface="verify",route="-",mechanism="none",outcome="bad_request"\} \d+/,
    );
  });
});

describe('forward auth without routes', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('sqlite');
  });
  afterAll(async () => server?.stop());

  it('keeps the route-less behaviour: every enabled mechanism, no gateway listener', async () => {
    expect(server.proxyUrl).toBeNull();
    const response = await fetch(`${server.publicUrl}/auth/verify?scope=a`, { headers: { 'x-forwarded-uri': '/x' } });
    expect(response.status).toBe(401);
    const envoy = await fetch(`${server.publicUrl}/auth/verify/anything`);
    expect(envoy.status).toBe(401);
  });
});
