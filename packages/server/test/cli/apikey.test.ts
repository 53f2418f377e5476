/**
 * `gatehouse apikey …` as a user runs it: the built CLI against a `gatehouse serve` process,
 * reading the admin key from the data dir, then the key presented to /auth/verify like curl would.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnServer, waitForExit } from '../support/cli.js';
import { tempDir } from '../support/databases.js';

describe('gatehouse apikey (CLI against a running server)', () => {
  const dir = tempDir();
  let child: ChildProcess;
  let publicUrl: string;
  let connection: string[];
  const cli = (...args: string[]) => runCli(['apikey', ...args, ...connection]);
  const verifyWith = (key: string) =>
    fetch(`${publicUrl}/auth/verify`, { headers: { 'X-API-Key': key } }).then((response) => response.status);

  beforeAll(async () => {
    const server = await spawnServer([
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--admin-port',
      '0',
      '--data-dir',
      dir.path,
    ]);
    child = server.child;
    publicUrl = server.ready.public as string;
    connection = ['--admin-url', server.ready.admin as string, '--data-dir', dir.path];
  });
  afterAll(async () => {
    child?.kill('SIGTERM');
    if (child) await waitForExit(child);
    dir.remove();
  });

  it('creates a key (--json), which /auth/verify accepts with X-Auth-Method: apikey; revoked, it is refused', async () => {
    const created = await cli('create', '--name', 'svc', '--scopes', 'data:read', '--json');
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout);
    expect(key).toMatchObject({
      name: 'svc',
      scopes: ['data:read'],
      state: 'active',
      key: expect.stringMatching(/^gk_/),
    });

    const response = await fetch(`${publicUrl}/auth/verify`, { headers: { 'X-API-Key': key.key } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-auth-method')).toBe('apikey');
    expect(response.headers.get('x-auth-scopes')).toBe('data:read');

    const revoked = await cli('revoke', key.id);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`^Revoked API key ${key.id} \\(svc\\) at \\d{4}-`));
    expect(await verifyWith(key.key)).toBe(401);
    // Idempotent.
    expect((await cli('revoke', key.id)).code).toBe(0);
  });

  it('prints a new key once, with a warning, in human form', async () => {
    const created = await cli(
      'create',
      '--name',
      'human',
      '--owner',
      'svc-h',
      '--expires-in',
      '30d',
      '--rate-limit',
      '100/minute',
    );
    expect(created.code).toBe(0);
    const key = /^ {2}(gk_[0-9A-Za-z]{49})$/m.exec(created.stdout)?.[1];
    expect(key).toBeDefined();
    expect(created.stdout).toMatch(/shown only this once/);
    expect(created.stdout).toMatch(/^rate limit: +100\/minute$/m);
    expect(await verifyWith(key as string)).toBe(200);
  });

  it('lists, shows, updates and rotates keys; never prints more of a key than its prefix and last four', async () => {
    const created = JSON.parse(
      (await cli('create', '--name', 'rotating', '--owner', 'svc-r', '--metadata', '{"team":"core"}', '--json')).stdout,
    );
    const listed = await cli('list', '--owner', 'svc-r');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ID +NAME +OWNER +KEY +STATE +SCOPES +EXPIRES +LAST USED$/m);
    expect(listed.stdout).toContain(`gk_…${created.last4}`);
    expect(listed.stdout).not.toContain(created.key.slice(3, -4));
    const listedJson = JSON.parse((await cli('list', '--state', 'active', '--all', '--json')).stdout);
    expect(listedJson.data.map((key: { id: string }) => key.id)).toContain(created.id);

    const shown = await cli('show', created.id);
    expect(shown.stdout).toMatch(/^owner: +svc-r$/m);
    expect(shown.stdout).toMatch(/^metadata: +\{"team":"core"\}$/m);

    const updated = JSON.parse(
      (
        await cli(
          'update',
          created.id,
          '--scopes',
          'a:read,a:write',
          '--rate-limit',
          '10/s',
          '--remaining-uses',
          '5',
          '--json',
        )
      ).stdout,
    );
    expect(updated).toMatchObject({ scopes: ['a:read', 'a:write'], rate_limit: '10/second', remaining_uses: 5 });
    const cleared = JSON.parse(
      (await cli('update', created.id, '--no-rate-limit', '--unlimited-uses', '--no-expiry', '--json')).stdout,
    );
    expect(cleared).toMatchObject({ rate_limit: null, remaining_uses: null, expires_at: null });

    const rotated = JSON.parse((await cli('rotate', created.id, '--grace', '1h', '--json')).stdout);
    expect(rotated).toMatchObject({ rotated_from: created.id, owner: 'svc-r', key: expect.stringMatching(/^gk_/) });
    expect(await verifyWith(rotated.key)).toBe(200);
    expect(await verifyWith(created.key)).toBe(200); // in its grace period
    const old = await cli('show', created.id);
    expect(old.stdout).toMatch(new RegExp(`^replaced by: +${rotated.id} \\(works until `, 'm'));
    // In its grace period the old key is `rotated`, with the end of grace, not `active`.
    expect(old.stdout).toMatch(/^state: +rotated until \d{4}-\d\d-\d\dT/m);
    const after = await cli('list', '--owner', 'svc-r');
    expect(after.stdout).toMatch(new RegExp(`^${created.id} .* rotated until \\d{4}-`, 'm'));
    expect(after.stdout).toMatch(new RegExp(`^${rotated.id} .* active `, 'm'));
  });

  it('keeps the subject of an ownerless key across rotation', async () => {
    const created = JSON.parse((await cli('create', '--name', 'ownerless', '--json')).stdout);
    const subjectOf = (key: string) =>
      fetch(`${publicUrl}/auth/verify`, { headers: { 'X-API-Key': key } }).then((r) => r.headers.get('x-auth-subject'));
    expect(await subjectOf(created.key)).toBe(created.id);
    const rotated = JSON.parse((await cli('rotate', created.id, '--json')).stdout);
    expect(rotated.owner).toBe(created.id);
    expect(await subjectOf(rotated.key)).toBe(created.id);
  });

  it('imports existing keys from a file (lines or JSON), with a warning to rotate them; a bad file writes nothing', async () => {
    const lines = path.join(dir.path, 'keys.txt');
    writeFileSync(lines, 'line-format-legacy-key-00001\r\n\nline-format-legacy-key-00002\n');
    const imported = await cli('import', lines, '--owner', 'svc-legacy', '--scopes', 'data:read');
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(
      /^imported line 1 as key_\S+ \(imported \(line 1\)\), authenticating as svc-legacy$/m,
    );
    expect(imported.stdout).toMatch(/^imported line 3 as /m);
    expect(imported.stdout).toMatch(/^2 legacy keys imported$/m);
    expect(imported.stderr).toMatch(/^warning: legacy keys have no checksum .*rotate each one/m);
    const verified = await fetch(`${publicUrl}/auth/verify?scope=data:read`, {
      headers: { 'X-API-Key': 'line-format-legacy-key-00002' },
    });
    expect(verified.status).toBe(200);
    expect(verified.headers.get('x-auth-subject')).toBe('svc-legacy');

    const json = path.join(dir.path, 'keys.json');
    const hash = createHash('sha256').update('json-format-legacy-key-0003').digest('hex');
    writeFileSync(json, JSON.stringify([{ name: 'from json', owner: 'carol', sha256: hash }]));
    expect((await cli('import', json)).code).toBe(0);
    expect(await verifyWith('json-format-legacy-key-0003')).toBe(200);

    const listed = await cli('list', '--owner', 'svc-legacy');
    expect(listed.stdout).toMatch(/ \(legacy\) +active /);
    expect(listed.stderr).toMatch(/^warning: legacy keys \(imported, no checksum\) should be rotated/m);
    const id = /^imported line 1 as (key_\S+)/m.exec(imported.stdout)?.[1] as string;
    expect((await cli('show', id)).stdout).toMatch(/^legacy: +yes: imported, no checksum; rotate it/m);
    const rotated = JSON.parse((await cli('rotate', id, '--json')).stdout);
    expect(rotated).toMatchObject({ legacy: false, owner: 'svc-legacy', key: expect.stringMatching(/^gk_/) });

    const bad = path.join(dir.path, 'bad.txt');
    writeFileSync(bad, 'fine-legacy-key-number-0004\ntoo-short\n');
    const refused = await cli('import', bad);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/line 2: the key is 9 characters; legacy keys must have at least 20/);
    expect(await verifyWith('fine-legacy-key-number-0004')).toBe(401);
  });

  it('exits 2 with the server naming the field for bad values, 5 for unknown keys', async () => {
    const badRate = await cli('create', '--name', 'x', '--rate-limit', '0/minute');
    expect(badRate.code).toBe(2);
    expect(badRate.stderr).toMatch(/^gatehouse: 400 rate_limit: /);
    const badExpiry = await cli('create', '--name', 'x', '--expires-in', '-5s');
    expect(badExpiry.code).toBe(2);
    expect(badExpiry.stderr).toMatch(/expires_in/);
    expect((await cli('create')).code).toBe(2); // --name is required
    const badMetadata = await cli('create', '--name', 'x', '--metadata', 'not json');
    expect(badMetadata.code).toBe(2);
    expect(badMetadata.stderr).toMatch(/--metadata/);
    const missing = await cli('show', 'key_doesnotexist');
    expect(missing.code).toBe(5);
    expect(missing.stderr).toMatch(/404 No API key key_doesnotexist/);
    expect((await cli('revoke', 'key_doesnotexist')).code).toBe(5);
  });

  it('exits 4 when the admin key is wrong', async () => {
    const refused = await runCli([
      'apikey',
      'list',
      '--admin-url',
      connection[1] as string,
      '--admin-key',
      'x'.repeat(40),
    ]);
    expect(refused.code).toBe(4);
  });
});
