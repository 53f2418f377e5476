/**
 * The naming rule of the settings (key → environment variable → flag), the deprecated names,
 * unknown GATEHOUSE_* variables, typed `config print --json`, the encodings of 32-byte keys and
 * the starter file of `config init`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONFIG_FLAGS, configInputFrom } from '../../src/cli/commands/serve.js';
import { ConfigError, describeConfigJson, type LoadedConfig, loadConfig } from '../../src/config/load.js';
import { DEPRECATED_ENV, envName, fileFlagName, flagName, isKnownVariable } from '../../src/config/names.js';
import { OPTIONS, parseKey32 } from '../../src/config/options.js';
import { starterConfig } from '../../src/config/starter.js';
import { decodeMasterKey } from '../../src/core/secrets/sealed-box.js';
import { tempDir } from '../support/databases.js';

const dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

function scratch(): string {
  const dir = tempDir('gatehouse-names-');
  dirs.push(dir);
  return dir.path;
}

/** The config, or the problems when it does not load. */
function attempt(load: () => LoadedConfig): LoadedConfig | string[] {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [...error.problems];
  }
}

/** tls.cert alone is refused by a cross-check; give its partner too. */
const partner = (key: string): Record<string, string> =>
  key === 'tls.cert' ? { GATEHOUSE_TLS_KEY: 'key.pem' } : key === 'tls.key' ? { GATEHOUSE_TLS_CERT: 'cert.pem' } : {};

describe('one naming rule for every option', () => {
  it('derives the environment variable and the flag of every option from its key', () => {
    for (const option of OPTIONS) {
      expect(option.key, 'keys are lower-case words, sections joined by dots').toMatch(
        /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/,
      );
      expect(envName(option.key)).toBe(`GATEHOUSE_${option.key.toUpperCase().replaceAll('.', '_')}`);
      expect(flagName(option.key)).toBe(option.key.replaceAll('.', '-').replaceAll('_', '-'));
      // The table holds no hand-written names any more.
      expect(option).not.toHaveProperty('env');
      expect(option).not.toHaveProperty('flag');
    }
    expect(envName('passwords.argon2.memory_kib')).toBe('GATEHOUSE_PASSWORDS_ARGON2_MEMORY_KIB');
    expect(flagName('passwords.argon2.memory_kib')).toBe('passwords-argon2-memory-kib');
  });

  it('gives no two options the same variable or flag', () => {
    const variables = OPTIONS.flatMap((option) => [envName(option.key), `${envName(option.key)}_FILE`]);
    variables.push(
      ...Object.values(DEPRECATED_ENV).flatMap((names) => names.flatMap((name) => [name, `${name}_FILE`])),
    );
    expect(new Set(variables).size).toBe(variables.length);
    const flags = CONFIG_FLAGS.map((flag) => flag.option.long);
    expect(new Set(flags).size).toBe(flags.length);
    const attributes = CONFIG_FLAGS.map((flag) => flag.option.attributeName());
    expect(new Set(attributes).size).toBe(attributes.length);
    expect(attributes).not.toContain('config');
    expect(attributes).not.toContain('demo');
  });

  it('reads every option from its derived variable and from the variable with _FILE', () => {
    const dir = scratch();
    for (const option of OPTIONS) {
      const name = envName(option.key);
      const file = path.join(dir, option.key);
      writeFileSync(file, 'x\n');
      for (const [variable, value, source] of [
        [name, 'x', 'env'],
        [`${name}_FILE`, file, 'env-file'],
      ] as const) {
        const result = attempt(() => loadConfig({ env: { [variable]: value, ...partner(option.key) } }));
        if (Array.isArray(result)) {
          expect(result.join('\n'), `${option.key} from ${variable}`).toContain(`${option.key} (from ${variable}):`);
        } else {
          expect(result.config.sources.get(option.key), `${option.key} from ${variable}`).toBe(source);
          expect(result.warnings).toEqual([]);
        }
      }
    }
  });

  it('makes every option a flag: a value flag, or for a secret only --<flag>-file', () => {
    for (const option of OPTIONS) {
      const mine = CONFIG_FLAGS.filter((flag) => flag.key === option.key);
      const value = mine.find((flag) => flag.option.long === `--${flagName(option.key)}`);
      if (option.secret) {
        expect(value?.kind, option.key).toBe('refused');
        expect(value?.option.hidden, option.key).toBe(true);
        const file = mine.find((flag) => flag.option.long === `--${fileFlagName(option.key)}`);
        expect(file?.kind, option.key).toBe('file');
        const input = configInputFrom({ [file?.option.attributeName() ?? '']: '/run/secrets/x' });
        expect(input.flagFiles).toEqual({ [option.key]: '/run/secrets/x' });
        expect(() => configInputFrom({ [value?.option.attributeName() ?? '']: 'hunter2' })).toThrow(
          new RegExp(
            `^--${flagName(option.key)}: a secret is not taken on the command line.*--${fileFlagName(option.key)} FILE`,
          ),
        );
      } else {
        expect(value?.kind, option.key).toBe('value');
        const input = configInputFrom({ [value?.option.attributeName() ?? '']: 'x' });
        expect(input.flags).toEqual({ [option.key]: 'x' });
        expect(input.flagOrigins).toEqual({ [option.key]: `--${flagName(option.key)}` });
      }
    }
    // The short flags stay, and say where a value came from.
    expect(configInputFrom({ port: '5' })).toMatchObject({
      flags: { 'public.port': '5' },
      flagOrigins: { 'public.port': '--port' },
    });
    expect(() => configInputFrom({ port: '5', publicPort: '6' })).toThrow(
      '--public-port and --port set the same setting',
    );
  });

  it('reads a secret from --<flag>-file, never echoing it', () => {
    const dir = scratch();
    const file = path.join(dir, 'master');
    writeFileSync(file, `${'ab'.repeat(32)}\n`);
    const { config } = loadConfig({ env: {}, ...configInputFrom({ masterKeyFile: file }) });
    expect(config.masterKey).toBe('ab'.repeat(32));
    expect(config.sources.get('master_key')).toBe('flag');
  });
});

describe('deprecated names', () => {
  it('honours GATEHOUSE_PASSWORDS_PEPPER_FILE, which the old names silently ignored', () => {
    const dir = scratch();
    const file = path.join(dir, 'pepper');
    writeFileSync(file, `${'cd'.repeat(32)}\n`);
    const { config, warnings } = loadConfig({ env: { GATEHOUSE_PASSWORDS_PEPPER_FILE: file } });
    expect(config.passwords.pepper).toBe('cd'.repeat(32));
    expect(config.sources.get('passwords.pepper')).toBe('env-file');
    expect(warnings).toEqual([]);
  });

  it('still takes every old variable (and its _FILE), warning with the new name', () => {
    const dir = scratch();
    const values: Record<string, string> = {
      'public.host': '127.0.0.9',
      'public.port': '4123',
      'passwords.min_length': '12',
      'passwords.blocklist_file': path.join(dir, 'blocklist'),
      'passwords.argon2.memory_kib': '20000',
      'passwords.argon2.iterations': '3',
      'passwords.argon2.parallelism': '2',
      'passwords.pepper': 'ef'.repeat(32),
    };
    expect(Object.keys(values).sort()).toEqual(Object.keys(DEPRECATED_ENV).sort());
    for (const [key, old] of Object.entries(DEPRECATED_ENV).flatMap(([key, names]) =>
      names.map((name): [string, string] => [key, name]),
    )) {
      const value = values[key] as string;
      const direct = loadConfig({ env: { [old as string]: value } });
      expect(String(direct.config.values.get(key as string))).toBe(value);
      expect(direct.config.sources.get(key as string)).toBe('env');
      expect(direct.warnings).toEqual([
        `${old} is deprecated and will be removed; use ${envName(key as string)} (${key})`,
      ]);
      const file = path.join(dir, `${old}.txt`);
      writeFileSync(file, `${value}\n`);
      const fromFile = loadConfig({ env: { [`${old}_FILE`]: file } });
      expect(String(fromFile.config.values.get(key as string))).toBe(value);
      expect(fromFile.warnings).toEqual([
        `${old}_FILE is deprecated and will be removed; use ${envName(key as string)}_FILE (${key})`,
      ]);
    }
  });

  it('refuses an old and a new name set together', () => {
    const result = attempt(() => loadConfig({ env: { GATEHOUSE_PORT: '1', GATEHOUSE_PUBLIC_PORT: '2' } }));
    expect(result).toEqual(['public.port: both GATEHOUSE_PUBLIC_PORT and GATEHOUSE_PORT are set; use one']);
  });
});

describe('unknown GATEHOUSE_* variables', () => {
  it('warns by default and fails under strictEnv, with a did-you-mean', () => {
    const env = { GATEHOUSE_LOG_LEVL: 'debug' };
    const line = 'GATEHOUSE_LOG_LEVL: unknown environment variable, ignored (did you mean GATEHOUSE_LOG_LEVEL?)';
    expect(loadConfig({ env }).warnings).toEqual([line]);
    expect(attempt(() => loadConfig({ env, strictEnv: true }))).toEqual([line]);
    expect(loadConfig({ env: { GATEHOUSE_NOTHING_LIKE_IT: '1' } }).warnings).toEqual([
      'GATEHOUSE_NOTHING_LIKE_IT: unknown environment variable, ignored',
    ]);
  });

  it('knows the variables read outside the option table', () => {
    const env = {
      GATEHOUSE_ADMIN_URL: 'http://127.0.0.1:4001',
      GATEHOUSE_URL: 'http://127.0.0.1:4000',
      GATEHOUSE_TEST_DATABASE_URL: 'postgres://x',
      GATEHOUSE_TEST_REDIS_URL: 'redis://x',
      GATEHOUSE_ADMIN_KEY_FILE: '/dev/null/none',
      OTHER: 'x',
    };
    expect(attempt(() => loadConfig({ env, strictEnv: true }))).toEqual([
      'GATEHOUSE_ADMIN_KEY_FILE: cannot read /dev/null/none (ENOTDIR)',
    ]);
  });

  it('knows every GATEHOUSE_* name that the sources, the README and docs/ mention', () => {
    const root = new URL('../../../../', import.meta.url);
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (/\.(ts|md)$/.test(entry.name)) files.push(full);
      }
    };
    walk(new URL('packages/server/src', root).pathname);
    walk(new URL('docs', root).pathname);
    files.push(new URL('README.md', root).pathname);
    // Deliberate examples of a typo, in the docs of the check itself.
    const examples = new Set(['GATEHOUSE_LOG_LEVL']);
    const allNames = new Set([
      ...OPTIONS.map((option) => envName(option.key)),
      ...Object.values(DEPRECATED_ENV).flat(),
    ]);
    const unknown = new Set<string>();
    for (const file of files) {
      for (const [name] of readFileSync(file, 'utf8').matchAll(/GATEHOUSE_[A-Z0-9_]+/g)) {
        // `GATEHOUSE_ARGON2_*` names a family: some known variable must begin so.
        const family = name.endsWith('_') && [...allNames].some((known) => known.startsWith(name));
        if (!isKnownVariable(name) && !examples.has(name) && !family)
          unknown.add(`${name} (${path.relative(root.pathname, file)})`);
      }
    }
    expect([...unknown], 'declare it in config/names.ts or correct the name').toEqual([]);
  });
});

describe('config print --json', () => {
  it('prints typed values: booleans, numbers, arrays, mappings, durations as config strings, null when unset', () => {
    const { config } = loadConfig({
      env: {
        GATEHOUSE_TRUST_PROXY: '10.0.0.0/8,loopback',
        GATEHOUSE_MASTER_KEY: 'ab'.repeat(32),
        GATEHOUSE_TOKENS_CLAIMS: '{"team":"metadata.team"}',
        GATEHOUSE_DATABASE_URL: 'postgres://u:pw@db:5432/gh',
      },
    });
    const printed = describeConfigJson(config);
    expect(printed).toMatchObject({
      dev: false,
      'public.port': 4000,
      'auth.methods': ['apikey', 'jwt', 'basic'],
      trust_proxy: ['10.0.0.0/8', 'loopback'],
      'tokens.claims': { team: 'metadata.team' },
      'tokens.access_ttl': '15m',
      'basic.cache_ttl': '30s',
      'tokens.audiences': [],
      master_key: '********',
      admin_key: null,
      'database.url': 'postgres://u:****@db:5432/gh',
    });
    expect(Object.keys(printed)).toEqual(OPTIONS.map((option) => option.key));
    // Every printed value loads back as the same setting.
    const dir = scratch();
    const file = path.join(dir, 'back.yaml');
    const nested: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(printed)) {
      if (value === null || value === '********' || key === 'database.url') continue;
      const parts = key.split('.');
      let node = nested;
      for (const part of parts.slice(0, -1)) {
        node[part] ??= {};
        node = node[part] as Record<string, unknown>;
      }
      node[parts.at(-1) as string] = value;
    }
    writeFileSync(file, JSON.stringify(nested));
    const again = loadConfig({ file, env: {} }).config;
    for (const option of OPTIONS) {
      if (nested[option.key.split('.')[0] as string] === undefined) continue;
      if (option.secret || option.key === 'database.url' || printed[option.key] === null) continue;
      expect(again.values.get(option.key), option.key).toEqual(config.values.get(option.key));
    }
  });
});

describe('32-byte keys (master key, pepper)', () => {
  const bytes = randomBytes(32);
  const hex = bytes.toString('hex');

  it('accepts every encoding `gatehouse secret` prints, standard base64 and openssl rand output', () => {
    let openssl = bytes.toString('base64');
    try {
      openssl = execFileSync('openssl', ['rand', '-base64', '32'], { encoding: 'utf8' });
    } catch {
      // openssl absent: its output is standard base64 with padding and a newline, as made above.
    }
    const opensslBytes = Buffer.from(openssl.trim(), 'base64');
    for (const [text, expected] of [
      [hex, hex],
      [hex.toUpperCase(), hex],
      [bytes.toString('base64'), hex],
      [bytes.toString('base64').replace(/=$/, ''), hex],
      [bytes.toString('base64url'), hex],
      [`${bytes.toString('base64url')}=`, hex],
      [` ${bytes.toString('base64')}\n`, hex],
      [openssl, opensslBytes.toString('hex')],
    ] as const) {
      expect(parseKey32(text), JSON.stringify(text)).toEqual({ ok: true, value: expected });
      const { config } = loadConfig({ env: { GATEHOUSE_MASTER_KEY: text } });
      expect(decodeMasterKey(config.masterKey as string).equals(Buffer.from(expected, 'hex'))).toBe(true);
    }
  });

  it('refuses other lengths and malformed encodings, naming the accepted forms', () => {
    const forms = /64 hex characters, or 44 base64 or base64url characters \(43 without the trailing `=`\)/;
    for (const text of [
      randomBytes(31).toString('hex'),
      randomBytes(33).toString('base64'),
      randomBytes(64).toString('hex'),
      `${bytes.toString('base64').slice(0, 20)}-+${bytes.toString('base64').slice(22)}`,
      'not a key at all',
      '',
    ]) {
      const parsed = parseKey32(text);
      expect(parsed.ok, text).toBe(false);
      if (!parsed.ok) expect(parsed.problem).toMatch(forms);
    }
    const parsed = parseKey32(randomBytes(48).toString('base64'));
    expect(parsed.ok === false && parsed.problem).toMatch(/this value \(64 characters\) decodes to 48 bytes$/);
  });
});

describe('config init starter file', () => {
  it('loads as it is, comments out every option, and uncommented gives the defaults', () => {
    const text = starterConfig();
    for (const option of OPTIONS) {
      const leaf = option.key.split('.').at(-1);
      expect(text, option.key).toMatch(new RegExp(`^ *# ${leaf}:`, 'm'));
      expect(text, option.key).toContain(envName(option.key));
    }
    const dir = scratch();
    const file = path.join(dir, 'gatehouse.yaml');
    writeFileSync(file, text);
    const plain = loadConfig({ env: {} }).config.values;
    expect(loadConfig({ file, env: {}, strictEnv: true }).config.values).toEqual(plain);
    // Uncommenting every line that holds a value changes nothing: the defaults are written right.
    const uncommented = text.replace(/^( *)# ([a-z0-9_]+: .+)$/gm, '$1$2');
    expect(uncommented).not.toBe(text);
    writeFileSync(file, uncommented);
    const loaded = loadConfig({ file, env: {} }).config;
    expect(loaded.values).toEqual(plain);
    expect([...loaded.sources.values()].filter((source) => source === 'file').length).toBeGreaterThan(50);
  });
});
