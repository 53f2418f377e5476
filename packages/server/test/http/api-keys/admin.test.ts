/**
 * The admin API for API keys (/admin/v1/api-keys) over real HTTP, on every store: create, list,
 * show, update, revoke, rotate; validation errors naming the field; audit events.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueKey } from '../../support/api-keys.js';
import { manualClock } from '../../support/clock.js';
import { storeKinds } from '../../support/databases.js';
import { startTestServer, type TestServer } from '../../support/server.js';

const HOUR = 3_600_000;

describe.each(storeKinds())('API key admin API on %s', (kind) => {
  let server: TestServer;
  const clock = manualClock();
  beforeAll(async () => {
    server = await startTestServer(kind, { clock });
  });
  afterAll(async () => server?.stop());

  it('creates a key: 201, the plaintext once in `key`, Location, no-store, and the documented fields', async () => {
    const response = await fetch(`${server.adminUrl}/admin/v1/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'billing worker',
        owner: 'svc-billing',
        scopes: ['invoices:read', 'invoices:write'],
        expires_in: '30d',
        rate_limit: '100/minute',
        remaining_uses: 1000,
        metadata: { team: 'billing', tier: 2 },
      }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = await response.json();
    expect(response.headers.get('location')).toBe(`/admin/v1/api-keys/${body.id}`);
    expect(body).toEqual({
      id: expect.stringMatching(/^key_[0-9A-Za-z]{22}$/),
      key: expect.stringMatching(/^gk_[0-9A-Za-z]{49}$/),
      name: 'billing worker',
      owner: 'svc-billing',
      prefix: 'gk',
      last4: body.key.slice(-4),
      state: 'active',
      scopes: ['invoices:read', 'invoices:write'],
      metadata: { team: 'billing', tier: 2 },
      rate_limit: '100/minute',
      remaining_uses: 1000,
      created_at: new Date(clock.now()).toISOString(),
      updated_at: new Date(clock.now()).toISOString(),
      expires_at: new Date(clock.now() + 30 * 24 * HOUR).toISOString(),
      last_used_at: null,
      revoked_at: null,
      replaced_by: null,
      grace_until: null,
      rotated_from: null,
      legacy: false,
    });

    // Never again: not in show, not in list.
    const shown = await server.admin('GET', `/admin/v1/api-keys/${body.id}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toEqual({ ...body, key: undefined });
    expect(JSON.stringify(shown.body)).not.toContain(body.key.slice(3, 40));
    const listed = await server.admin('GET', '/admin/v1/api-keys');
    expect(JSON.stringify(listed.body)).not.toContain(body.key.slice(3, 40));
  });

  it('stores only the SHA-256 of the key, its prefix and last four characters (docs/security.md #29)', async () => {
    const { id, key } = await issueKey(server, { name: 'stored form' });
    const row = await server.running.services.store.db
      .selectFrom('api_keys')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(row.prefix).toBe('gk');
    expect(row.last4).toBe(key.slice(-4));
    const secret = key.slice(3, -4);
    for (const [column, value] of Object.entries(row)) expect(String(value), column).not.toContain(secret);
  });

  it('defaults: no owner, no scopes, no expiry, no limits', async () => {
    const { body } = await issueKey(server, { name: 'plain' });
    expect(body).toMatchObject({
      owner: null,
      scopes: [],
      metadata: {},
      expires_at: null,
      rate_limit: null,
      remaining_uses: null,
    });
  });

  it('answers 400 problem+json naming the field for every bad create request', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 'x'.repeat(201) }, 'name'],
      [{ name: 'a\nb' }, 'name'],
      [{ name: 'x', scopes: 'read write' }, 'scopes'],
      [{ name: 'x', scopes: 'read' }, 'scopes'],
      [{ name: 5 }, 'name'],
      [{ name: 'x', scopes: ['read write'] }, 'scopes.0'],
      [{ name: 'x', scopes: ['ok', 'bad"quote'] }, 'scopes.1'],
      [{ name: 'x', scopes: ['a', 'a'] }, 'scopes'],
      [{ name: 'x', scopes: [''] }, 'scopes.0'],
      [{ name: 'x', scopes: [42] }, 'scopes.0'],
      [{ name: 'x', expires_in: -5 }, 'expires_in'],
      [{ name: 'x', expires_in: '-5s' }, 'expires_in'],
      [{ name: 'x', expires_in: 0 }, 'expires_in'],
      [{ name: 'x', expires_in: 'soon' }, 'expires_in'],
      [{ name: 'x', expires_in: true }, 'expires_in'],
      [{ name: 'x', expires_in: '100000d' }, 'expires_in'],
      [{ name: 'x', expires_in: 1e300 }, 'expires_in'],
      [{ name: 'x', expires_at: '2001-01-01T00:00:00Z' }, 'expires_at'],
      [{ name: 'x', expires_at: 'tomorrow' }, 'expires_at'],
      [{ name: 'x', expires_in: '1d', expires_at: '2099-01-01T00:00:00Z' }, 'expires_in'],
      [{ name: 'x', rate_limit: '0/minute' }, 'rate_limit'],
      [{ name: 'x', rate_limit: '-1/minute' }, 'rate_limit'],
      [{ name: 'x', rate_limit: '99999999999/s' }, 'rate_limit'],
      [{ name: 'x', rate_limit: '100/0s' }, 'rate_limit'],
      [{ name: 'x', rate_limit: '100/year' }, 'rate_limit'],
      [{ name: 'x', rate_limit: 'lots' }, 'rate_limit'],
      [{ name: 'x', rate_limit: 100 }, 'rate_limit'],
      [{ name: 'x', remaining_uses: 0 }, 'remaining_uses'],
      [{ name: 'x', remaining_uses: -1 }, 'remaining_uses'],
      [{ name: 'x', remaining_uses: 1.5 }, 'remaining_uses'],
      [{ name: 'x', metadata: [] }, 'metadata'],
      [{ name: 'x', metadata: { blob: 'x'.repeat(5000) } }, 'metadata'],
      [{ name: 'x', owner: '' }, 'owner'],
      [{ name: 'x', key: 'gk_chosen_by_caller' }, 'key'],
      [{ name: 'x', colour: 'red' }, 'colour'],
    ];
    for (const [body, field] of cases) {
      const response = await server.admin('POST', '/admin/v1/api-keys', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body.type).toBe('urn:gatehouse:problem:validation-failed');
      expect(response.body.errors?.[0]?.field, JSON.stringify(body)).toBe(field);
    }
    const negative = await server.admin('POST', '/admin/v1/api-keys', { name: 'x', expires_in: '-3d' });
    expect(negative.body.errors[0]).toEqual({ field: 'expires_in', message: 'must be positive' });
    const notJson = await fetch(`${server.adminUrl}/admin/v1/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(notJson.status).toBe(400);
  });

  it('lists keys newest first, paginated, filtered by owner and by state', async () => {
    const owner = `owner-${kind}-list`;
    const made = [];
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      made.push(await issueKey(server, { name: `list ${i}`, owner, ...(i === 1 ? { expires_in: '1h' } : {}) }));
    }
    await server.admin('DELETE', `/admin/v1/api-keys/${made[0]?.id}`);
    await server.admin('PATCH', `/admin/v1/api-keys/${made[2]?.id}`, { remaining_uses: 0 });
    clock.advance(1000);
    await server.admin('POST', `/admin/v1/api-keys/${made[3]?.id}/rotate`, {});
    clock.advance(HOUR);

    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await server.admin(
        'GET',
        `/admin/v1/api-keys?owner=${owner}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      ids.push(...page.body.data.map((key: { id: string }) => key.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    // Six keys: five made here plus the replacement from the rotation, newest first.
    expect(ids).toHaveLength(6);
    expect(ids.slice(1)).toEqual(made.map((key) => key.id).reverse());

    const byState = async (state: string) =>
      (await server.admin('GET', `/admin/v1/api-keys?owner=${owner}&state=${state}`)).body.data.map(
        (key: { id: string; state: string }) => {
          expect(key.state).toBe(state);
          return key.id;
        },
      );
    expect(await byState('revoked')).toEqual([made[0]?.id]);
    expect(await byState('expired')).toEqual([made[1]?.id]);
    expect(await byState('exhausted')).toEqual([made[2]?.id]);
    expect(await byState('rotated')).toEqual([made[3]?.id]);
    expect((await byState('active')).sort()).toEqual([made[4]?.id, ids[0]].sort());

    const bad = await server.admin('GET', '/admin/v1/api-keys?state=dormant');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('state');
    const badCursor = await server.admin('GET', '/admin/v1/api-keys?cursor=bm9wZQ');
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.errors[0].field).toBe('cursor');
  });

  it('answers 404 problem+json for unknown keys on every route', async () => {
    for (const [method, route, body] of [
      ['GET', '/admin/v1/api-keys/key_nope', undefined],
      ['PATCH', '/admin/v1/api-keys/key_nope', { name: 'x' }],
      ['DELETE', '/admin/v1/api-keys/key_nope', undefined],
      ['POST', '/admin/v1/api-keys/key_nope/rotate', {}],
    ] as const) {
      const response = await server.admin(method, route, body);
      expect(response.status, `${method} ${route}`).toBe(404);
      expect(response.body.type).toBe('urn:gatehouse:problem:not-found');
    }
  });

  it('updates name, scopes, metadata, limits and expiry; null clears; owner and unknown fields are refused', async () => {
    const { id } = await issueKey(server, { name: 'to update', owner: 'svc-a', rate_limit: '10/s' });
    const updated = await server.admin('PATCH', `/admin/v1/api-keys/${id}`, {
      name: 'updated',
      scopes: ['a:read'],
      metadata: { v: 2 },
      rate_limit: '5000/hour',
      remaining_uses: 7,
      expires_in: 3600,
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      name: 'updated',
      owner: 'svc-a',
      scopes: ['a:read'],
      metadata: { v: 2 },
      rate_limit: '5000/hour',
      remaining_uses: 7,
      expires_at: new Date(clock.now() + HOUR).toISOString(),
    });
    const cleared = await server.admin('PATCH', `/admin/v1/api-keys/${id}`, {
      rate_limit: null,
      remaining_uses: null,
      expires_at: null,
    });
    expect(cleared.body).toMatchObject({ rate_limit: null, remaining_uses: null, expires_at: null });
    const at = new Date(clock.now() + 2 * HOUR).toISOString();
    expect((await server.admin('PATCH', `/admin/v1/api-keys/${id}`, { expires_at: at })).body.expires_at).toBe(at);

    for (const [body, field] of [
      [{}, 'body'],
      [{ owner: 'someone-else' }, 'owner'],
      [{ key_hash: 'x' }, 'key_hash'],
      [{ rate_limit: '0/s' }, 'rate_limit'],
      [{ expires_in: -1 }, 'expires_in'],
      [{ remaining_uses: -1 }, 'remaining_uses'],
      [{ scopes: 'a b' }, 'scopes'],
    ] as const) {
      const response = await server.admin('PATCH', `/admin/v1/api-keys/${id}`, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.errors[0].field, JSON.stringify(body)).toBe(field);
    }
  });

  it('revokes with 204, idempotently; a revoked key cannot be updated or rotated (409)', async () => {
    const { id } = await issueKey(server, { name: 'to revoke' });
    expect((await server.admin('DELETE', `/admin/v1/api-keys/${id}`)).status).toBe(204);
    const shown = await server.admin('GET', `/admin/v1/api-keys/${id}`);
    expect(shown.body).toMatchObject({ state: 'revoked', revoked_at: new Date(clock.now()).toISOString() });
    clock.advance(1000);
    expect((await server.admin('DELETE', `/admin/v1/api-keys/${id}`)).status).toBe(204);
    expect((await server.admin('GET', `/admin/v1/api-keys/${id}`)).body.revoked_at).toBe(shown.body.revoked_at);
    const update = await server.admin('PATCH', `/admin/v1/api-keys/${id}`, { name: 'again' });
    expect(update.status).toBe(409);
    expect(update.body.type).toBe('urn:gatehouse:problem:conflict');
    expect((await server.admin('POST', `/admin/v1/api-keys/${id}/rotate`, {})).status).toBe(409);
  });

  it('rotates: a new id and key with the same settings; the old key points at it; a rotated key is final', async () => {
    const { id, key } = await issueKey(server, {
      name: 'to rotate',
      owner: 'svc-r',
      scopes: ['r:read'],
      rate_limit: '10/minute',
      remaining_uses: 50,
      metadata: { a: 1 },
      expires_in: '10d',
    });
    const rotated = await server.admin('POST', `/admin/v1/api-keys/${id}/rotate`, { grace: '1h' });
    expect(rotated.status).toBe(201);
    expect(rotated.headers.get('cache-control')).toBe('no-store');
    expect(rotated.body).toMatchObject({
      id: expect.not.stringMatching(id),
      key: expect.stringMatching(/^gk_[0-9A-Za-z]{49}$/),
      name: 'to rotate',
      owner: 'svc-r',
      scopes: ['r:read'],
      rate_limit: '10/minute',
      remaining_uses: 50,
      metadata: { a: 1 },
      expires_at: new Date(clock.now() + 10 * 24 * HOUR).toISOString(),
      rotated_from: id,
      state: 'active',
    });
    expect(rotated.body.key).not.toBe(key);
    const old = await server.admin('GET', `/admin/v1/api-keys/${id}`);
    // Rotated, not active, from the moment of rotation; grace_until says until when it works.
    expect(old.body).toMatchObject({
      replaced_by: rotated.body.id,
      grace_until: new Date(clock.now() + HOUR).toISOString(),
      state: 'rotated',
    });
    const active = await server.admin('GET', '/admin/v1/api-keys?owner=svc-r&state=active');
    expect(active.body.data.map((item: { id: string }) => item.id)).toEqual([rotated.body.id]);
    const inGrace = await server.admin('GET', '/admin/v1/api-keys?owner=svc-r&state=rotated');
    expect(inGrace.body.data.map((item: { id: string }) => item.id)).toEqual([id]);
    const again = await server.admin('POST', `/admin/v1/api-keys/${id}/rotate`, {});
    expect(again.status).toBe(409);
    expect((await server.admin('PATCH', `/admin/v1/api-keys/${id}`, { name: 'x' })).status).toBe(409);

    // The replacement can be rotated in turn, with a new expiry.
    const second = await server.admin('POST', `/admin/v1/api-keys/${rotated.body.id}/rotate`, { expires_in: '1d' });
    expect(second.status).toBe(201);
    expect(second.body.expires_at).toBe(new Date(clock.now() + 24 * HOUR).toISOString());
    // The first key, still in its grace period, now draws on the newest key.
    expect((await server.admin('GET', `/admin/v1/api-keys/${id}`)).body.replaced_by).toBe(second.body.id);

    for (const [body, field] of [
      [{ grace: -1 }, 'grace'],
      [{ grace: '31d' }, 'grace'],
      [{ grace: 'a while' }, 'grace'],
      [{ expires_in: 0 }, 'expires_in'],
      [{ keep: true }, 'keep'],
    ] as const) {
      const response = await server.admin('POST', `/admin/v1/api-keys/${second.body.id}/rotate`, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.errors[0].field).toBe(field);
    }
  });

  it('keeps the subject across rotation: an ownerless key’s replacement authenticates as the old id', async () => {
    const { id, key } = await issueKey(server, { name: 'ownerless' });
    const subject = async (presented: string) => {
      const response = await fetch(`${server.publicUrl}/auth/verify`, { headers: { 'x-api-key': presented } });
      expect(response.status).toBe(200);
      return response.headers.get('x-auth-subject');
    };
    expect(await subject(key)).toBe(id);
    const first = await server.admin('POST', `/admin/v1/api-keys/${id}/rotate`, { grace: '1m' });
    expect(first.body.owner).toBe(id);
    expect(await subject(first.body.key)).toBe(id);
    expect(await subject(key)).toBe(id); // the old key, in its grace period
    const second = await server.admin('POST', `/admin/v1/api-keys/${first.body.id}/rotate`, {});
    expect(await subject(second.body.key)).toBe(id);
  });

  it('refuses to rotate an expired key into an expired replacement, but accepts a new expiry', async () => {
    const { id } = await issueKey(server, { name: 'expiring', expires_in: 60 });
    clock.advance(61_000);
    const refused = await server.admin('POST', `/admin/v1/api-keys/${id}/rotate`, {});
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/expires_in/);
    const rotated = await server.admin('POST', `/admin/v1/api-keys/${id}/rotate`, { expires_in: '1d' });
    expect(rotated.status).toBe(201);
  });

  it('records who created, updated, rotated and revoked which key, readable through the audit API', async () => {
    const { id } = await issueKey(server, { name: 'audited', scopes: ['x'] });
    clock.advance(1000);
    await server.admin('PATCH', `/admin/v1/api-keys/${id}`, { scopes: ['y'], expires_in: '1d' });
    clock.advance(1000);
    const rotated = await server.admin('POST', `/admin/v1/api-keys/${id}/rotate`, { grace: '1m' });
    clock.advance(1000);
    await server.admin('DELETE', `/admin/v1/api-keys/${rotated.body.id}`);
    await server.admin('DELETE', `/admin/v1/api-keys/${rotated.body.id}`);
    await server.running.services.audit.flush();

    const forKey = async (target: string) =>
      (await server.admin('GET', `/admin/v1/audit-events?action=apikey.*&target=${target}`)).body.data;
    const events = await forKey(id);
    expect(events.map((event: { action: string }) => event.action)).toEqual([
      'apikey.rotated',
      'apikey.updated',
      'apikey.created',
    ]);
    for (const [i, event] of events.entries()) {
      expect(event).toMatchObject({ actor: 'admin:adm_bootstrap', outcome: 'success', ip: expect.any(String) });
      expect(Date.parse(event.at)).toBe(clock.now() - 1000 * (i + 1));
    }
    expect(events[0].details).toEqual({ replaced_by: rotated.body.id, grace_until: expect.any(String) });
    expect(events[1].details).toEqual({ changed: ['scopes', 'expires_at'] });
    expect(events[2].details).toMatchObject({ name: 'audited', scopes: ['x'] });
    // Revoked twice, audited once.
    expect((await forKey(rotated.body.id)).map((event: { action: string }) => event.action)).toEqual([
      'apikey.revoked',
    ]);
    expect(JSON.stringify(await forKey(id))).not.toMatch(/gk_[0-9A-Za-z]{20}/);
  });

  it('requires the admin key for every API key route', async () => {
    for (const [method, route] of [
      ['POST', '/admin/v1/api-keys'],
      ['GET', '/admin/v1/api-keys'],
      ['GET', '/admin/v1/api-keys/key_x'],
      ['PATCH', '/admin/v1/api-keys/key_x'],
      ['DELETE', '/admin/v1/api-keys/key_x'],
      ['POST', '/admin/v1/api-keys/key_x/rotate'],
    ]) {
      const response = await fetch(`${server.adminUrl}${route}`, { method });
      expect(response.status, `${method} ${route}`).toBe(401);
    }
  });
});
