/**
 * `gatehouse client …` as a new user runs it (the built CLI as a child process, against a real
 * server), then the seed's exact `curl` client-credentials call, and the token on /auth/verify.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { storeKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';

const run = promisify(execFile);

describe.each(storeKinds())('gatehouse client commands on %s', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(async () => server?.stop());

  const admin = () => ['--admin-url', server.adminUrl, '--admin-key', server.adminKey];

  it('creates a client, and the seed’s curl call gets a token that /auth/verify accepts', async () => {
    const created = await runCli([
      'client',
      'create',
      '--name',
      'billing',
      '--grant-type',
      'client_credentials',
      '--scope',
      'invoices:read',
      '--auth-method',
      'client_secret_post',
      ...admin(),
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toContain('shown only once');
    const id = /client_id: +(\S+)/.exec(created.stdout)?.[1] as string;
    const secret = /client_secret: +(\S+)/.exec(created.stdout)?.[1] as string;
    expect(id).toMatch(/^cli_/);
    expect(secret).toMatch(/^ghcs_/);

    const { stdout } = await run('curl', [
      '-s',
      '-X',
      'POST',
      '-d',
      `client_id=${id}&client_secret=${secret}&grant_type=client_credentials`,
      `${server.publicUrl}/oauth/token`,
    ]);
    const token = JSON.parse(stdout);
    expect(token).toMatchObject({ token_type: 'Bearer', scope: 'invoices:read', expires_in: expect.any(Number) });

    const verify = await fetch(`${server.publicUrl}/auth/verify`, {
      headers: { authorization: `Bearer ${token.access_token}` },
    });
    expect(verify.status).toBe(200);
    expect(verify.headers.get('x-auth-method')).toBe('jwt');
    expect(verify.headers.get('x-auth-client-id')).toBe(id);
    expect(verify.headers.get('x-auth-scopes')).toBe('invoices:read');
  });

  it('lists, shows, updates, rotates and deletes, with --json for scripts and exit codes for errors', async () => {
    const created = JSON.parse(
      (
        await runCli([
          'client',
          'create',
          '--id',
          'web-app',
          '--grant-type',
          'authorization_code',
          '--grant-type',
          'refresh_token',
          '--redirect-uri',
          'https://app.example.com/cb',
          '--scope',
          'openid profile',
          '--json',
          ...admin(),
        ])
      ).stdout,
    );
    expect(created).toMatchObject({ client_id: 'web-app', grant_types: ['authorization_code', 'refresh_token'] });

    const list = await runCli(['client', 'list', ...admin()]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^CLIENT_ID +NAME +GRANT TYPES +AUTH +SCOPE\n/);
    expect(list.stdout).toContain('web-app');

    const shown = await runCli(['client', 'show', 'web-app', ...admin()]);
    expect(shown.stdout).toMatch(/redirect uris: +https:\/\/app\.example\.com\/cb/);
    expect(shown.stdout).not.toContain('ghcs_');
    expect(shown.stdout).not.toMatch(/^client_secret:/m);

    const updated = await runCli([
      'client',
      'update',
      'web-app',
      '--name',
      'Web App',
      '--access-token-lifetime',
      '5m',
      '--json',
      ...admin(),
    ]);
    expect(JSON.parse(updated.stdout)).toMatchObject({ client_name: 'Web App', access_token_lifetime: 300 });

    const rotated = await runCli(['client', 'rotate-secret', 'web-app', '--grace', '1h', '--json', ...admin()]);
    expect(rotated.code).toBe(0);
    expect(JSON.parse(rotated.stdout)).toMatchObject({
      client_id: 'web-app',
      client_secret: expect.stringMatching(/^ghcs_/),
      previous_secret_expires_at: expect.any(String),
    });

    const bad = await runCli([
      'client',
      'create',
      '--redirect-uri',
      'javascript:alert(1)',
      '--grant-type',
      'authorization_code',
      ...admin(),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/redirect_uris\.0: must not use the javascript: scheme/);

    expect((await runCli(['client', 'delete', 'web-app', ...admin()])).code).toBe(0);
    const missing = await runCli(['client', 'show', 'web-app', ...admin()]);
    expect(missing.code).toBe(5);
  });
});
