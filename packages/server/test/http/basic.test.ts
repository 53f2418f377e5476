/**
 * HTTP Basic through /auth/verify, black-box over real HTTP on every store (dev mode, so plain
 * HTTP is allowed here; see basic-transport.test.ts for the HTTPS rules). Covers every "Bad
 * input" case of the issue, identical answers for unknown/wrong/disabled/deleted (docs/security.md
 * #33), RFC 7617 parsing (#27), duplicate headers (#28), cache invalidation and audit/logging (#34).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASIC_CHALLENGE, basicHeader, createUser, verify } from '../support/basic.js';
import { createTestDatabase, storeKinds, tempDir } from '../support/databases.js';
import { rawRequest } from '../support/http.js';
import { startTestServer, type TestServer } from '../support/server.js';

const INVALID = { error: 'invalid_credentials', error_description: 'The username or password is incorrect' };

describe.each(storeKinds())('HTTP Basic on %s', (kind) => {
  let server: TestServer;
  let alice: any;
  beforeAll(async () => {
    server = await startTestServer(kind, { env: { GATEHOUSE_DEV: 'true' } });
    alice = await createUser(server, {
      username: 'Alice',
      password: 'correct horse battery',
      scopes: ['read', 'write'],
    });
  });
  afterAll(async () => server?.stop());

  it('answers 200 with the identity headers for the right credentials', async () => {
    const response = await verify(server.publicUrl, { authorization: basicHeader('alice', 'correct horse battery') });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-auth-method')).toBe('basic');
    expect(response.headers.get('x-auth-subject')).toBe(alice.id);
    expect(response.headers.get('x-auth-scopes')).toBe('read write');
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('treats the username case- and width-insensitively, and the scheme name case-insensitively', async () => {
    for (const authorization of [
      basicHeader('ALICE', 'correct horse battery'),
      basicHeader('Ａｌｉｃｅ', 'correct horse battery'),
      basicHeader('alice', 'correct horse battery').replace('Basic', 'basic'),
      basicHeader('alice', 'correct horse battery').replace('Basic', 'BASIC'),
    ]) {
      const response = await verify(server.publicUrl, { authorization });
      expect(response.status, authorization).toBe(200);
      expect(response.headers.get('x-auth-subject')).toBe(alice.id);
    }
  });

  it('gives one identical answer for a wrong password, an unknown user, a disabled and a deleted user (docs/security.md #33)', async () => {
    await createUser(server, { username: 'dora', password: 'disabled-password', disabled: true });
    const gone = await createUser(server, { username: 'gone', password: 'deleted-password' });
    expect((await server.admin('DELETE', `/admin/v1/users/${gone.id}`)).status).toBe(204);
    const answers = await Promise.all(
      [
        basicHeader('alice', 'wrong password'),
        basicHeader('nobody-here', 'correct horse battery'),
        basicHeader('dora', 'disabled-password'),
        basicHeader('gone', 'deleted-password'),
      ].map((authorization) => verify(server.publicUrl, { authorization })),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual(INVALID);
      expect(answer.headers.get('www-authenticate')).toBe(BASIC_CHALLENGE);
      expect(answer.headers.get('x-auth-subject')).toBeNull();
    }
    expect(new Set(answers.map((answer) => [...(answer.headers as any).keys()].sort().join(','))).size).toBe(1);
  });

  it.each([
    ['missing colon', `Basic ${Buffer.from('alicepassword').toString('base64')}`, 'invalid_request', /no colon/],
    ['empty user', basicHeader('', 'correct horse battery'), 'invalid_request', /empty user-id/],
    ['invalid base64', 'Basic @@@not-base64@@@', 'invalid_request', /not valid base64/],
    ['base64url instead of base64', 'Basic YWxpY2U6Pz8_', 'invalid_request', /not valid base64/],
    [
      'non-UTF-8 bytes',
      `Basic ${Buffer.from([0x61, 0x3a, 0xe9, 0x74, 0xe9]).toString('base64')}`,
      'invalid_request',
      /UTF-8/,
    ],
    ['a control character', basicHeader('alice', 'correct\u0001horse'), 'invalid_request', /control character/],
    ['Basic with no value', 'Basic', 'invalid_request', /no credentials/],
    ['an 8 KB value', `Basic ${'QUFB'.repeat(2048)}`, 'invalid_request', /too long/],
    ['empty password', basicHeader('alice', ''), 'invalid_credentials', /incorrect/],
  ])(
    'refuses %s with 401 and the Basic challenge (docs/security.md #27)',
    async (_case, authorization, error, description) => {
      const response = await verify(server.publicUrl, { authorization });
      expect(response.status).toBe(401);
      expect(response.body.error).toBe(error);
      expect(response.body.error_description).toMatch(description);
      expect(response.headers.get('www-authenticate')).toBe(BASIC_CHALLENGE);
    },
  );

  it('answers a 64 KB Authorization header with 431 before any parsing', async () => {
    const response = await fetch(`${server.publicUrl}/auth/verify`, {
      headers: { authorization: `Basic ${'A'.repeat(64 * 1024)}` },
    });
    expect(response.status).toBe(431); // RFC 6585 §5: Request Header Fields Too Large
    expect((await fetch(`${server.publicUrl}/healthz`)).status).toBe(200);
  });

  it('refuses two Authorization headers with 400, even when both are valid (docs/security.md #28)', async () => {
    const response = await rawRequest(`${server.publicUrl}/auth/verify`, {
      headers: [
        ['Authorization', basicHeader('alice', 'correct horse battery')],
        ['Authorization', basicHeader('alice', 'correct horse battery')],
      ],
    });
    expect(response.status).toBe(400);
    expect(response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'The authorization header appears more than once',
    });
  });

  it('answers 403 insufficient_scope when the user lacks a required scope', async () => {
    const authorization = basicHeader('alice', 'correct horse battery');
    expect((await verify(server.publicUrl, { authorization }, '/auth/verify?scope=read')).status).toBe(200);
    const denied = await verify(server.publicUrl, { authorization }, '/auth/verify?scope=admin');
    expect(denied.status).toBe(403);
    expect(denied.body.error).toBe('insufficient_scope');
  });

  it('takes a password change, a disable and a delete into account at once, though the credentials were just cached', async () => {
    const bob = await createUser(server, { username: 'bob', password: 'bob-old-password' });
    const old = { authorization: basicHeader('bob', 'bob-old-password') };
    const fresh = { authorization: basicHeader('bob', 'bob-new-password') };
    expect((await verify(server.publicUrl, old)).status).toBe(200);
    expect((await verify(server.publicUrl, old)).status).toBe(200); // from the cache
    expect(server.running.services.basicCache.size).toBeGreaterThan(0);

    expect(
      (await server.admin('PUT', `/admin/v1/users/${bob.id}/password`, { password: 'bob-new-password' })).status,
    ).toBe(204);
    expect((await verify(server.publicUrl, old)).status).toBe(401);
    expect((await verify(server.publicUrl, fresh)).status).toBe(200);

    expect((await server.admin('POST', `/admin/v1/users/${bob.id}/disable`)).status).toBe(200);
    expect((await verify(server.publicUrl, fresh)).status).toBe(401);
    expect((await server.admin('POST', `/admin/v1/users/${bob.id}/enable`)).status).toBe(200);
    expect((await verify(server.publicUrl, fresh)).status).toBe(200);

    expect((await server.admin('PATCH', `/admin/v1/users/${bob.id}`, { scopes: ['billing'] })).status).toBe(200);
    const rescoped = await verify(server.publicUrl, fresh);
    expect(rescoped.headers.get('x-auth-scopes')).toBe('billing');

    expect((await server.admin('DELETE', `/admin/v1/users/${bob.id}`)).status).toBe(204);
    expect((await verify(server.publicUrl, fresh)).status).toBe(401);
  });

  it('audits logins and failures with the account as target, and never logs a password or the header', async () => {
    await verify(server.publicUrl, { authorization: basicHeader('alice', 'sekret-wrong-password') });
    await server.running.services.audit.flush();
    const logins = await server.admin('GET', `/admin/v1/audit-events?action=user.login&target=${alice.id}`);
    expect(logins.body.data.length).toBeGreaterThan(0);
    expect(logins.body.data[0]).toMatchObject({ actor: alice.id, outcome: 'success', details: { method: 'basic' } });
    const failures = await server.admin('GET', `/admin/v1/audit-events?action=auth.failed&target=${alice.id}`);
    expect(failures.body.data[0]).toMatchObject({
      outcome: 'failure',
      details: { method: 'basic', reason: 'wrong_password' },
    });
    const logs = server.logs.join('');
    expect(logs).not.toContain('sekret-wrong-password');
    expect(logs).not.toContain('correct horse battery');
    expect(logs).not.toContain(Buffer.from('alice:correct horse battery').toString('base64'));
    const audit = JSON.stringify((await server.admin('GET', '/admin/v1/audit-events?limit=200')).body);
    expect(audit).not.toContain('correct horse battery');
    expect(audit).not.toContain('sekret');
    expect(audit).not.toContain('$argon2id$');
  });
});

describe.each(storeKinds())('rehash on login on %s', (kind) => {
  it('rehashes a stored hash made with weaker argon2id parameters at the next login (docs/security.md #30)', async () => {
    const dir = tempDir();
    const database = await createTestDatabase(kind, dir.path);
    const shared = { dataDir: dir.path, databaseUrl: database.url, masterKey: 'b'.repeat(64) };
    try {
      const first = await startTestServer(kind, { ...shared, env: { GATEHOUSE_DEV: 'true' } });
      const user = await createUser(first, { username: 'ria', password: 'ria-password' });
      await first.stop();

      const second = await startTestServer(kind, {
        ...shared,
        env: { GATEHOUSE_DEV: 'true', GATEHOUSE_ARGON2_MEMORY_KIB: '24576', GATEHOUSE_ARGON2_ITERATIONS: '3' },
      });
      try {
        const hashOf = async () =>
          (
            await second.running.services.store.db
              .selectFrom('users')
              .select('password_hash')
              .where('id', '=', user.id)
              .executeTakeFirstOrThrow()
          ).password_hash;
        expect(await hashOf()).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
        expect((await verify(second.publicUrl, { authorization: basicHeader('ria', 'ria-password') })).status).toBe(
          200,
        );
        expect(await hashOf()).toMatch(/^\$argon2id\$v=19\$m=24576,t=3,p=1\$/);
      } finally {
        await second.stop();
      }
    } finally {
      await database.drop();
      dir.remove();
    }
  });
});

describe.each(storeKinds())('pepper and blocklist on %s', (kind) => {
  it('peppers new hashes, re-peppers old ones at login, and fails closed without the pepper (docs/security.md #30, #35)', async () => {
    const dir = tempDir();
    const database = await createTestDatabase(kind, dir.path);
    const shared = { dataDir: dir.path, databaseUrl: database.url, masterKey: 'c'.repeat(64) };
    const blocklist = path.join(dir.path, 'breached.txt');
    writeFileSync(blocklist, 'password123\nletmein-please\n');
    const pepper = 'd'.repeat(64);
    const hashOf = (server: TestServer, username: string) =>
      server.running.services.store.db
        .selectFrom('users')
        .select(['password_hash', 'password_pepper_id'])
        .where('username', '=', username)
        .executeTakeFirstOrThrow();
    try {
      const plain = await startTestServer(kind, { ...shared, env: { GATEHOUSE_DEV: 'true' } });
      await createUser(plain, { username: 'early', password: 'early-password' });
      await plain.stop();

      const peppered = await startTestServer(kind, {
        ...shared,
        env: { GATEHOUSE_DEV: 'true', GATEHOUSE_PASSWORD_PEPPER: pepper, GATEHOUSE_PASSWORD_BLOCKLIST_FILE: blocklist },
      });
      try {
        const refused = await peppered.admin('POST', '/admin/v1/users', {
          username: 'late',
          password: 'LetMeIn-Please',
        });
        expect(refused.status).toBe(400);
        expect(refused.body.errors[0]).toEqual({
          field: 'password',
          message: 'is in the list of breached or common passwords; choose another',
        });
        await createUser(peppered, { username: 'late', password: 'late-password' });
        expect((await hashOf(peppered, 'late')).password_pepper_id).toMatch(/^[0-9a-f]{16}$/);
        expect((await hashOf(peppered, 'early')).password_pepper_id).toBeNull();
        expect(
          (await verify(peppered.publicUrl, { authorization: basicHeader('early', 'early-password') })).status,
        ).toBe(200);
        expect((await hashOf(peppered, 'early')).password_pepper_id).toMatch(/^[0-9a-f]{16}$/);
      } finally {
        await peppered.stop();
      }

      const without = await startTestServer(kind, { ...shared, env: { GATEHOUSE_DEV: 'true' } });
      try {
        const denied = await verify(without.publicUrl, { authorization: basicHeader('late', 'late-password') });
        expect(denied.status).toBe(401);
        expect(denied.body).toEqual(INVALID);
        expect(without.logs.join('')).toContain('a pepper that is not configured');
        expect(without.logs.join('')).not.toContain(pepper);
      } finally {
        await without.stop();
      }
    } finally {
      await database.drop();
      dir.remove();
    }
  });
});
