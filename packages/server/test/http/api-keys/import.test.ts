/**
 * Importing keys another system handed out (`POST /admin/v1/api-keys/import`, the endpoint
 * behind `gatehouse apikey import`), on every store: plaintext and SHA-256 imports verify at
 * /auth/verify, marked legacy; a bad import names every bad line and writes nothing; a text that
 * is not shaped like one of our keys reaches the store only while a live legacy key exists, and a
 * mistyped gk_ key never does; rotating a legacy key issues a checksummed key with the same
 * subject, and the gate closes once no legacy key is left.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumOf } from '../../../src/core/apikeys/key-format.js';
import { issueKey, storeLookups, verify } from '../../support/api-keys.js';
import { storeKinds } from '../../support/databases.js';
import { startTestServer, type TestServer } from '../../support/server.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const PLAIN = 'old-system-key-for-alice-0001';
const HASHED = 'old-system-key-for-bob-000002';

describe.each(storeKinds())('importing existing API keys on %s', (kind) => {
  let server: TestServer;
  const importKeys = (keys: unknown[]) => server.admin('POST', '/admin/v1/api-keys/import', { keys });
  const subjectOf = async (key: string, headers: Record<string, string> = {}) => {
    const response = await verify(server, { 'x-api-key': key, ...headers });
    await response.arrayBuffer();
    return response.status === 200 ? response.headers.get('x-auth-subject') : response.status;
  };
  const lastDenialReason = () => {
    const line = server.logs.filter((text) => text.includes('"msg":"denied"')).at(-1);
    return line ? JSON.parse(line).reason : undefined;
  };

  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('refuses a key-shaped text without a lookup, and any other text too, while no legacy key exists', async () => {
    const before = storeLookups(server);
    expect(await subjectOf(PLAIN)).toBe(401);
    expect(lastDenialReason()).toBe('malformed');
    expect(storeLookups(server)).toBe(before);
  });

  it('refuses a bad import whole, naming every bad line; nothing is written', async () => {
    const existing = await issueKey(server, { name: 'already here' });
    const before = (await server.admin('GET', '/admin/v1/api-keys?limit=200')).body.data.length;
    const keyShaped = `gk_${'Q'.repeat(43)}`;
    const refused = await importKeys([
      { line: 1, name: 'fine', key: 'a-perfectly-fine-legacy-key' },
      { line: 2, name: 'short', key: 'short-key-123' },
      { line: 3, name: 'bad hash', sha256: 'xyz' },
      { line: 4, name: 'both', key: 'another-fine-legacy-key-1', sha256: sha256('x') },
      { line: 5, name: 'neither' },
      { line: 6, name: 'twice', key: 'a-perfectly-fine-legacy-key' },
      { line: 7, name: 'looks like ours', key: `${keyShaped}${checksumOf(keyShaped)}x`.slice(0, 52) },
      { line: 8, name: 'spaces', key: 'a key with spaces in it, long' },
    ]);
    expect(refused.status).toBe(400);
    expect(refused.body.type).toBe('urn:gatehouse:problem:validation-failed');
    expect(refused.body.errors.map((item: { message: string }) => item.message)).toEqual([
      expect.stringMatching(/^line 2: the key is 13 characters; legacy keys must have at least 20 \(/),
      "line 3: sha256 must be the 64 hexadecimal digits of the key's SHA-256",
      'line 4: give either the key or its sha256, not both',
      'line 5: give either the key or its sha256, not neither',
      'line 6: the same key as line 1',
      expect.stringMatching(/^line 7: the key has the shape of a gk_ key/),
      'line 8: the key must be printable ASCII without spaces',
    ]);
    // Nothing partially written: line 1 was fine, and is not there.
    expect((await server.admin('GET', '/admin/v1/api-keys?limit=200')).body.data.length).toBe(before);
    expect(await subjectOf('a-perfectly-fine-legacy-key')).toBe(401);

    // A hash already stored (here, a key Gatehouse issued) refuses the whole import as well.
    const clash = await importKeys([
      { name: 'new', key: 'yet-another-legacy-key-42' },
      { name: 'clash', sha256: sha256(existing.key).toUpperCase() },
    ]);
    expect(clash.status).toBe(400);
    expect(clash.body.errors).toEqual([{ field: 'keys', message: 'line 2: this key is already stored' }]);
    expect(await subjectOf('yet-another-legacy-key-42')).toBe(401);
  });

  it('imports plaintext and SHA-256 keys, marked legacy, which verify in X-API-Key as their owner', async () => {
    const imported = await importKeys([
      { line: 3, name: 'alice', owner: 'alice', scopes: ['data:read'], key: PLAIN },
      { line: 4, name: 'bob', owner: 'bob', sha256: sha256(HASHED) },
      { line: 5, name: 'ownerless', key: 'ownerless-legacy-key-000003' },
    ]);
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.warning).toMatch(/rotate each one/);
    const [alice, bob, ownerless] = imported.body.imported;
    expect(alice).toMatchObject({ line: 3, name: 'alice', owner: 'alice', legacy: true, prefix: '', last4: '' });
    expect(alice).not.toHaveProperty('key');
    expect(JSON.stringify(imported.body)).not.toContain(PLAIN);
    expect(JSON.stringify(imported.body)).not.toContain(sha256(PLAIN));

    expect(await subjectOf(PLAIN)).toBe('alice');
    expect(await subjectOf(HASHED)).toBe('bob');
    expect(await subjectOf('ownerless-legacy-key-000003')).toBe(ownerless.id);
    const scoped = await verify(server, { 'x-api-key': PLAIN }, '?scope=data:read');
    expect(scoped.status).toBe(200);
    expect(scoped.headers.get('x-auth-method')).toBe('apikey');
    expect((await verify(server, { 'x-api-key': HASHED }, '?scope=data:read')).status).toBe(403);

    // Shown as legacy; the audit has the import (never the key or its hash) and the use, with a warning.
    const shown = await server.admin('GET', `/admin/v1/api-keys/${bob.id}`);
    expect(shown.body).toMatchObject({ legacy: true, state: 'active' });
    await server.running.services.audit.flush();
    const events = (await server.admin('GET', `/admin/v1/audit-events?target=${alice.id}`)).body.data;
    expect(events.map((event: { action: string }) => event.action).sort()).toEqual(
      ['apikey.imported', 'apikey.legacy_used'].sort(),
    );
    expect(server.logs.join('')).toContain(`legacy API key ${alice.id} was used; rotate it`);
    expect(server.logs.join('')).not.toContain(PLAIN);
  });

  it('looks texts up as legacy keys now, but still refuses a mistyped gk_ key without a lookup', async () => {
    const before = storeLookups(server);
    expect(await subjectOf('never-imported-legacy-key-9')).toBe(401);
    expect(lastDenialReason()).toBe('unknown');
    expect(storeLookups(server)).toBe(before + 1);
    // Again: the negative cache answers.
    expect(await subjectOf('never-imported-legacy-key-9')).toBe(401);
    expect(storeLookups(server)).toBe(before + 1);

    const body = `gk_${'Z'.repeat(43)}`;
    const good = checksumOf(body);
    const typo = body + (good[0] === 'A' ? 'B' : 'A') + good.slice(1);
    expect(await subjectOf(typo)).toBe(401);
    expect(lastDenialReason()).toBe('bad_checksum');
    // Too short to be a legacy key: refused before hashing.
    expect(await subjectOf('tiny')).toBe(401);
    expect(storeLookups(server)).toBe(before + 1);
    // Legacy keys are read from the API-key header only, never from Authorization: Bearer.
    const bearer = await verify(server, { authorization: `Bearer ${PLAIN}` });
    expect(bearer.status).toBe(401);
    expect(bearer.headers.get('x-auth-subject')).toBeNull();
    expect(await subjectOf(PLAIN)).toBe('alice');
  });

  it('rotates a legacy key into a checksummed gk_ key with the same subject; the gate then closes', async () => {
    const legacy = (await server.admin('GET', '/admin/v1/api-keys?limit=200')).body.data.filter(
      (key: { legacy: boolean; state: string }) => key.legacy && key.state === 'active',
    );
    expect(legacy).toHaveLength(3);
    for (const key of legacy) {
      const rotated = await server.admin('POST', `/admin/v1/api-keys/${key.id}/rotate`, {});
      expect(rotated.status).toBe(201);
      expect(rotated.body).toMatchObject({ legacy: false, rotated_from: key.id, owner: key.owner ?? key.id });
      expect(rotated.body.key).toMatch(/^gk_[0-9A-Za-z]{49}$/);
      expect(await subjectOf(rotated.body.key)).toBe(key.owner ?? key.id);
    }
    expect(await subjectOf(PLAIN)).toBe(401);
    // No live legacy key is left: a non-key text is refused without a lookup again.
    const before = storeLookups(server);
    expect(await subjectOf('some-other-legacy-looking-text')).toBe(401);
    expect(lastDenialReason()).toBe('malformed');
    expect(storeLookups(server)).toBe(before);
  });
});
