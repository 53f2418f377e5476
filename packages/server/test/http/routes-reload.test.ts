/**
 * Reloading route policies without a restart: a valid file takes effect at once, a file with
 * problems changes nothing and logs one line per problem, and SIGHUP does it for a real
 * `gatehouse serve` process.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnServer, waitForExit } from '../support/cli.js';
import { tempDir } from '../support/databases.js';
import { startTestServer, type TestServer, writeRoutesFile } from '../support/server.js';

const forwardAuth = (publicUrl: string, uri: string) =>
  fetch(`${publicUrl}/auth/verify`, { headers: { 'x-forwarded-method': 'GET', 'x-forwarded-uri': uri } });

describe('reloadRoutes()', () => {
  let server: TestServer;
  let file: string;
  beforeAll(async () => {
    server = await startTestServer('sqlite', {
      routes: [{ name: 'one', match: { path: '/one' }, auth: ['anonymous'] }],
    });
    file = path.join(server.dataDir, 'gatehouse.yaml');
  });
  afterAll(async () => server?.stop());

  it('applies a valid file at once', async () => {
    expect((await forwardAuth(server.publicUrl, '/two')).status).toBe(403);
    writeRoutesFile(file, [
      { name: 'one', match: { path: '/one' }, auth: ['anonymous'] },
      { name: 'two', match: { path: '/two' }, auth: ['anonymous'] },
    ]);
    expect(server.running.reloadRoutes()).toEqual({ ok: true, routes: 2 });
    expect((await forwardAuth(server.publicUrl, '/two')).status).toBe(200);
    expect(server.logs.join('')).toContain('routes reloaded');
  });

  it('keeps the routes in force when the new file has problems, logging one line per problem', async () => {
    writeRoutesFile(file, [
      { name: 'one', match: { path: 'one' }, auth: ['anonymous'] },
      { name: 'three', match: { path: '/three' }, auth: ['kerberos'] },
    ]);
    const before = server.logs.length;
    const result = server.running.reloadRoutes();
    expect(result).toEqual({
      ok: false,
      problems: [
        'routes[0].match.path: must start with "/", got "one"',
        'routes[1].auth: has an unknown mechanism "kerberos"; allowed: apikey, jwt, basic, anonymous',
      ],
    });
    const lines = server.logs.slice(before).join('');
    expect(lines).toContain('routes not reloaded: routes[0].match.path');
    expect(lines).toContain('routes not reloaded: routes[1].auth');
    expect(lines).toContain('the previous routes stay in force');
    expect((await forwardAuth(server.publicUrl, '/two')).status).toBe(200);
    expect((await forwardAuth(server.publicUrl, '/three')).status).toBe(403);

    writeFileSync(file, 'routes: [unclosed');
    expect(server.running.reloadRoutes().ok).toBe(false);
    expect((await forwardAuth(server.publicUrl, '/two')).status).toBe(200);
  });

  it('denies everything, rather than relaxing, when the routes section is removed', async () => {
    writeFileSync(file, 'log:\n  level: debug\n');
    expect(server.running.reloadRoutes()).toEqual({ ok: true, routes: 0 });
    expect((await forwardAuth(server.publicUrl, '/one')).status).toBe(403);
    expect(server.logs.join('')).toContain('the routes section was removed');
  });

  it('counts reloads in /metrics', async () => {
    const metrics = await (await fetch(`${server.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/gatehouse_routes_reloads_total\{result="success"\} 2/);
    expect(metrics).toMatch(/gatehouse_routes_reloads_total\{result="failure"\} 2/);
    expect(metrics).toMatch(/^gatehouse_routes 0$/m);
  });
});

describe('SIGHUP on a running gatehouse serve', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('reloads the routes, and keeps them when the file turns invalid', async () => {
    const file = path.join(dir.path, 'gatehouse.yaml');
    writeRoutesFile(file, [{ name: 'one', match: { path: '/one' }, auth: ['anonymous'] }]);
    const server = await spawnServer(['--config', file], {
      env: {
        GATEHOUSE_DATA_DIR: path.join(dir.path, 'data'),
        GATEHOUSE_HOST: '127.0.0.1',
        GATEHOUSE_PORT: '0',
        GATEHOUSE_ADMIN_PORT: '0',
        GATEHOUSE_PROXY_PORT: '0',
        GATEHOUSE_PROXY_HOST: '127.0.0.1',
      },
    });
    try {
      const publicUrl = String(server.ready.public);
      expect(server.ready.proxy).toEqual(expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/));
      expect((await forwardAuth(publicUrl, '/two')).status).toBe(403);

      // Resolves when the server's log has said `marker` once more than it had so far.
      const reloaded = (marker: string) => {
        const seen = server.stdout().split(marker).length;
        return new Promise<void>((resolve) => {
          const onData = () => {
            if (server.stdout().split(marker).length <= seen) return;
            server.child.stdout?.off('data', onData);
            resolve();
          };
          server.child.stdout?.on('data', onData);
        });
      };
      writeRoutesFile(file, [{ name: 'two', match: { path: '/two' }, auth: ['anonymous'] }]);
      const done = reloaded('routes reloaded');
      server.child.kill('SIGHUP');
      await done;
      expect((await forwardAuth(publicUrl, '/two')).status).toBe(200);
      expect((await forwardAuth(publicUrl, '/one')).status).toBe(403);

      writeRoutesFile(file, [{ name: 'three', match: { path: 'three' } }]);
      const refused = reloaded('previous routes stay in force');
      server.child.kill('SIGHUP');
      await refused;
      expect(server.stdout()).toContain('routes not reloaded: routes[0].match.path: must start with \\"/\\"');
      expect((await forwardAuth(publicUrl, '/two')).status).toBe(200);
      expect(server.child.exitCode).toBeNull();
    } finally {
      server.child.kill('SIGTERM');
      await waitForExit(server.child);
    }
  });

  it('validates routes in gatehouse config check, one line per problem', async () => {
    const file = path.join(dir.path, 'check.yaml');
    writeRoutesFile(file, [
      { name: 'a', match: { path: '/a' }, upstream: 'http://127.0.0.1:5000', auth: ['anonymous'] },
      { name: 'b', match: { path: '/b', methods: 'GET' } },
    ]);
    const env = { GATEHOUSE_DATA_DIR: path.join(dir.path, 'check-data') };
    const bad = await runCli(['config', 'check', '--config', file], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('routes[1].match.methods: must be a non-empty list such as [GET, POST], got "GET"');
    writeRoutesFile(file, [
      { name: 'a', match: { path: '/a' }, upstream: 'http://127.0.0.1:5000', auth: ['anonymous'] },
    ]);
    const good = await runCli(['config', 'check', '--config', file], { env });
    expect(good.stdout).toBe('configuration is valid (1 route)\n');
    expect(good.code).toBe(0);
  });
});
