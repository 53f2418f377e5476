/**
 * The `gatehouse` command as a user runs it: a real process, real files, real signals.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, spawnServer, waitForExit } from '../support/cli.js';
import { tempDir } from '../support/databases.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function scratch(): string {
  const dir = tempDir('gatehouse-cli-');
  cleanups.push(dir.remove);
  return dir.path;
}

const EPHEMERAL = ['--host', '127.0.0.1', '--port', '0', '--admin-port', '0'];

describe('gatehouse CLI', () => {
  it('prints its version and help', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const version = await runCli(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['serve', 'migrate', 'config', 'secret', 'status']) expect(help.stdout).toContain(command);
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
  });

  it('makes random secrets like openssl rand', async () => {
    const hex = await runCli(['secret']);
    expect(hex.code).toBe(0);
    expect(hex.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect((await runCli(['secret'])).stdout).not.toBe(hex.stdout);
    expect((await runCli(['secret', '--bytes', '16', '--encoding', 'base64url'])).stdout).toMatch(
      /^[A-Za-z0-9_-]{22}\n$/,
    );
    const tooFew = await runCli(['secret', '--bytes', '8']);
    expect(tooFew.code).toBe(2);
    expect(tooFew.stderr).toContain('must be an integer from 16 to 1024');
  });

  it('checks a configuration without starting, with one line per problem and exit 2', async () => {
    const dir = scratch();
    const good = path.join(dir, 'good.yaml');
    writeFileSync(good, `data_dir: ${path.join(dir, 'data')}\npublic:\n  port: 8080\n`);
    expect(await runCli(['config', 'check', '--config', good])).toMatchObject({
      code: 0,
      stdout: 'configuration is valid\n',
    });
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, `data_dir: ${path.join(dir, 'other')}\npublic:\n  port: 70000\nadmn:\n  port: 1\n`);
    const result = await runCli(['config', 'check', '--config', bad, '--admin-port', 'x']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      [
        'gatehouse: invalid configuration',
        `  ${bad}: unknown key "admn"`,
        `  public.port (from ${bad}): must be a port number from 0 to 65535, got 70000`,
        '  admin.port (from --admin-port): must be a port number from 0 to 65535, got "x"',
        '',
      ].join('\n'),
    );
    // Checking does not create anything.
    expect(existsSync(path.join(dir, 'data'))).toBe(false);
    expect(existsSync(path.join(dir, 'other'))).toBe(false);
  });

  it('prints the effective configuration with secrets masked', async () => {
    const dir = scratch();
    const secret = 'f'.repeat(64);
    const result = await runCli(['config', 'print', '--json', '--port', '9999'], {
      env: {
        GATEHOUSE_MASTER_KEY: secret,
        GATEHOUSE_DATABASE_URL: 'postgres://u:topsecret@db:5432/gh',
        GATEHOUSE_DATA_DIR: dir,
      },
    });
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout);
    expect(printed).toMatchObject({
      'public.port': 9999,
      master_key: '********',
      'database.url': 'postgres://u:****@db:5432/gh',
    });
    expect(result.stdout).not.toContain(secret);
    expect(result.stdout).not.toContain('topsecret');
    const table = await runCli(['config', 'print'], { env: { GATEHOUSE_DATA_DIR: dir } });
    expect(table.stdout).toMatch(/^KEY\s+VALUE\s+SOURCE\n/);
  });

  it('migrates a store and exits', async () => {
    const dir = scratch();
    const result = await runCli(['migrate', '--data-dir', dir, '--log-level', 'silent']);
    expect(result).toMatchObject({
      code: 0,
      stdout: `migrations are up to date (sqlite:${path.join(dir, 'gatehouse.db')})\n`,
    });
  });

  it('serves, prints the admin key once, answers `status`, keeps the key on restart, and exits 0 on SIGTERM', async () => {
    const cwd = scratch();
    const first = await spawnServer(EPHEMERAL, { cwd });
    cleanups.push(() => first.child.kill('SIGKILL'));
    const keyFile = path.join(cwd, 'data', 'admin.key');
    const key = readFileSync(keyFile, 'utf8').trim();
    expect(first.stderr()).toContain(key);
    expect(first.stderr()).toContain(keyFile);
    const adminUrl = first.ready.admin as string;

    // `status` finds the key in ./data/admin.key by itself.
    const status = await runCli(['status', '--admin-url', adminUrl], { cwd });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^version:\s+\d+\.\d+\.\d+/m);
    expect(status.stdout).toMatch(/^store:\s+sqlite \(sqlite:.*gatehouse\.db\)$/m);
    expect(status.stdout).toMatch(new RegExp(`^admin:\\s+${adminUrl}$`, 'm'));
    expect(status.stdout).toMatch(/^uptime:\s+\d+s$/m);
    const json = JSON.parse(
      (await runCli(['status', '--json'], { cwd, env: { GATEHOUSE_ADMIN_URL: adminUrl } })).stdout,
    );
    expect(json.listeners.admin).toBe(adminUrl);

    const started = Date.now();
    first.child.kill('SIGTERM');
    expect(await waitForExit(first.child)).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(5000);

    const second = await spawnServer(EPHEMERAL, { cwd });
    cleanups.push(() => second.child.kill('SIGKILL'));
    expect(second.stderr()).not.toContain(key);
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(key);
    const again = await runCli(['status', '--admin-url', second.ready.admin as string], { cwd });
    expect(again.code).toBe(0);
    second.child.kill('SIGINT');
    expect(await waitForExit(second.child)).toEqual({ code: 0, signal: null });
  });

  it('exits 4 when the admin key is refused, 3 when the server is unreachable, 2 without a key', async () => {
    const cwd = scratch();
    const server = await spawnServer(EPHEMERAL, { cwd });
    cleanups.push(() => server.child.kill('SIGKILL'));
    const refused = await runCli(['status', '--admin-url', server.ready.admin as string, '--admin-key', 'nope'], {
      cwd,
    });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('the admin API refused the admin key');
    const unreachable = await runCli(['status', '--admin-url', 'http://127.0.0.1:9', '--admin-key', 'k'], { cwd });
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain('cannot reach the admin API at http://127.0.0.1:9');
    const nokey = await runCli(['status'], { cwd: scratch() });
    expect(nokey.code).toBe(2);
    expect(nokey.stderr).toContain('no admin key');
  });

  it('refuses to start on an unwritable data dir, naming it, and exits non-zero', async () => {
    const dir = scratch();
    const blocker = path.join(dir, 'file');
    writeFileSync(blocker, 'x');
    const result = await runCli(['serve', ...EPHEMERAL, '--data-dir', path.join(blocker, 'data')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`data_dir: ${path.join(blocker, 'data')} is not a writable directory (ENOTDIR)`);
  });
});
