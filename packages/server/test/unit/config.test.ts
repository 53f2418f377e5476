/**
 * Configuration: precedence (flag > env > file > default), `_FILE` variables, and one clear line
 * per problem for every kind of bad input.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/config/duration.js';
import { ConfigError, configReference, describeConfig, loadConfig } from '../../src/config/load.js';
import { OPTIONS } from '../../src/config/options.js';
import { tempDir } from '../support/databases.js';

const dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

function scratch(): string {
  const dir = tempDir('gatehouse-config-');
  dirs.push(dir);
  return dir.path;
}

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('config precedence', () => {
  it('uses defaults when nothing is given', () => {
    const { config } = loadConfig({ env: {} });
    expect(config.public).toEqual({ host: '0.0.0.0', port: 4000 });
    expect(config.admin).toEqual({ host: '127.0.0.1', port: 4001 });
    expect(config.proxy.port).toBe(4002);
    expect(config.dataDir).toBe('./data');
    expect(config.database.url).toBe('sqlite:./data/gatehouse.db');
    expect(config.issuer).toBe('http://127.0.0.1:4000');
    expect(config.log.level).toBe('info');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('takes flag over env over file over default', () => {
    const dir = scratch();
    const file = path.join(dir, 'gatehouse.yaml');
    writeFileSync(file, 'public:\n  port: 5000\n  host: 127.0.0.2\nadmin:\n  port: 5001\nlog:\n  level: warn\n');
    const { config } = loadConfig({
      file,
      env: { GATEHOUSE_PORT: '6000', GATEHOUSE_ADMIN_PORT: '6001' },
      flags: { 'public.port': '7000' },
    });
    expect(config.public.port).toBe(7000);
    expect(config.admin.port).toBe(6001);
    expect(config.public.host).toBe('127.0.0.2');
    expect(config.log.level).toBe('warn');
    expect(config.sources.get('public.port')).toBe('flag');
    expect(config.sources.get('admin.port')).toBe('env');
    expect(config.sources.get('log.level')).toBe('file');
    expect(config.sources.get('proxy.port')).toBe('default');
  });

  it('derives the database URL from the data dir and the issuer from the public listener', () => {
    const { config } = loadConfig({
      env: { GATEHOUSE_DATA_DIR: '/srv/gh', GATEHOUSE_HOST: '10.1.2.3', GATEHOUSE_PORT: '8443' },
    });
    expect(config.database.url).toBe('sqlite:/srv/gh/gatehouse.db');
    expect(config.issuer).toBe('http://10.1.2.3:8443');
  });

  it('reads any setting from a file named by <ENV>_FILE (Docker/Kubernetes secrets)', () => {
    const dir = scratch();
    const keyFile = path.join(dir, 'master');
    writeFileSync(keyFile, `${'ab'.repeat(32)}\n`);
    const portFile = path.join(dir, 'port');
    writeFileSync(portFile, '4555\n');
    const { config } = loadConfig({ env: { GATEHOUSE_MASTER_KEY_FILE: keyFile, GATEHOUSE_PORT_FILE: portFile } });
    expect(config.masterKey).toBe('ab'.repeat(32));
    expect(config.public.port).toBe(4555);
    expect(config.sources.get('master_key')).toBe('env-file');
  });

  it('parses durations with units', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('30d')).toBe(2_592_000_000);
    expect(parseDuration('12')).toBe(12_000);
    expect(parseDuration('soon')).toBeUndefined();
    expect(loadConfig({ env: { GATEHOUSE_SHUTDOWN_TIMEOUT: '2s' } }).config.shutdownTimeoutMs).toBe(2000);
  });
});

describe('config validation: one clear line per problem', () => {
  it('names an unknown key in the file, with a suggestion', () => {
    const dir = scratch();
    const file = path.join(dir, 'c.yaml');
    writeFileSync(file, 'pubilc:\n  port: 1\nadmin:\n  prot: 2\n');
    expect(problemsOf(() => loadConfig({ file, env: {} }))).toEqual([
      `${file}: unknown key "pubilc"`,
      `${file}: unknown key "admin.prot" (did you mean "admin.port"?)`,
    ]);
  });

  it('names wrong types, bad URLs and ports out of range, all at once', () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: {
          GATEHOUSE_PORT: '99999',
          GATEHOUSE_ADMIN_PORT: 'abc',
          GATEHOUSE_ISSUER: 'ftp://example.com',
          GATEHOUSE_DATABASE_URL: 'mysql://localhost/db',
          GATEHOUSE_LOG_LEVEL: 'loud',
          GATEHOUSE_DEV: 'perhaps',
        },
      }),
    );
    expect(problems).toEqual([
      'dev (from GATEHOUSE_DEV): must be true or false, got "perhaps"',
      'public.port (from GATEHOUSE_PORT): must be a port number from 0 to 65535, got "99999"',
      'admin.port (from GATEHOUSE_ADMIN_PORT): must be a port number from 0 to 65535, got "abc"',
      'database.url (from GATEHOUSE_DATABASE_URL): must start with sqlite: or postgres://',
      'log.level (from GATEHOUSE_LOG_LEVEL): must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'issuer (from GATEHOUSE_ISSUER): must use http or https, got "ftp://example.com"',
    ]);
  });

  it('rejects a file value of the wrong YAML type and names the file', () => {
    const dir = scratch();
    const file = path.join(dir, 'c.yaml');
    writeFileSync(file, 'public:\n  port: [1, 2]\nissuer: "not a url"\n');
    expect(problemsOf(() => loadConfig({ file, env: {} }))).toEqual([
      `public.port (from ${file}): must be a port number from 0 to 65535, got [1,2]`,
      `issuer (from ${file}): must be an absolute http(s) URL, got "not a url"`,
    ]);
  });

  it('reports YAML syntax errors, duplicate keys and a missing file', () => {
    const dir = scratch();
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, 'public:\n  port: 1\n  port: 2\n');
    const [duplicate] = problemsOf(() => loadConfig({ file: broken, env: {} }));
    expect(duplicate).toMatch(new RegExp(`^${broken}: Map keys must be unique`));
    const missing = path.join(dir, 'missing.yaml');
    expect(problemsOf(() => loadConfig({ file: missing, env: {} }))).toEqual([
      `${missing}: cannot read the config file (ENOENT)`,
    ]);
  });

  it('refuses an unwritable data dir', () => {
    const dir = scratch();
    const blocker = path.join(dir, 'file');
    writeFileSync(blocker, 'not a directory');
    const problems = problemsOf(() =>
      loadConfig({ env: { GATEHOUSE_DATA_DIR: path.join(blocker, 'data') }, checkDataDir: true }),
    );
    expect(problems).toEqual([`data_dir: ${path.join(blocker, 'data')} is not a writable directory (ENOTDIR)`]);
  });

  it('never echoes an invalid secret back', () => {
    const problems = problemsOf(() =>
      loadConfig({ env: { GATEHOUSE_MASTER_KEY: 'hunter2-is-my-secret', GATEHOUSE_ADMIN_KEY: 'short-secret' } }),
    );
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).not.toMatch(/hunter2|short-secret/);
    expect(problems[0]).toMatch(/^master_key \(from GATEHOUSE_MASTER_KEY\): must be 32 bytes/);
    expect(problems[1]).toMatch(/^admin_key \(from GATEHOUSE_ADMIN_KEY\): must be at least 32 characters/);
  });

  it('refuses both <ENV> and <ENV>_FILE, and an unreadable _FILE', () => {
    expect(problemsOf(() => loadConfig({ env: { GATEHOUSE_PORT: '1', GATEHOUSE_PORT_FILE: '/nonexistent' } }))).toEqual(
      ['public.port: both GATEHOUSE_PORT and GATEHOUSE_PORT_FILE are set; use one'],
    );
    expect(problemsOf(() => loadConfig({ env: { GATEHOUSE_ADMIN_KEY_FILE: '/nonexistent/admin' } }))).toEqual([
      'GATEHOUSE_ADMIN_KEY_FILE: cannot read /nonexistent/admin (ENOENT)',
    ]);
  });
});

describe('config print and reference', () => {
  it('masks secrets and database passwords', () => {
    const { config } = loadConfig({
      env: {
        GATEHOUSE_MASTER_KEY: 'cd'.repeat(32),
        GATEHOUSE_DATABASE_URL: 'postgres://gatehouse:pa55word@db.internal:5432/gatehouse',
      },
    });
    const shown = describeConfig(config);
    const text = JSON.stringify(shown);
    expect(text).not.toContain('cd'.repeat(32));
    expect(text).not.toContain('pa55word');
    expect(shown.find((row) => row.key === 'master_key')).toEqual({
      key: 'master_key',
      value: '********',
      source: 'env',
    });
    expect(shown.find((row) => row.key === 'database.url')?.value).toBe(
      'postgres://gatehouse:****@db.internal:5432/gatehouse',
    );
    expect(shown.find((row) => row.key === 'admin_key')?.value).toBe('(unset)');
  });

  it('documents every option in the committed docs/configuration.md', () => {
    const committed = readFileSync(new URL('../../../../docs/configuration.md', import.meta.url), 'utf8');
    expect(committed, 'run `npm run docs:config` to regenerate docs/configuration.md').toBe(configReference());
    for (const option of OPTIONS) expect(committed).toContain(`\`${option.key}\``);
  });
});
