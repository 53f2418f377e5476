/**
 * The users admin API, black-box on every store: create (201 + id), list (paginated, filtered),
 * get, update, set password, disable/enable, delete; precise 4xx for bad input (including a 2 MB
 * password); audit of every change without secrets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe.each(storeKinds())('users admin API on %s', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(async () => server?.stop());

  it('creates a user: 201 with id and Location, the canonical username, and never the password or hash', async () => {
    const created = await server.admin('POST', '/admin/v1/users', {
      username: 'Ｗｉｌｍａ',
      password: 'wilma-password',
      scopes: ['read', 'orders:write'],
      metadata: { team: 'billing' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^usr_[0-9A-Za-z]{22}$/),
      username: 'wilma',
      scopes: ['read', 'orders:write'],
      metadata: { team: 'billing' },
      disabled: false,
      password_scheme: 'argon2id',
      password_changed_at: expect.any(String),
      created_at: expect.any(String),
      updated_at: expect.any(String),
      last_login_at: null,
    });
    expect(created.headers.get('location')).toBe(`/admin/v1/users/${created.body.id}`);
    expect(JSON.stringify(created.body)).not.toContain('wilma-password');
    const fetched = await server.admin('GET', `/admin/v1/users/${created.body.id}`);
    expect(fetched.body).toEqual(created.body);
  });

  it('refuses a username that differs only in case or width with 409', async () => {
    for (const username of ['WILMA', 'wilma', 'Ｗilma']) {
      const clash = await server.admin('POST', '/admin/v1/users', { username, password: 'another-password' });
      expect(clash.status, username).toBe(409);
      expect(clash.body).toMatchObject({
        type: 'urn:gatehouse:problem:conflict',
        detail: 'The username "wilma" is taken',
      });
    }
  });

  it.each([
    [{ password: 'valid-password' }, 'username', /must have required property/],
    [{ username: 'x' }, 'password', /must have required property/],
    [{ username: 'has space', password: 'valid-password' }, 'username', /spaces/],
    [{ username: 'a:b', password: 'valid-password' }, 'username', /colon/],
    [{ username: 'short', password: 'seven77' }, 'password', /at least 8 characters/],
    [{ username: 'long', password: 'a'.repeat(1025) }, 'password', /at most 1024 bytes/],
    [{ username: 'ctl', password: 'pass\u0000word!' }, 'password', /control characters/],
    [{ username: 'samename', password: 'SameName' }, 'password', /must not be the username/],
    [{ username: 'scopes', password: 'valid-password', scopes: ['bad scope'] }, 'scopes.0', /pattern/],
    [{ username: 'scopes2', password: 'valid-password', scopes: [{}] }, 'scopes.0', /string/],
    [{ username: 'meta', password: 'valid-password', metadata: { blob: 'x'.repeat(9000) } }, 'metadata', /8192 bytes/],
    [{ username: 'extra', password: 'valid-password', role: 'admin' }, 'role', /not a known field/],
  ])('answers 400 naming the field for %j', async (body, field, message) => {
    const response = await server.admin('POST', '/admin/v1/users', body);
    expect(response.status).toBe(400);
    expect(response.body.type).toBe('urn:gatehouse:problem:validation-failed');
    expect(response.body.errors[0].field).toBe(field);
    expect(response.body.errors[0].message).toMatch(message);
    expect(JSON.stringify(response.body)).not.toContain('pass\u0000word');
  });

  it('answers a 2 MB password with 413 naming the limit, not a 500', async () => {
    const response = await server.admin('POST', '/admin/v1/users', {
      username: 'huge',
      password: 'a'.repeat(2 * 1024 * 1024),
    });
    expect(response.status).toBe(413);
    expect(response.body).toMatchObject({
      type: 'urn:gatehouse:problem:payload-too-large',
      detail: 'The request body is larger than 65536 bytes, the limit of this endpoint',
    });
    expect((await server.admin('GET', '/admin/v1/users?username=huge')).body.data).toEqual([]);
    const user = (await server.admin('GET', '/admin/v1/users?username=wilma')).body.data[0];
    const reset = await server.admin('PUT', `/admin/v1/users/${user.id}/password`, {
      password: 'b'.repeat(2 * 1024 * 1024),
    });
    expect(reset.status).toBe(413);
  });

  it('lists oldest first, paginates with a cursor, and filters by username and disabled', async () => {
    for (let i = 0; i < 5; i++) {
      const created = await server.admin('POST', '/admin/v1/users', {
        username: `page-${i}`,
        password: 'page-password',
        disabled: i % 2 === 1,
      });
      expect(created.status).toBe(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: Array<{ username: string }>; next_cursor: string | null } } = await server.admin(
        'GET',
        `/admin/v1/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((user) => user.username));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen.filter((name) => name.startsWith('page-'))).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    expect(new Set(seen).size).toBe(seen.length);

    const disabled = await server.admin('GET', '/admin/v1/users?disabled=true&limit=200');
    expect(disabled.body.data.map((user: { username: string }) => user.username)).toEqual(['page-1', 'page-3']);
    const byName = await server.admin('GET', '/admin/v1/users?username=PAGE-2');
    expect(byName.body.data.map((user: { username: string }) => user.username)).toEqual(['page-2']);
    expect((await server.admin('GET', '/admin/v1/users?cursor=garbage')).body.errors[0].field).toBe('cursor');
    expect((await server.admin('GET', '/admin/v1/users?limit=500')).status).toBe(400);
  });

  it('updates, sets the password, disables, enables and deletes, each audited without secrets', async () => {
    const created = (await server.admin('POST', '/admin/v1/users', { username: 'otto', password: 'otto-password' }))
      .body;
    const updated = await server.admin('PATCH', `/admin/v1/users/${created.id}`, {
      username: 'Otto2',
      scopes: ['a', 'b'],
      metadata: { n: 1 },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ username: 'otto2', scopes: ['a', 'b'], metadata: { n: 1 } });
    expect((await server.admin('PATCH', `/admin/v1/users/${created.id}`, {})).status).toBe(400);
    expect(
      (await server.admin('PATCH', `/admin/v1/users/${created.id}`, { password: 'sneaky-password' })).body.errors[0],
    ).toEqual({
      field: 'password',
      message: 'is not a known field',
    });
    expect((await server.admin('PATCH', `/admin/v1/users/${created.id}`, { username: 'wilma' })).status).toBe(409);

    const passwordSet = await server.admin('PUT', `/admin/v1/users/${created.id}/password`, {
      password: 'otto-new-password',
    });
    expect(passwordSet.status).toBe(204);
    const tooShort = await server.admin('PUT', `/admin/v1/users/${created.id}/password`, { password: 'short' });
    expect(tooShort.body.errors[0].field).toBe('password');

    expect((await server.admin('POST', `/admin/v1/users/${created.id}/disable`)).body.disabled).toBe(true);
    expect((await server.admin('POST', `/admin/v1/users/${created.id}/enable`)).body.disabled).toBe(false);
    expect((await server.admin('DELETE', `/admin/v1/users/${created.id}`)).status).toBe(204);
    expect((await server.admin('GET', `/admin/v1/users/${created.id}`)).status).toBe(404);
    expect((await server.admin('DELETE', `/admin/v1/users/${created.id}`)).status).toBe(404);
    expect(
      (await server.admin('PUT', `/admin/v1/users/${created.id}/password`, { password: 'whatever-password' })).status,
    ).toBe(404);
    expect((await server.admin('POST', '/admin/v1/users/usr_nope/disable')).status).toBe(404);

    await server.running.services.audit.flush();
    const events = await server.admin('GET', `/admin/v1/audit-events?target=${created.id}&limit=50`);
    // Events of one millisecond have no defined order: compare as a set of actions.
    const actions = events.body.data.map((event: { action: string }) => event.action).sort();
    expect(actions).toEqual(
      ['user.created', 'user.updated', 'user.password_changed', 'user.disabled', 'user.enabled', 'user.deleted'].sort(),
    );
    const update = events.body.data.find((event: { action: string }) => event.action === 'user.updated');
    expect(update.details).toEqual({ fields: ['username', 'scopes', 'metadata'] });
    expect(events.body.data.every((event: { actor: string }) => event.actor === 'admin:adm_bootstrap')).toBe(true);
    const text = JSON.stringify(events.body) + server.logs.join('');
    for (const secret of ['otto-password', 'otto-new-password', 'sneaky-password', '$argon2id$']) {
      expect(text).not.toContain(secret);
    }
  });

  it('requires the admin key', async () => {
    const response = await fetch(`${server.adminUrl}/admin/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'mallory', password: 'mallory-password' }),
    });
    expect(response.status).toBe(401);
  });
});
