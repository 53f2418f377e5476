/**
 * Resolves the configuration from flags, environment and the YAML file (in that precedence, over
 * the defaults), validates every value and reports every problem at once, one line each. This is
 * the only module that reads `process.env`.
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { formatDuration } from './duration.js';
import {
  currentVariableNames,
  ENV_PREFIX,
  envNamesOf,
  fileFlagName,
  flagName,
  isKnownVariable,
  OTHER_PREFIXES,
  OTHER_VARIABLES,
  replacementOf,
  SHORT_FLAGS,
} from './names.js';
import { CROSS_CHECKS, OPTIONS, type OptionSpec } from './options.js';
import type { ConfigSource, GatehouseConfig } from './types.js';

/** Thrown with every problem found; the CLI prints `problems` one per line and exits 2. */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export interface ConfigInput {
  /** Path of a YAML config file (`--config` or `GATEHOUSE_CONFIG`). */
  readonly file?: string | undefined;
  /** Values from command-line flags, keyed by option key (`public.port`). */
  readonly flags?: Readonly<Record<string, unknown>>;
  /** Files named by `--<flag>-file` flags, keyed by option key; read like `<ENV>_FILE`. */
  readonly flagFiles?: Readonly<Record<string, string>>;
  /** The flag each value of `flags`/`flagFiles` came from (`--port`), for messages; derived when absent. */
  readonly flagOrigins?: Readonly<Record<string, string>>;
  /**
   * Unknown `GATEHOUSE_*` variables are problems (config check) instead of warnings (serve): a
   * typo such as GATEHOUSE_LOG_LEVL would otherwise be silently ignored.
   */
  readonly strictEnv?: boolean;
  /** The environment; defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Check that the data directory is (or can become) a writable directory: `'create'` makes it
   * (serve, migrate); `true` only looks (config check).
   */
  readonly checkDataDir?: boolean | 'create';
  /** Keys outside the option list that the file may hold (sections parsed by later features). */
  readonly extraSections?: readonly string[];
}

const KNOWN_KEYS = new Set(OPTIONS.map((option) => option.key));

/** Flattens a YAML mapping into dotted keys, reporting keys no option knows. */
function flattenFile(
  value: unknown,
  file: string,
  problems: string[],
  extraSections: readonly string[],
  prefix = '',
  out = new Map<string, unknown>(),
): Map<string, unknown> {
  if (value === null || value === undefined) return out;
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${file}: ${prefix || 'the document'} must be a mapping of settings`);
    return out;
  }
  for (const [name, child] of Object.entries(value)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (KNOWN_KEYS.has(key) || extraSections.includes(key)) {
      out.set(key, child);
    } else if ([...KNOWN_KEYS].some((known) => known.startsWith(`${key}.`))) {
      flattenFile(child, file, problems, extraSections, key, out);
    } else {
      problems.push(`${file}: unknown key "${key}"${suggest(key)}`);
    }
  }
  return out;
}

function suggest(key: string): string {
  const close = [...KNOWN_KEYS].find((known) => editDistance(known, key) <= 2);
  return close ? ` (did you mean "${close}"?)` : '';
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] ?? 0;
}

function readYaml(file: string, problems: string[]): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.push(`${file}: cannot read the config file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    for (const error of document.errors) {
      problems.push(`${file}: ${error.message.split('\n')[0]}`);
    }
    return undefined;
  }
  return document.toJS();
}

/** Reads `<ENV>_FILE` (Docker/Kubernetes secrets); trailing newlines are dropped. */
function readEnvFile(variable: string, file: string, problems: string[]): string | undefined {
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    problems.push(`${variable}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

interface RawValue {
  readonly value: unknown;
  readonly source: ConfigSource;
  readonly origin: string;
}

/** "A and B" / "A, B and C". */
const listing = (names: readonly string[]): string =>
  names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;

function rawValueFor(
  option: OptionSpec,
  input: ConfigInput,
  env: Readonly<Record<string, string | undefined>>,
  fileValues: ReadonlyMap<string, unknown>,
  file: string | undefined,
  problems: string[],
  warnings: string[],
): RawValue | undefined {
  const flag = input.flags?.[option.key];
  const flagFile = input.flagFiles?.[option.key];
  const flagOrigin = (fallback: string) => input.flagOrigins?.[option.key] ?? fallback;
  if (flag !== undefined && flagFile !== undefined) {
    problems.push(`${option.key}: both --${flagName(option.key)} and --${fileFlagName(option.key)} are given; use one`);
    return undefined;
  }
  if (flag !== undefined) return { value: flag, source: 'flag', origin: flagOrigin(`--${flagName(option.key)}`) };
  if (flagFile !== undefined) {
    const origin = flagOrigin(`--${fileFlagName(option.key)}`);
    const value = readEnvFile(origin, flagFile, problems);
    return value === undefined ? undefined : { value, source: 'flag', origin };
  }
  const { current, deprecated } = envNamesOf(option);
  // Whether a name reads a file is known from how it was made, not from its ending: the variable
  // of `passwords.blocklist_file` itself ends in _FILE.
  const names = [current, ...deprecated].flatMap((name) => [
    { name, viaFile: false },
    { name: `${name}_FILE`, viaFile: true },
  ]);
  const set = names.filter(({ name }) => env[name] !== undefined);
  if (set.length > 1) {
    problems.push(
      `${option.key}: ${set.length === 2 ? 'both ' : ''}${listing(set.map(({ name }) => name))} are set; use one`,
    );
    return undefined;
  }
  const [chosen] = set;
  if (chosen !== undefined) {
    const { name, viaFile } = chosen;
    const replacement = replacementOf(name);
    if (replacement !== undefined) {
      warnings.push(`${name} is deprecated and will be removed; use ${replacement} (${option.key})`);
    }
    const text = env[name] as string;
    if (!viaFile) return { value: text, source: 'env', origin: name };
    const value = readEnvFile(name, text, problems);
    return value === undefined ? undefined : { value, source: 'env-file', origin: name };
  }
  if (fileValues.has(option.key)) {
    return { value: fileValues.get(option.key), source: 'file', origin: file ?? 'config file' };
  }
  return undefined;
}

/** One line per `GATEHOUSE_*` variable that nothing reads, with the closest known name. */
export function unknownVariables(env: Readonly<Record<string, string | undefined>>): string[] {
  const candidates = currentVariableNames();
  return Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && env[name] !== undefined && !isKnownVariable(name))
    .sort()
    .map((name) => {
      let best: string | undefined;
      let distance = 4;
      for (const candidate of candidates) {
        const d = editDistance(candidate, name);
        if (d < distance) [best, distance] = [candidate, d];
      }
      return `${name}: unknown environment variable, ignored${best ? ` (did you mean ${best}?)` : ''}`;
    });
}

/** What `loadConfig` gives besides the typed config: the raw file sections later features parse. */
export interface LoadedConfig {
  readonly config: GatehouseConfig;
  readonly sections: ReadonlyMap<string, unknown>;
  /** Deprecated names in use and (unless `strictEnv`) unknown `GATEHOUSE_*` variables; serve logs them. */
  readonly warnings: readonly string[];
}

export function loadConfig(input: ConfigInput = {}): LoadedConfig {
  const env = input.env ?? process.env;
  const problems: string[] = [];
  const file = input.file ?? env.GATEHOUSE_CONFIG;
  const extraSections = input.extraSections ?? [];
  const fileValues = file
    ? flattenFile(readYaml(file, problems), file, problems, extraSections)
    : new Map<string, unknown>();

  const warnings: string[] = [];
  (input.strictEnv ? problems : warnings).push(...unknownVariables(env));

  const resolved = new Map<string, unknown>();
  const sources = new Map<string, ConfigSource>();
  for (const option of OPTIONS) {
    const raw = rawValueFor(option, input, env, fileValues, file, problems, warnings);
    if (raw === undefined) {
      const fallback = typeof option.default === 'function' ? option.default(resolved) : option.default;
      resolved.set(option.key, fallback);
      sources.set(option.key, 'default');
      continue;
    }
    const parsed = option.parse(raw.value);
    if (parsed.ok) {
      resolved.set(option.key, parsed.value);
      sources.set(option.key, raw.source);
    } else {
      // Secrets are never echoed back, even when invalid.
      const problem = option.secret ? parsed.problem.replace(/, got .*$/, '') : parsed.problem;
      problems.push(`${option.key} (from ${raw.origin}): ${problem}`);
    }
  }

  if (problems.length === 0) for (const check of CROSS_CHECKS) problems.push(...check(resolved));
  if (problems.length === 0 && input.checkDataDir) {
    checkDataDir(String(resolved.get('data_dir')), input.checkDataDir === 'create', problems);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const sections = new Map<string, unknown>();
  for (const section of extraSections) if (fileValues.has(section)) sections.set(section, fileValues.get(section));
  return { config: toConfig(resolved, sources), sections, warnings };
}

/** The data dir must be a directory that accepts new files; when missing, its nearest existing parent must. */
function checkDataDir(dir: string, create: boolean, problems: string[]): void {
  try {
    if (create) mkdirSync(dir, { recursive: true, mode: 0o700 });
    let existing = path.resolve(dir);
    while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
    if (!statSync(existing).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
    accessSync(existing, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    problems.push(`data_dir: ${path.resolve(dir)} is not a writable directory (${code})`);
  }
}

function toConfig(values: ReadonlyMap<string, unknown>, sources: ReadonlyMap<string, ConfigSource>): GatehouseConfig {
  const get = <T>(key: string): T => values.get(key) as T;
  return Object.freeze({
    dataDir: get<string>('data_dir'),
    dev: get<boolean>('dev'),
    public: Object.freeze({ host: get<string>('public.host'), port: get<number>('public.port') }),
    admin: Object.freeze({ host: get<string>('admin.host'), port: get<number>('admin.port') }),
    proxy: Object.freeze({
      host: get<string>('proxy.host'),
      port: get<number>('proxy.port'),
      upstreamTimeoutMs: get<number>('proxy.upstream_timeout'),
      connectTimeoutMs: get<number>('proxy.connect_timeout'),
      stripHeaders: Object.freeze([...get<string[]>('proxy.strip_headers')]),
    }),
    outbound: Object.freeze({ allow: Object.freeze([...get<string[]>('outbound.allow')]) }),
    database: Object.freeze({
      url: get<string>('database.url'),
      poolSize: get<number>('database.pool_size'),
      connectTimeoutMs: get<number>('database.connect_timeout'),
    }),
    log: Object.freeze({ level: get('log.level'), format: get('log.format') }),
    masterKey: get<string | undefined>('master_key'),
    adminKey: get<string | undefined>('admin_key'),
    issuer: get<string>('issuer'),
    auth: Object.freeze({ methods: Object.freeze([...get<string[]>('auth.methods')]) }),
    metrics: Object.freeze({ token: get<string | undefined>('metrics.token') }),
    apiKeys: Object.freeze({
      prefix: get<string>('apikeys.prefix'),
      header: get<string>('apikeys.header'),
      queryParam: get<boolean>('apikeys.query_param'),
      cacheTtlMs: get<number>('apikeys.cache_ttl'),
      negativeCacheTtlMs: get<number>('apikeys.negative_cache_ttl'),
      cacheSize: get<number>('apikeys.cache_size'),
      staleIfErrorMs: get<number>('apikeys.stale_if_error'),
      lastUsedFlushMs: get<number>('apikeys.last_used_interval'),
    }),
    rateLimit: Object.freeze({ maxKeys: get<number>('ratelimit.max_keys') }),
    oauth: Object.freeze({
      codeTtlMs: get<number>('oauth.code_ttl'),
      sessionTtlMs: get<number>('oauth.session_ttl'),
      secretGraceMs: get<number>('oauth.secret_grace'),
      secureCookies: get<boolean>('oauth.secure_cookies'),
    }),
    shutdownTimeoutMs: get<number>('shutdown_timeout'),
    keys: Object.freeze({
      algorithm: get('keys.algorithm'),
      rotateEveryMs: get<number>('keys.rotate_every'),
      jwksMaxAgeMs: get<number>('keys.jwks_max_age'),
      publishAheadMs: get<number>('keys.publish_ahead'),
      hs256Secret: get<string | undefined>('keys.hs256_secret'),
    }),
    tokens: Object.freeze({
      accessTtlMs: get<number>('tokens.access_ttl'),
      refreshTtlMs: get<number>('tokens.refresh_ttl'),
      refreshIdleTtlMs: get<number>('tokens.refresh_idle_ttl'),
      audience: get<string>('tokens.audience'),
      audiences: Object.freeze([...get<string[]>('tokens.audiences')]),
      leewayMs: get<number>('tokens.leeway'),
      maxLength: get<number>('tokens.max_length'),
      claims: Object.freeze({ ...get<Record<string, string>>('tokens.claims') }),
      cacheSize: get<number>('tokens.cache_size'),
      syncIntervalMs: get<number>('tokens.sync_interval'),
    }),
    tls: Object.freeze({ cert: get<string | undefined>('tls.cert'), key: get<string | undefined>('tls.key') }),
    trustProxy: Object.freeze([...get<string[]>('trust_proxy')]),
    security: Object.freeze({ allowInsecureLoopback: get<boolean>('security.allow_insecure_loopback') }),
    basic: Object.freeze({
      realm: get<string>('basic.realm'),
      allowInsecureLoopback: get<boolean>('basic.allow_insecure_loopback'),
      cacheTtlMs: get<number>('basic.cache_ttl'),
      cacheMaxEntries: get<number>('basic.cache_max_entries'),
    }),
    passwords: Object.freeze({
      minLength: get<number>('passwords.min_length'),
      blocklistFile: get<string | undefined>('passwords.blocklist_file'),
      argon2: Object.freeze({
        memoryKib: get<number>('passwords.argon2.memory_kib'),
        iterations: get<number>('passwords.argon2.iterations'),
        parallelism: get<number>('passwords.argon2.parallelism'),
      }),
      pepper: get<string | undefined>('passwords.pepper'),
    }),
    throttle: Object.freeze({
      user: Object.freeze({
        freeAttempts: get<number>('throttle.user.free_attempts'),
        lockAfter: get<number>('throttle.user.lock_after'),
      }),
      ip: Object.freeze({
        freeAttempts: get<number>('throttle.ip.free_attempts'),
        lockAfter: get<number>('throttle.ip.lock_after'),
      }),
      backoffBaseMs: get<number>('throttle.backoff_base'),
      backoffMaxMs: get<number>('throttle.backoff_max'),
      lockDurationMs: get<number>('throttle.lock_duration'),
      resetAfterMs: get<number>('throttle.reset_after'),
      familiarTtlMs: get<number>('throttle.familiar_ttl'),
    }),
    verifyBudget: Object.freeze({
      failures: get<number>('throttle.verify_budget'),
      windowMs: get<number>('throttle.verify_window'),
    }),
    decisionLog: get('log.decisions'),
    sources,
    values,
  }) as GatehouseConfig;
}

/** The effective configuration as `key → shown value`, secrets masked; for `config print`. */
export function describeConfig(config: GatehouseConfig): Array<{ key: string; value: string; source: ConfigSource }> {
  return OPTIONS.map((option) => {
    const value = config.values.get(option.key);
    let shown: string;
    if (value === undefined) shown = '(unset)';
    else if (option.secret) shown = '********';
    else shown = option.show ? option.show(value) : String(value);
    return { key: option.key, value: shown, source: config.sources.get(option.key) ?? 'default' };
  });
}

/**
 * The effective configuration as `key → value` with JSON types, for `config print --json`: numbers,
 * booleans, lists as arrays and mappings as objects; durations as the strings the config takes
 * (`"15m"`), so that any printed value can be pasted back; unset values as `null`; secrets masked.
 */
export function describeConfigJson(config: GatehouseConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const option of OPTIONS) {
    const value = config.values.get(option.key);
    if (value === undefined) out[option.key] = null;
    else if (option.secret) out[option.key] = '********';
    else if (option.type === 'duration') out[option.key] = formatDuration(Number(value));
    else if (typeof value === 'string' && option.show) out[option.key] = option.show(value);
    else out[option.key] = value;
  }
  return out;
}

/** A Markdown table cell: a literal `|` would end the cell. */
const cell = (text: string): string => text.replaceAll('|', '\\|');

/** The default as the reference and the starter file show it. */
export function shownDefault(option: OptionSpec): string {
  if (typeof option.default === 'function') return '(derived)';
  if (option.default === undefined) return '(unset)';
  return option.show ? option.show(option.default) : String(option.default);
}

/** How an option is given on the command line, as the reference lists it. */
function flagsOf(option: OptionSpec): string[] {
  if (option.secret) return [`--${fileFlagName(option.key)} FILE`];
  const short = SHORT_FLAGS[option.key];
  return [`--${flagName(option.key)}`, ...(short ? [`--${short}`] : [])];
}

/** Markdown reference of every option, generated from OPTIONS (docs/configuration.md). */
export function configReference(): string {
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated by `gatehouse config reference` from packages/server/src/config/options.ts and names.ts. Do not edit by hand. -->',
    '',
    'Every setting can be given, from highest precedence to lowest, as a command-line flag of',
    '`gatehouse serve`, as an environment variable, as an environment variable with `_FILE` appended',
    '(whose value is the path of a file holding the setting: the Docker/Kubernetes secrets convention),',
    'or as a key of the YAML file named by `--config` / `GATEHOUSE_CONFIG`.',
    '',
    '## Names: one rule',
    '',
    'The YAML key is the name; the other two follow from it:',
    '',
    '| | rule | `passwords.argon2.memory_kib` |',
    '| --- | --- | --- |',
    '| YAML | dotted keys are nested mappings | `passwords:` / `argon2:` / `memory_kib: 19456` |',
    '| environment | `GATEHOUSE_` + the key upper-cased, `.` → `_` | `GATEHOUSE_PASSWORDS_ARGON2_MEMORY_KIB` |',
    '| from a file | the variable + `_FILE` | `GATEHOUSE_PASSWORDS_ARGON2_MEMORY_KIB_FILE=/run/secrets/…` |',
    '| flag | `--` + the key, `.` and `_` → `-` | `--passwords-argon2-memory-kib 65536` |',
    '',
    `\`${Object.entries(SHORT_FLAGS)
      .map(([key, short]) => `--${short}\` is short for \`--${flagName(key)}`)
      .join('`, `')}\`.`,
    'A boolean flag alone means `true` (`--dev`); `--dev false` turns it off. Lists are',
    'comma-separated (`--trust-proxy 10.0.0.0/8,loopback`); `tokens.claims` takes JSON.',
    '',
    '**Secrets are never command-line values.** Every user of the machine can read a command line',
    '(`ps`, `/proc/<pid>/cmdline`) and shells keep it in their history, so the options marked',
    '*secret* below are refused as flags: give them as `--<flag>-file FILE` (e.g.',
    '`--master-key-file /run/secrets/gatehouse-master-key`), as `GATEHOUSE_…_FILE`, or, less',
    'safely, as `GATEHOUSE_…` in the environment or in the YAML file (keep that file `0600`). A',
    'file named by `--<flag>-file` or `_FILE` is read once at start; one trailing newline is dropped.',
    '',
    '`gatehouse config check` and `config print` take the same flags as `serve`; `gatehouse migrate`',
    'takes only those of the settings it uses (`--data-dir`, `--database-*`, `--log-*`) and still',
    'validates the rest of the configuration.',
    '',
    '## Checks',
    '',
    'Unknown keys, wrong types, bad URLs, ports out of range and an unwritable data directory stop',
    'the server with one line per problem; `gatehouse config check` runs the same validation.',
    'A `GATEHOUSE_*` variable that nothing reads is most likely a typo: `gatehouse serve` logs a',
    'warning naming the closest known variable (`GATEHOUSE_LOG_LEVL: unknown environment variable,',
    'ignored (did you mean GATEHOUSE_LOG_LEVEL?)`) and `gatehouse config check` fails on it.',
    '',
    'Durations take a unit: `500ms`, `30s`, `15m`, `1h`, `30d`, `1w` (a bare number is seconds).',
    '`gatehouse config print --json` prints each value with its JSON type (numbers, `true`/`false`,',
    'lists as arrays, mappings as objects, unset as `null`), durations as strings in this syntax',
    '(`"15m"`, so any value can be pasted back into the file) and secrets as `"********"`.',
    '',
    '`gatehouse config init` writes a starter `gatehouse.yaml` (mode 0600) with every setting below',
    'commented out at its default; it never overwrites a file unless given `--force`.',
    '',
    '## Settings',
    '',
    '| key | environment | flag | type | default | description |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const option of OPTIONS) {
    const { current, deprecated } = envNamesOf(option);
    const env = [`\`${current}\``, ...deprecated.map((old) => `(formerly \`${old}\`)`)].join(' ');
    const flags = flagsOf(option)
      .map((flag) => `\`${flag}\``)
      .join(', ');
    const type = option.secret ? `${option.type}, *secret*` : option.type;
    lines.push(
      `| \`${option.key}\` | ${env} | ${flags} | ${cell(type)} | \`${shownDefault(option)}\` | ${cell(option.doc)} |`,
    );
  }
  lines.push(
    '',
    '## Deprecated names',
    '',
    'These environment variables predate the naming rule. They (and their `_FILE` forms) still work,',
    'with a warning at every start naming the new variable; setting both the old and the new name',
    'is an error. They will be removed in a future major version.',
    '',
    '| deprecated | use instead |',
    '| --- | --- |',
  );
  for (const option of OPTIONS) {
    const { current, deprecated } = envNamesOf(option);
    for (const old of deprecated) lines.push(`| \`${old}\` | \`${current}\` |`);
  }
  lines.push(
    '',
    '## Other variables',
    '',
    'Not settings of the server, but read by Gatehouse; never reported as unknown:',
    '',
    '| variable | read by |',
    '| --- | --- |',
    ...Object.entries(OTHER_VARIABLES).map(([name, what]) => `| \`${name}\` | ${cell(what)} |`),
    ...OTHER_PREFIXES.map((prefix) => `| \`${prefix}*\` | the test suite (docs/testing.md) |`),
    '',
    '`GATEHOUSE_ADMIN_KEY` (or `_FILE`) is both the server setting `admin_key` and the key the',
    'admin-API commands of the CLI send.',
  );
  return `${lines.join('\n')}\n`;
}
