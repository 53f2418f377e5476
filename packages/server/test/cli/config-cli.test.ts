/**
 * The settings as a user meets them on the command line: every setting a flag of `serve`,
 * secrets refused as flag values, unknown GATEHOUSE_* variables, deprecated names, typed
 * `config print --json`, master keys in every encoding, `config init`, and per-command flags.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OPTIONS } from '../../src/config/options.js';
import { runCli, spawnServer, waitForExit } from '../support/cli.js';
import { tempDir } from '../support/databases.js';
import { makeSelfSignedCertificate } from '../support/tls.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function scratch(): string {
  const dir = tempDir('gatehouse-config-cli-');
  cleanups.push(dir.remove);
  return dir.path;
}

const EPHEMERAL = ['--host', '127.0.0.1', '--port', '0', '--admin-port', '0'];

/** The long flags a `--help` lists. */
const listedFlags = (help: string): string[] =>
  [...help.matchAll(/^ {2}(?:-\w, )?(--[a-z0-9-]+)/gm)].map((m) => m[1] as string);

describe('settings on the command line', () => {
  it('serve accepts --trust-proxy, --tls-cert and --tls-key-file, warns about unknown and deprecated variables', async () => {
    const dir = scratch();
    const certificate = makeSelfSignedCertificate(dir);
    const server = await spawnServer(
      [
        ...EPHEMERAL,
        '--data-dir',
        path.join(dir, 'data'),
        '--trust-proxy',
        '10.0.0.0/8,loopback',
        '--tls-cert',
        certificate.certFile,
        '--tls-key-file',
        certificate.keyFile,
      ],
      { env: { GATEHOUSE_LOG_LEVL: 'debug', GATEHOUSE_ARGON2_ITERATIONS: '3' } },
    );
    cleanups.push(() => server.child.kill('SIGKILL'));
    expect(String(server.ready.public)).toMatch(/^https:\/\//);
    const warnings = server
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: unknown; msg: string })
      .filter((entry) => entry.level === 'warn')
      .map((entry) => entry.msg);
    expect(warnings).toContain(
      'GATEHOUSE_LOG_LEVL: unknown environment variable, ignored (did you mean GATEHOUSE_LOG_LEVEL?)',
    );
    expect(warnings).toContain(
      'GATEHOUSE_ARGON2_ITERATIONS is deprecated and will be removed; use GATEHOUSE_PASSWORDS_ARGON2_ITERATIONS (passwords.argon2.iterations)',
    );
    server.child.kill('SIGTERM');
    expect(await waitForExit(server.child)).toEqual({ code: 0, signal: null });
  });

  it('lists every setting among the flags of serve and config check; migrate lists only its own', async () => {
    const serve = listedFlags((await runCli(['serve', '--help'])).stdout);
    const check = listedFlags((await runCli(['config', 'check', '--help'])).stdout);
    for (const option of OPTIONS) {
      const flag = `--${option.key.replaceAll(/[._]/g, '-')}${option.secret ? '-file' : ''}`;
      expect(serve, option.key).toContain(flag);
      expect(check, option.key).toContain(flag);
    }
    // Secret values are never offered as flags.
    expect(serve).not.toContain('--master-key');
    const migrate = listedFlags((await runCli(['migrate', '--help'])).stdout);
    expect(migrate.sort()).toEqual(
      [
        '--config',
        '--data-dir',
        '--database-url',
        '--database-pool-size',
        '--database-connect-timeout',
        '--log-level',
        '--log-format',
        '--help',
      ].sort(),
    );
    const unknown = await runCli(['migrate', '--port', '1']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--port'");
  });

  it('refuses a secret as a flag value without echoing it, and reads it from --<flag>-file', async () => {
    const dir = scratch();
    const secret = randomBytes(32).toString('hex');
    const refused = await runCli(['config', 'check', '--data-dir', dir, '--master-key', secret]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--master-key: a secret is not taken on the command line');
    expect(refused.stderr).toContain('--master-key-file FILE or GATEHOUSE_MASTER_KEY_FILE');
    expect(refused.stderr + refused.stdout).not.toContain(secret);
    const file = path.join(dir, 'master.key.txt');
    writeFileSync(file, `${secret}\n`);
    const printed = await runCli(['config', 'print', '--json', '--data-dir', dir, '--master-key-file', file]);
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout).master_key).toBe('********');
    expect(printed.stdout).not.toContain(secret);
  });

  it('fails config check on an unknown GATEHOUSE_* variable, with a did-you-mean; passes with the known ones', async () => {
    const dir = scratch();
    const typo = await runCli(['config', 'check', '--data-dir', dir], { env: { GATEHOUSE_LOG_LEVL: 'debug' } });
    expect(typo).toMatchObject({
      code: 2,
      stderr:
        'gatehouse: invalid configuration\n  GATEHOUSE_LOG_LEVL: unknown environment variable, ignored (did you mean GATEHOUSE_LOG_LEVEL?)\n',
    });
    const known = await runCli(['config', 'check', '--data-dir', dir], {
      env: {
        GATEHOUSE_ADMIN_URL: 'http://127.0.0.1:4001',
        GATEHOUSE_URL: 'http://127.0.0.1:4000',
        GATEHOUSE_TEST_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
        GATEHOUSE_ADMIN_KEY: randomBytes(32).toString('hex'),
      },
    });
    expect(known).toMatchObject({ code: 0, stdout: 'configuration is valid\n', stderr: '' });
    const old = await runCli(['config', 'check', '--data-dir', dir], { env: { GATEHOUSE_PORT: '4100' } });
    expect(old).toMatchObject({
      code: 0,
      stderr:
        'gatehouse: warning: GATEHOUSE_PORT is deprecated and will be removed; use GATEHOUSE_PUBLIC_PORT (public.port)\n',
    });
  });

  it('prints typed JSON', async () => {
    const dir = scratch();
    const result = await runCli(['config', 'print', '--json', '--data-dir', dir, '--dev', '--public-port', '4100'], {
      env: { GATEHOUSE_TRUST_PROXY: '10.0.0.0/8' },
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      dev: true,
      'public.port': 4100,
      'oauth.secure_cookies': false,
      trust_proxy: ['10.0.0.0/8'],
      'tokens.access_ttl': '15m',
      master_key: null,
    });
    const off = await runCli(['config', 'print', '--json', '--data-dir', dir, '--dev', 'false']);
    expect(JSON.parse(off.stdout).dev).toBe(false);
  });
});

describe('master key encodings', () => {
  it('accepts the output of `gatehouse secret` in every encoding, openssl rand -base64 32 and hex', async () => {
    const dir = scratch();
    const keys: string[] = [];
    for (const encoding of ['hex', 'base64', 'base64url']) {
      const made = await runCli(['secret', '--encoding', encoding]);
      expect(made.code).toBe(0);
      keys.push(made.stdout);
    }
    let openssl = `${randomBytes(32).toString('base64')}\n`;
    try {
      openssl = execFileSync('openssl', ['rand', '-base64', '32'], { encoding: 'utf8' });
    } catch {
      // openssl absent: the same form (standard base64, padded, one line) made with node:crypto.
    }
    keys.push(openssl);
    for (const key of keys) {
      const file = path.join(dir, 'key');
      writeFileSync(file, key);
      for (const env of [{ GATEHOUSE_MASTER_KEY: key.trim() }, { GATEHOUSE_MASTER_KEY_FILE: file }] as Array<
        Record<string, string>
      >) {
        const result = await runCli(['config', 'check', '--data-dir', dir], { env });
        expect(result, key).toMatchObject({ code: 0, stdout: 'configuration is valid\n' });
      }
    }
    // A migrate run opens the store with such a key: the sealed box takes the normalised key.
    const migrated = await runCli(['migrate', '--data-dir', dir, '--log-level', 'silent'], {
      env: { GATEHOUSE_MASTER_KEY: (keys[1] as string).trim() },
    });
    expect(migrated.code).toBe(0);
    const short = await runCli(['config', 'check', '--data-dir', dir], {
      env: { GATEHOUSE_MASTER_KEY: randomBytes(24).toString('base64') },
    });
    expect(short.code).toBe(2);
    expect(short.stderr).toContain(
      'master_key (from GATEHOUSE_MASTER_KEY): must be 32 bytes: 64 hex characters, or 44 base64 or base64url characters',
    );
    expect(short.stderr).toContain('decodes to 24 bytes');
  });

  it('starts a server with a base64 master key and again with the same key in hex', async () => {
    const dir = scratch();
    const key = randomBytes(32);
    for (const text of [key.toString('base64'), key.toString('hex')]) {
      const server = await spawnServer([...EPHEMERAL, '--data-dir', dir], { env: { GATEHOUSE_MASTER_KEY: text } });
      cleanups.push(() => server.child.kill('SIGKILL'));
      server.child.kill('SIGTERM');
      expect(await waitForExit(server.child)).toEqual({ code: 0, signal: null });
    }
  });
});

describe('gatehouse config init', () => {
  it('writes a 0600 starter file that config check accepts, and never overwrites without --force', async () => {
    const cwd = scratch();
    const init = await runCli(['config', 'init'], { cwd });
    expect(init).toMatchObject({ code: 0 });
    const file = path.join(cwd, 'gatehouse.yaml');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# port: 4000');
    expect(await runCli(['config', 'check', '--config', 'gatehouse.yaml'], { cwd })).toMatchObject({
      code: 0,
      stdout: 'configuration is valid\n',
      stderr: '',
    });
    writeFileSync(file, 'mine\n');
    const again = await runCli(['config', 'init'], { cwd });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('gatehouse.yaml already exists; it was left untouched (--force overwrites it)');
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
    const other = path.join(cwd, 'other.yaml');
    writeFileSync(other, 'old\n', { mode: 0o644 });
    expect((await runCli(['config', 'init', '--output', other, '--force'], { cwd })).code).toBe(0);
    expect(readFileSync(other, 'utf8')).toBe(text);
    expect(statSync(other).mode & 0o777).toBe(0o600);
    expect((await runCli(['config', 'init', '--output', '-'])).stdout).toBe(text);
  });
});
