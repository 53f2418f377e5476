/**
 * `/admin/v1/clients`: registration rules (docs/security.md #13, #21), secrets shown once and stored
 * hashed, rotation with a grace period, update, delete, pagination; on every store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { expectOAuthError, postForm, registerClient } from './support.js';

describe.each(storeKinds())('client administration on %s', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(async () => server?.stop());

  const create = (body: Record<string, unknown>) => server.admin('POST', '/admin/v1/clients', body);

  it('creates a client: 201, RFC 7591 names, the secret once, never again', async () => {
    const created = await create({
      client_name: 'Billing',
      grant_types: ['client_credentials'],
      scope: 'invoices:read',
      audience: ['https://api.example.com'],
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/admin/v1/clients/${created.body.client_id}`);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body).toMatchObject({
      client_id: expect.stringMatching(/^cli_[0-9A-Za-z]{22}$/),
      client_secret: expect.stringMatching(/^ghcs_[0-9A-Za-z]{43}$/),
      client_name: 'Billing',
      grant_types: ['client_credentials'],
      scope: 'invoices:read',
      token_endpoint_auth_method: 'client_secret_basic',
      client_secret_expires_at: 0,
      client_id_issued_at: expect.any(Number),
    });
    const shown = await server.admin('GET', `/admin/v1/clients/${created.body.client_id}`);
    expect(shown.status).toBe(200);
    expect(shown.body.client_secret).toBeUndefined();
    expect(JSON.stringify(shown.body)).not.toContain(created.body.client_secret);
    expect(JSON.stringify(shown.body)).not.toMatch(/hash/);
    // Stored as a digest only.
    const row = await server.running.services.store.db
      .selectFrom('oauth_clients')
      .selectAll()
      .where('id', '=', created.body.client_id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(created.body.client_secret);
    await server.running.services.audit.flush();
    const audit = await server.admin(
      'GET',
      `/admin/v1/audit-events?action=client.created&target=${created.body.client_id}`,
    );
    expect(audit.body.data).toHaveLength(1);
  });

  it('refuses javascript:, data:, non-loopback http, fragments and relative redirect URIs (docs/security.md #13)', async () => {
    const bad = [
      'javascript:alert(1)',
      'data:text/html,hi',
      'http://app.example.com/cb',
      'https://app.example.com/cb#frag',
      '/relative/cb',
      'myapp:/cb',
      'https://user:pw@app.example.com/cb',
    ];
    for (const uri of bad) {
      const response = await create({ grant_types: ['authorization_code'], redirect_uris: [uri] });
      expect(response.status, uri).toBe(400);
      expect(response.body.errors[0].field).toBe('redirect_uris.0');
    }
    for (const uri of [
      'http://127.0.0.1/cb',
      'http://[::1]:8080/cb',
      'http://localhost:3000/cb',
      'com.example.app:/cb',
    ]) {
      const response = await create({ grant_types: ['authorization_code'], redirect_uris: [uri] });
      expect(response.status, uri).toBe(201);
    }
    const none = await create({ grant_types: ['authorization_code'] });
    expect(none.status).toBe(400);
    expect(none.body.errors[0].field).toBe('redirect_uris');
  });

  it('refuses unknown fields, unsupported grants and a public client with client_credentials', async () => {
    const unknown = await create({ colour: 'red' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].field).toBe('colour');
    const implicit = await create({ grant_types: ['implicit'] });
    expect(implicit.status).toBe(400);
    expect(implicit.body.errors[0].field).toMatch(/^grant_types/);
    const publicCc = await create({ grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' });
    expect(publicCc.status).toBe(400);
    expect(publicCc.body.errors[0].field).toBe('grant_types');
    const noKeys = await create({ token_endpoint_auth_method: 'private_key_jwt' });
    expect(noKeys.status).toBe(400);
    expect(noKeys.body.errors[0].field).toBe('jwks');
  });

  it('lets the operator choose a client id, but not one shaped like another kind of id (docs/security.md #21)', async () => {
    const chosen = await create({ client_id: 'reporting-service' });
    expect(chosen.status).toBe(201);
    expect(chosen.body.client_id).toBe('reporting-service');
    expect((await create({ client_id: 'reporting-service' })).status).toBe(409);
    for (const id of ['usr_123456', 'key_abc', 'a', 'bad id', 'x/y']) {
      const response = await create({ client_id: id });
      expect(response.status, id).toBe(400);
      expect(response.body.errors[0].field).toBe('client_id');
    }
  });

  it('rotates the secret with a grace period during which both secrets work', async () => {
    const client = await registerClient(server, { grant_types: ['client_credentials'] });
    const token = `${server.publicUrl}/oauth/token`;
    const form = (secret: string) => ({
      client_id: client.id,
      client_secret: secret,
      grant_type: 'client_credentials',
    });
    const withPost = await server.admin('PATCH', `/admin/v1/clients/${client.id}`, {
      token_endpoint_auth_method: 'client_secret_post',
    });
    expect(withPost.status).toBe(200);
    expect(withPost.body.client_secret).toBeUndefined();

    const rotated = await server.admin('POST', `/admin/v1/clients/${client.id}/rotate-secret`, {
      grace_period_seconds: 3600,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ client_id: client.id, client_secret: expect.stringMatching(/^ghcs_/) });
    expect(Date.parse(rotated.body.previous_secret_expires_at)).toBeGreaterThan(Date.now() + 3500_000);
    expect((await postForm(token, form(client.secret))).status).toBe(200);
    expect((await postForm(token, form(rotated.body.client_secret))).status).toBe(200);
    const shown = await server.admin('GET', `/admin/v1/clients/${client.id}`);
    expect(shown.body.previous_secret_expires_at).toBe(rotated.body.previous_secret_expires_at);

    // A rotation without grace retires every earlier secret at once.
    const again = await server.admin('POST', `/admin/v1/clients/${client.id}/rotate-secret`, {
      grace_period_seconds: 0,
    });
    expect(again.body.previous_secret_expires_at).toBeNull();
    expectOAuthError(await postForm(token, form(client.secret)), 401, 'invalid_client');
    expectOAuthError(await postForm(token, form(rotated.body.client_secret)), 401, 'invalid_client');
    expect((await postForm(token, form(again.body.client_secret))).status).toBe(200);
  });

  it('updates fields, lists with pagination, and deletes (after which the client cannot authenticate)', async () => {
    const client = await registerClient(server, {
      client_name: 'to-delete',
      token_endpoint_auth_method: 'client_secret_post',
    });
    const updated = await server.admin('PATCH', `/admin/v1/clients/${client.id}`, {
      client_name: 'renamed',
      scope: 'x y',
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ client_name: 'renamed', scope: 'x y' });
    expect((await server.admin('PATCH', `/admin/v1/clients/${client.id}`, {})).status).toBe(400);
    expect((await server.admin('PATCH', '/admin/v1/clients/cli_missing', { client_name: 'x' })).status).toBe(404);

    const first = await server.admin('GET', '/admin/v1/clients?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const page: { body: { data: Array<{ client_id: string }>; next_cursor: string | null } } = await server.admin(
        'GET',
        `/admin/v1/clients?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      for (const item of page.body.data) seen.add(item.client_id);
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen.has(client.id)).toBe(true);

    expect((await server.admin('DELETE', `/admin/v1/clients/${client.id}`)).status).toBe(204);
    expect((await server.admin('GET', `/admin/v1/clients/${client.id}`)).status).toBe(404);
    expect((await server.admin('DELETE', `/admin/v1/clients/${client.id}`)).status).toBe(404);
    expectOAuthError(
      await postForm(`${server.publicUrl}/oauth/token`, {
        client_id: client.id,
        client_secret: client.secret,
        grant_type: 'client_credentials',
      }),
      401,
      'invalid_client',
    );
  });
});
