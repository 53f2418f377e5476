/**
 * Every setting Gatehouse understands, with its default, its environment variable, its flag and
 * the sentence that documents it. This list is the single source for the loader, for
 * `gatehouse config print` and for docs/configuration.md (`gatehouse config reference`).
 *
 * To add a setting: add an entry here and a field to `GatehouseConfig` in ./types.ts; the loader,
 * the validation and the reference follow.
 */
import { prefixProblem } from '../core/apikeys/key-format.js';
import { formatDuration, parseDuration } from './duration.js';

/** What a parser answers: the value, or a sentence saying what is wrong with the input. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

export interface OptionSpec<T = unknown> {
  /** Dotted path of the key in the YAML file, e.g. `public.port`. */
  readonly key: string;
  /** Environment variable; `<env>_FILE` reads the value from a file. */
  readonly env: string;
  /** Long command-line flag without dashes, e.g. `port` for `--port`; only for `serve`. */
  readonly flag?: string;
  readonly doc: string;
  /** How the value is shown in the reference (`integer`, `duration`, `url`…). */
  readonly type: string;
  /** Secrets are masked by `config print` and never logged. */
  readonly secret?: boolean;
  /** The default; a function derives it from the settings resolved so far. */
  readonly default: T | ((resolved: ReadonlyMap<string, unknown>) => T);
  readonly parse: (raw: unknown) => Parsed<T>;
  /** How `config print` shows a value (secrets are masked before this). */
  readonly show?: (value: T) => string;
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (problem: string): Parsed<never> => ({ ok: false, problem });
const quote = (raw: unknown): string => JSON.stringify(raw) ?? String(raw);

export const parseString = (raw: unknown): Parsed<string> =>
  typeof raw === 'string' && raw.length > 0 ? ok(raw) : bad(`must be a non-empty string, got ${quote(raw)}`);

export const parseInteger =
  (min: number, max: number) =>
  (raw: unknown): Parsed<number> => {
    const value = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      return bad(`must be an integer, got ${quote(raw)}`);
    }
    if (value < min || value > max) return bad(`must be from ${min} to ${max}, got ${value}`);
    return ok(value);
  };

/** TCP port; 0 asks the operating system for a free one (useful in tests). */
export const parsePort = (raw: unknown): Parsed<number> => {
  const parsed = parseInteger(0, 65535)(raw);
  return parsed.ok ? parsed : bad(`must be a port number from 0 to 65535, got ${quote(raw)}`);
};

export const parseBoolean = (raw: unknown): Parsed<boolean> => {
  if (typeof raw === 'boolean') return ok(raw);
  if (typeof raw === 'string') {
    const text = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(text)) return ok(true);
    if (['false', '0', 'no', 'off'].includes(text)) return ok(false);
  }
  return bad(`must be true or false, got ${quote(raw)}`);
};

export const parseEnum =
  <T extends string>(choices: readonly T[]) =>
  (raw: unknown): Parsed<T> =>
    typeof raw === 'string' && (choices as readonly string[]).includes(raw)
      ? ok(raw as T)
      : bad(`must be one of ${choices.join(', ')}, got ${quote(raw)}`);

export const parseDurationOption = (raw: unknown): Parsed<number> => {
  const ms = typeof raw === 'string' || typeof raw === 'number' ? parseDuration(raw) : undefined;
  return ms === undefined ? bad(`must be a duration such as 30s, 15m, 1h or 30d, got ${quote(raw)}`) : ok(ms);
};

/** A duration within bounds (e.g. a cache TTL that must stay short). */
export const parseDurationWithin =
  (minMs: number, maxMs: number) =>
  (raw: unknown): Parsed<number> => {
    const parsed = parseDurationOption(raw);
    if (!parsed.ok) return parsed;
    if (parsed.value < minMs || parsed.value > maxMs) {
      return bad(`must be from ${formatDuration(minMs)} to ${formatDuration(maxMs)}, got ${quote(raw)}`);
    }
    return parsed;
  };

/** The prefix of issued API keys: `gk`, or with an environment tag, `gk_live`. */
export const parseApiKeyPrefix = (raw: unknown): Parsed<string> => {
  if (typeof raw !== 'string') return bad(`must be a string such as gk or gk_live, got ${quote(raw)}`);
  const problem = prefixProblem(raw);
  return problem ? bad(`${problem}, got ${quote(raw)}`) : ok(raw);
};

/** Headers that already mean something else and can never carry an API key. */
const RESERVED_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'x-request-id',
]);

/** An HTTP field name (RFC 9110 §5.1: a token), stored lower-case. */
export const parseHeaderName = (raw: unknown): Parsed<string> => {
  if (typeof raw !== 'string' || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/.test(raw)) {
    return bad(`must be an HTTP header name such as X-API-Key, got ${quote(raw)}`);
  }
  const name = raw.toLowerCase();
  if (RESERVED_HEADERS.has(name) || name.startsWith('x-auth-') || name.startsWith('x-forwarded-')) {
    return bad(`${raw} is reserved for another purpose; pick another header name`);
  }
  return ok(name);
};

/** A list given as a YAML sequence or as comma-separated text. */
export const parseList =
  <T extends string>(choices?: readonly T[]) =>
  (raw: unknown): Parsed<T[]> => {
    const items =
      typeof raw === 'string'
        ? raw
            .split(',')
            .map((item) => item.trim())
            .filter((item) => item.length > 0)
        : raw;
    if (!Array.isArray(items) || !items.every((item) => typeof item === 'string')) {
      return bad(`must be a list of strings, got ${quote(raw)}`);
    }
    const unknown = choices ? items.filter((item) => !(choices as readonly string[]).includes(item)) : [];
    if (unknown.length > 0) {
      return bad(`has unknown entries ${unknown.join(', ')}; allowed: ${choices?.join(', ')}`);
    }
    if (new Set(items).size !== items.length) return bad('lists an entry twice');
    return ok(items as T[]);
  };

export const parseHttpUrl = (raw: unknown): Parsed<string> => {
  if (typeof raw !== 'string') return bad(`must be a URL, got ${quote(raw)}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return bad(`must be an absolute http(s) URL, got ${quote(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return bad(`must use http or https, got ${quote(raw)}`);
  }
  if (url.search || url.hash) return bad(`must not carry a query or fragment, got ${quote(raw)}`);
  return ok(raw.replace(/\/+$/, ''));
};

/** `sqlite:<path>` (also `sqlite::memory:`) or `postgres://…` / `postgresql://…`. */
export const parseDatabaseUrl = (raw: unknown): Parsed<string> => {
  if (typeof raw !== 'string' || raw.length === 0) return bad(`must be a database URL, got ${quote(raw)}`);
  if (raw.startsWith('sqlite:')) {
    return raw.length > 'sqlite:'.length ? ok(raw) : bad('sqlite: needs a file path, e.g. sqlite:./data/gatehouse.db');
  }
  if (/^postgres(ql)?:\/\//.test(raw)) {
    try {
      const url = new URL(raw);
      if (!url.hostname && !url.searchParams.get('host')) return bad('postgres URL needs a host');
      return ok(raw);
    } catch {
      return bad('is not a valid postgres:// URL');
    }
  }
  return bad('must start with sqlite: or postgres://');
};

/** Hides the password of a database URL. */
export function maskDatabaseUrl(url: string): string {
  if (!/^postgres(ql)?:\/\//.test(url)) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '****';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}

/** Host names or IP addresses to bind to. */
export const parseHost = (raw: unknown): Parsed<string> =>
  typeof raw === 'string' && /^[A-Za-z0-9.:_\-[\]]{1,253}$/.test(raw)
    ? ok(raw.replace(/^\[(.*)\]$/, '$1'))
    : bad(`must be a host name or IP address, got ${quote(raw)}`);

/** A 32-byte key given as 64 hex characters or 43 base64url characters. */
export const parseKey32 = (raw: unknown): Parsed<string> => {
  if (typeof raw !== 'string') return bad('must be 32 bytes as 64 hex or 43 base64url characters');
  const text = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(text) || /^[A-Za-z0-9_-]{43}=?$/.test(text)) return ok(text);
  return bad(
    `must be 32 bytes as 64 hex or 43 base64url characters (gatehouse secret makes one), got ${text.length} characters`,
  );
};

export const parseAdminKey = (raw: unknown): Parsed<string> => {
  if (typeof raw !== 'string') return bad('must be a string');
  const text = raw.trim();
  if (text.length < 32) return bad(`must be at least 32 characters (gatehouse secret makes one), got ${text.length}`);
  if (text.length > 512) return bad('must be at most 512 characters');
  if (!/^[\x21-\x7e]+$/.test(text)) return bad('must be printable ASCII without spaces');
  return ok(text);
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

/** Names of the authentication mechanisms the pipeline knows, in their default order. */
export const AUTH_METHODS = ['apikey', 'jwt', 'basic'] as const;

const defaultDatabaseUrl = (resolved: ReadonlyMap<string, unknown>): string =>
  `sqlite:${String(resolved.get('data_dir'))}/gatehouse.db`;

const defaultIssuer = (resolved: ReadonlyMap<string, unknown>): string => {
  const host = String(resolved.get('public.host'));
  const port = Number(resolved.get('public.port'));
  // A wildcard bind address is not something a client can call: use loopback instead.
  const callable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const shown = callable.includes(':') ? `[${callable}]` : callable;
  return `http://${shown}:${port}`;
};

/**
 * Every option, in the order the reference lists them. Options whose default depends on others
 * come after those others.
 */
export const OPTIONS: readonly OptionSpec[] = [
  {
    key: 'data_dir',
    env: 'GATEHOUSE_DATA_DIR',
    flag: 'data-dir',
    type: 'path',
    default: './data',
    doc: 'Directory for the embedded SQLite database, the generated master key and admin key. Created when missing; must be writable.',
    parse: parseString,
  },
  {
    key: 'dev',
    env: 'GATEHOUSE_DEV',
    flag: 'dev',
    type: 'boolean',
    default: false,
    doc: 'Development mode: relaxes rules that only make sense in production (such as HTTPS for Basic credentials). Never enable it in production.',
    parse: parseBoolean,
  },
  {
    key: 'public.host',
    env: 'GATEHOUSE_HOST',
    flag: 'host',
    type: 'host',
    default: '0.0.0.0',
    doc: 'Address of the public listener (OAuth/OIDC endpoints, /auth/*, health).',
    parse: parseHost,
  },
  {
    key: 'public.port',
    env: 'GATEHOUSE_PORT',
    flag: 'port',
    type: 'port',
    default: 4000,
    doc: 'Port of the public listener; 0 picks a free port.',
    parse: parsePort,
  },
  {
    key: 'admin.host',
    env: 'GATEHOUSE_ADMIN_HOST',
    flag: 'admin-host',
    type: 'host',
    default: '127.0.0.1',
    doc: 'Address of the admin listener (admin API, /metrics). Keep it private.',
    parse: parseHost,
  },
  {
    key: 'admin.port',
    env: 'GATEHOUSE_ADMIN_PORT',
    flag: 'admin-port',
    type: 'port',
    default: 4001,
    doc: 'Port of the admin listener; 0 picks a free port.',
    parse: parsePort,
  },
  {
    key: 'proxy.host',
    env: 'GATEHOUSE_PROXY_HOST',
    type: 'host',
    default: '0.0.0.0',
    doc: 'Address of the gateway listener, which exists only when routes are configured.',
    parse: parseHost,
  },
  {
    key: 'proxy.port',
    env: 'GATEHOUSE_PROXY_PORT',
    flag: 'proxy-port',
    type: 'port',
    default: 4002,
    doc: 'Port of the gateway listener; 0 picks a free port.',
    parse: parsePort,
  },
  {
    key: 'database.url',
    env: 'GATEHOUSE_DATABASE_URL',
    flag: 'database-url',
    type: 'url',
    secret: false,
    default: defaultDatabaseUrl,
    doc: 'Where state lives: `sqlite:<path>` (embedded, the default: `sqlite:<data_dir>/gatehouse.db`) or `postgres://user:pass@host:5432/db`.',
    parse: parseDatabaseUrl,
    show: (value) => maskDatabaseUrl(String(value)),
  },
  {
    key: 'database.pool_size',
    env: 'GATEHOUSE_DATABASE_POOL_SIZE',
    type: 'integer',
    default: 10,
    doc: 'Maximum PostgreSQL connections per instance.',
    parse: parseInteger(1, 1000),
  },
  {
    key: 'database.connect_timeout',
    env: 'GATEHOUSE_DATABASE_CONNECT_TIMEOUT',
    type: 'duration',
    default: 5000,
    doc: 'How long to wait for a PostgreSQL connection before answering 503.',
    parse: parseDurationOption,
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'log.level',
    env: 'GATEHOUSE_LOG_LEVEL',
    flag: 'log-level',
    type: LOG_LEVELS.join(' | '),
    default: 'info',
    doc: 'Log level.',
    parse: parseEnum(LOG_LEVELS),
  },
  {
    key: 'log.format',
    env: 'GATEHOUSE_LOG_FORMAT',
    type: LOG_FORMATS.join(' | '),
    default: 'auto',
    doc: 'JSON lines, or human-readable; `auto` is pretty on a terminal and JSON otherwise.',
    parse: parseEnum(LOG_FORMATS),
  },
  {
    key: 'master_key',
    env: 'GATEHOUSE_MASTER_KEY',
    type: '32 bytes (hex or base64url)',
    secret: true,
    default: undefined,
    doc: 'Encrypts stored secrets (AES-256-GCM). Required with PostgreSQL; with SQLite one is generated into `<data_dir>/master.key` when absent. Use `GATEHOUSE_MASTER_KEY_FILE` with a secrets manager.',
    parse: parseKey32,
  },
  {
    key: 'admin_key',
    env: 'GATEHOUSE_ADMIN_KEY',
    type: 'string (32+ chars)',
    secret: true,
    default: undefined,
    doc: 'Presets the admin API key instead of generating one on first start.',
    parse: parseAdminKey,
  },
  {
    key: 'issuer',
    env: 'GATEHOUSE_ISSUER',
    type: 'url',
    default: defaultIssuer,
    doc: 'Public URL of this server, used as the `iss` of tokens and in discovery. Defaults to the public listener’s own address.',
    parse: parseHttpUrl,
  },
  {
    key: 'auth.methods',
    env: 'GATEHOUSE_AUTH_METHODS',
    type: `list of ${AUTH_METHODS.join(', ')}`,
    default: [...AUTH_METHODS],
    doc: 'Authentication mechanisms that /auth/verify tries, in this order.',
    parse: parseList(AUTH_METHODS),
    show: (value) => (value as string[]).join(','),
  },
  {
    key: 'apikeys.prefix',
    env: 'GATEHOUSE_APIKEYS_PREFIX',
    type: 'string',
    default: 'gk',
    doc: 'Prefix of issued API keys (`gk`, or with an environment tag, `gk_live`). Only keys with this prefix are verified; keys of another prefix are refused without a store lookup.',
    parse: parseApiKeyPrefix,
  },
  {
    key: 'apikeys.header',
    env: 'GATEHOUSE_APIKEYS_HEADER',
    type: 'header name',
    default: 'x-api-key',
    doc: 'Request header that carries an API key. Keys are also accepted as `Authorization: Bearer <key>`. The header may appear once per request.',
    parse: parseHeaderName,
  },
  {
    key: 'apikeys.query_param',
    env: 'GATEHOUSE_APIKEYS_QUERY_PARAM',
    type: 'boolean',
    default: false,
    doc: 'Also accept a key in the `api_key` query parameter. Off by default: URLs end up in proxy logs, browser history and Referer headers.',
    parse: parseBoolean,
  },
  {
    key: 'apikeys.cache_ttl',
    env: 'GATEHOUSE_APIKEYS_CACHE_TTL',
    type: 'duration',
    default: 30_000,
    doc: 'How long a verified key is answered from memory; `0` disables the cache. Revocations made through another instance take up to this long to be seen here.',
    parse: parseDurationWithin(0, 3_600_000),
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'apikeys.negative_cache_ttl',
    env: 'GATEHOUSE_APIKEYS_NEGATIVE_CACHE_TTL',
    type: 'duration',
    default: 5000,
    doc: 'How long an unknown (well-formed) key is remembered as unknown, so retries cost no store lookup; `0` disables.',
    parse: parseDurationWithin(0, 300_000),
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'apikeys.cache_size',
    env: 'GATEHOUSE_APIKEYS_CACHE_SIZE',
    type: 'integer',
    default: 10_000,
    doc: 'Most keys held in the verification cache (and, separately, most unknown keys remembered); least recently used go first.',
    parse: parseInteger(1, 10_000_000),
  },
  {
    key: 'apikeys.stale_if_error',
    env: 'GATEHOUSE_APIKEYS_STALE_IF_ERROR',
    type: 'duration',
    default: 0,
    doc: 'While the store is unreachable, keep accepting keys verified within this long past the cache TTL (still refusing expired ones). `0`, the default, fails closed at once (503).',
    parse: parseDurationWithin(0, 3_600_000),
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'apikeys.last_used_interval',
    env: 'GATEHOUSE_APIKEYS_LAST_USED_INTERVAL',
    type: 'duration',
    default: 5000,
    doc: 'How often `last_used_at` of keys in use is written (one write per key per interval, never one per request).',
    parse: parseDurationWithin(100, 300_000),
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'ratelimit.max_keys',
    env: 'GATEHOUSE_RATELIMIT_MAX_KEYS',
    type: 'integer',
    default: 100_000,
    doc: 'Most rate-limit counters (one per API key or client) kept in memory; beyond it the least recently used are forgotten.',
    parse: parseInteger(100, 100_000_000),
  },
  {
    key: 'shutdown_timeout',
    env: 'GATEHOUSE_SHUTDOWN_TIMEOUT',
    type: 'duration',
    default: 10_000,
    doc: 'On SIGTERM/SIGINT, how long in-flight requests may take before the process exits anyway.',
    parse: parseDurationOption,
    show: (value) => formatDuration(Number(value)),
  },
];
