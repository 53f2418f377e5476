/**
 * Every setting Gatehouse understands, with its default and the sentence that documents it. This
 * list is the single source for the loader, for the `gatehouse serve` flags, for
 * `gatehouse config print|init` and for docs/configuration.md (`gatehouse config reference`).
 *
 * To add a setting: add an entry here (`key`, `type`, `doc`, `default`, `parse`, and `secret`,
 * `show` when needed) and a field to `GatehouseConfig` in ./types.ts. Do not write an environment
 * variable or a flag: both are derived from the key by ./names.ts (`passwords.argon2.iterations`
 * is `GATEHOUSE_PASSWORDS_ARGON2_ITERATIONS` and `--passwords-argon2-iterations`).
 */

import { isIP } from 'node:net';
import { prefixProblem } from '../core/apikeys/key-format.js';
import { parseAllowlist } from '../core/outbound/address-policy.js';
import { parseStripHeaders } from '../core/policies/strip-headers.js';
import { hs256SecretBytes } from '../core/tokens/hmac-secret.js';
import { formatDuration, parseDuration } from './duration.js';

/** What a parser answers: the value, or a sentence saying what is wrong with the input. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

export interface OptionSpec<T = unknown> {
  /**
   * Dotted path of the key in the YAML file, e.g. `public.port`: lower-case words joined by `_`,
   * sections by `.`. The environment variable and the flag are derived from it (./names.ts).
   */
  readonly key: string;
  readonly doc: string;
  /** How the value is shown in the reference (`integer`, `duration`, `url`…). */
  readonly type: string;
  /**
   * Secrets are masked by `config print`, never logged, and never taken as a command-line value
   * (only `--<flag>-file FILE`): a value on the command line is visible to every local user.
   */
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

/** The forms a 32-byte key may take, for error messages and the reference. */
const KEY32_FORMS =
  '64 hex characters, or 44 base64 or base64url characters (43 without the trailing `=`), as printed by `gatehouse secret` (any --encoding) or `openssl rand -hex 32` / `openssl rand -base64 32`';

/** The bytes of `text` when it is one canonical hex, base64 or base64url encoding (RFC 4648 §4, §5, §8). */
function decodeKeyText(text: string): Buffer | undefined {
  if (/^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0) return Buffer.from(text, 'hex');
  const base64 = /^[A-Za-z0-9+/]+={0,2}$/.test(text);
  const base64url = /^[A-Za-z0-9_-]+={0,2}$/.test(text);
  if (!base64 && !base64url) return undefined;
  const encoding = base64 ? 'base64' : 'base64url';
  const bytes = Buffer.from(text, encoding);
  // Node's decoder skips what it does not understand; only a value that re-encodes to itself
  // (padding aside) is a well-formed encoding of these bytes.
  const strip = (value: string) => value.replace(/=+$/, '');
  if (strip(bytes.toString(encoding)) !== strip(text)) return undefined;
  if (text.includes('=') && text.length % 4 !== 0) return undefined;
  return bytes;
}

/**
 * A 32-byte key (master key, pepper) as hex, standard base64 or base64url, padded or not;
 * normalised to 64 lower-case hex characters so that every consumer decodes one form.
 */
export const parseKey32 = (raw: unknown): Parsed<string> => {
  if (typeof raw !== 'string') return bad(`must be 32 bytes: ${KEY32_FORMS}`);
  const text = raw.trim();
  const bytes = decodeKeyText(text);
  if (bytes?.length === 32) return ok(bytes.toString('hex'));
  const found =
    bytes === undefined
      ? `this value (${text.length} characters) is none of these encodings`
      : `this value (${text.length} characters) decodes to ${bytes.length} bytes`;
  return bad(`must be 32 bytes: ${KEY32_FORMS}; ${found}`);
};

export const parseAdminKey = (raw: unknown): Parsed<string> => {
  if (typeof raw !== 'string') return bad('must be a string');
  const text = raw.trim();
  if (text.length < 32) return bad(`must be at least 32 characters (gatehouse secret makes one), got ${text.length}`);
  if (text.length > 512) return bad('must be at most 512 characters');
  if (!/^[\x21-\x7e]+$/.test(text)) return bad('must be printable ASCII without spaces');
  return ok(text);
};

/**
 * Who may speak for a client: IP addresses and CIDR ranges of reverse proxies, or the names
 * `loopback`, `linklocal` and `uniquelocal` (as understood by Fastify's `trustProxy`/proxy-addr).
 */
export const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'] as const;

export const parseProxyList = (raw: unknown): Parsed<string[]> => {
  const listed = parseList()(raw);
  if (!listed.ok) return listed;
  const invalid = listed.value.filter(
    (entry) => !isIpOrCidr(entry) && !(PROXY_NAMES as readonly string[]).includes(entry),
  );
  if (invalid.length > 0) {
    return bad(
      `has entries that are neither an IP address, a CIDR range nor one of ${PROXY_NAMES.join(', ')}: ${invalid.join(', ')}`,
    );
  }
  return ok(listed.value);
};

function isIpOrCidr(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  if (rest.length > 0 || address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * A TLS certificate or key: a file path, or the PEM text itself (which is what arrives when the
 * value comes from `<ENV>_FILE`, or from an environment variable holding the PEM).
 */
export const parsePemSource = (raw: unknown): Parsed<string> => {
  if (typeof raw !== 'string' || raw.trim().length === 0) return bad('must be a file path or PEM text');
  return ok(raw.trim().startsWith('-----BEGIN ') ? raw : raw.trim());
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
/** `log.decisions`: the level of the decision log's lines, or off. */
export const DECISION_LOG_LEVELS = ['info', 'debug', 'off'] as const;

/** Algorithms of the tokens Gatehouse signs (see docs/jwt.md). */
export const SIGNING_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'HS256'] as const;

/**
 * An HMAC secret of at least 32 bytes (RFC 7518 §3.2, RFC 8725 §3.5, docs/security.md #10), given as
 * hex (64+ characters) or base64url (43+ characters); the value is kept as given.
 */
export const parseHmacSecret = (raw: unknown): Parsed<string> => {
  if (typeof raw !== 'string') return bad('must be at least 32 bytes as hex or base64url');
  const text = raw.trim();
  if (/^[A-Za-z0-9_-]+={0,2}$/.test(text) && hs256SecretBytes(text).length >= 32) return ok(text);
  return bad(
    'must be at least 32 random bytes as hex (64+ characters) or base64url (43+ characters); `gatehouse secret` makes one',
  );
};

/** Claims a mapping may not set: the registered and RFC 9068 claims Gatehouse sets itself. */
export const RESERVED_CLAIMS = [
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'client_id',
  'scope',
  'azp',
  'auth_time',
  'acr',
  'amr',
  'cnf',
  'act',
  'may_act',
];
const CLAIM_SOURCE = /^(username|email|name|metadata\.[A-Za-z0-9_.-]{1,64})$/;

/** `tokens.claims`: `{ claim: source }` from YAML, or the same as JSON text from the environment. */
export const parseClaimMapping = (raw: unknown): Parsed<Record<string, string>> => {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return bad('must be a mapping of claim names to user fields (JSON in the environment)');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return bad('must be a mapping of claim names to user fields, e.g. {"team": "metadata.team"}');
  }
  const mapping: Record<string, string> = {};
  for (const [claim, source] of Object.entries(value)) {
    if (!/^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/.test(claim)) return bad(`has an invalid claim name ${quote(claim)}`);
    if (RESERVED_CLAIMS.includes(claim)) return bad(`must not set the registered claim ${quote(claim)}`);
    if (typeof source !== 'string' || !CLAIM_SOURCE.test(source)) {
      return bad(`maps ${quote(claim)} to ${quote(source)}; sources are username, email, name or metadata.<key>`);
    }
    mapping[claim] = source;
  }
  return ok(mapping);
};

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
  const scheme = resolved.get('tls.cert') === undefined ? 'http' : 'https';
  return `${scheme}://${shown}:${port}`;
};

/**
 * Every option, in the order the reference lists them. Options whose default depends on others
 * come after those others.
 */
export const OPTIONS: readonly OptionSpec[] = [
  {
    key: 'data_dir',
    type: 'path',
    default: './data',
    doc: 'Directory for the embedded SQLite database, the generated master key and admin key. Created when missing; must be writable.',
    parse: parseString,
  },
  {
    key: 'dev',
    type: 'boolean',
    default: false,
    doc: 'Development mode: relaxes rules that only make sense in production (such as HTTPS for Basic credentials). Never enable it in production.',
    parse: parseBoolean,
  },
  {
    key: 'public.host',
    type: 'host',
    default: '0.0.0.0',
    doc: 'Address of the public listener (OAuth/OIDC endpoints, /auth/*, health).',
    parse: parseHost,
  },
  {
    key: 'public.port',
    type: 'port',
    default: 4000,
    doc: 'Port of the public listener; 0 picks a free port.',
    parse: parsePort,
  },
  {
    key: 'admin.host',
    type: 'host',
    default: '127.0.0.1',
    doc: 'Address of the admin listener (admin API, /metrics). Keep it private.',
    parse: parseHost,
  },
  {
    key: 'admin.port',
    type: 'port',
    default: 4001,
    doc: 'Port of the admin listener; 0 picks a free port.',
    parse: parsePort,
  },
  {
    key: 'proxy.host',
    type: 'host',
    default: '0.0.0.0',
    doc: 'Address of the gateway listener, which exists only when routes are configured.',
    parse: parseHost,
  },
  {
    key: 'proxy.port',
    type: 'port',
    default: 4002,
    doc: 'Port of the gateway listener; 0 picks a free port.',
    parse: parsePort,
  },
  {
    key: 'proxy.upstream_timeout',
    type: 'duration',
    default: 30_000,
    doc: 'Gateway: how long an upstream may take to send its response headers, and to pause between body chunks, before the client gets a 504. A route’s `timeout` overrides it.',
    parse: parseDurationOption,
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'proxy.connect_timeout',
    type: 'duration',
    default: 5000,
    doc: 'Gateway: how long to wait for a TCP (and TLS) connection to an upstream before answering 502.',
    parse: parseDurationOption,
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'outbound.allow',
    type: 'list of hosts/IPs/CIDRs',
    default: [],
    doc: 'Outbound fetches (a client’s `jwks_uri`) reach only public addresses; these host names, addresses and CIDR ranges are allowed although loopback, private, link-local or otherwise internal (docs/security.md, "Outbound fetches"). Plain `http` is fetched only in `dev` mode.',
    parse: (raw) => {
      const listed = parseList()(raw);
      if (!listed.ok) return listed;
      const allowlist = parseAllowlist(listed.value);
      return allowlist.ok ? ok(listed.value) : bad(allowlist.problem);
    },
    show: (value) => (value as string[]).join(',') || '(none)',
  },
  {
    key: 'proxy.strip_headers',
    type: 'list of header names',
    default: [],
    doc: 'Gateway: client-sent headers removed before forwarding on every route, on top of the identity headers always removed (`X-User-*`, `X-Forwarded-User`, `Remote-User`, `X-Auth-Request-*`…: docs/gateway.md). Names, or prefixes ending in `*` (`X-Tenant-*`). A route adds its own with `strip_headers`.',
    parse: parseStripHeaders,
    show: (value) => (value as string[]).join(',') || '(none)',
  },
  {
    key: 'database.url',
    type: 'url',
    secret: false,
    default: defaultDatabaseUrl,
    doc: 'Where state lives: `sqlite:<path>` (embedded, the default: `sqlite:<data_dir>/gatehouse.db`) or `postgres://user:pass@host:5432/db`.',
    parse: parseDatabaseUrl,
    show: (value) => maskDatabaseUrl(String(value)),
  },
  {
    key: 'database.pool_size',
    type: 'integer',
    default: 10,
    doc: 'Maximum PostgreSQL connections per instance.',
    parse: parseInteger(1, 1000),
  },
  {
    key: 'database.connect_timeout',
    type: 'duration',
    default: 5000,
    doc: 'How long to wait for a PostgreSQL connection before answering 503.',
    parse: parseDurationOption,
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'log.level',
    type: LOG_LEVELS.join(' | '),
    default: 'info',
    doc: 'Log level.',
    parse: parseEnum(LOG_LEVELS),
  },
  {
    key: 'log.format',
    type: LOG_FORMATS.join(' | '),
    default: 'auto',
    doc: 'JSON lines, or human-readable; `auto` is pretty on a terminal and JSON otherwise.',
    parse: parseEnum(LOG_FORMATS),
  },
  {
    key: 'log.decisions',
    type: DECISION_LOG_LEVELS.join(' | '),
    default: 'info',
    doc: 'The decision log: one line per authentication decision of `/auth/verify` and the gateway, allowed or denied (method, subject, route, outcome, reason, latency, request id; never the credential). Written at this level (`debug` hides it at the default `log.level`), or `off`.',
    parse: parseEnum(DECISION_LOG_LEVELS),
  },
  {
    key: 'master_key',
    type: '32 bytes (hex, base64 or base64url)',
    secret: true,
    default: undefined,
    doc: 'Encrypts stored secrets (AES-256-GCM). Required with PostgreSQL; with SQLite one is generated into `<data_dir>/master.key` when absent. Use `GATEHOUSE_MASTER_KEY_FILE` with a secrets manager.',
    parse: parseKey32,
  },
  {
    key: 'admin_key',
    type: 'string (32+ chars)',
    secret: true,
    default: undefined,
    doc: 'Presets the admin API key instead of generating one on first start.',
    parse: parseAdminKey,
  },
  {
    key: 'tls.cert',
    type: 'path or PEM',
    default: undefined,
    doc: 'Certificate chain (PEM) for HTTPS on the public and gateway listeners: a file path, or the PEM itself (`GATEHOUSE_TLS_CERT_FILE` reads it from a file). Set together with `tls.key`; without them those listeners speak plain HTTP.',
    parse: parsePemSource,
    show: showPemSource,
  },
  {
    key: 'tls.key',
    type: 'path or PEM',
    secret: true,
    default: undefined,
    doc: 'Private key (PEM) for `tls.cert`: a file path, or the PEM itself (`GATEHOUSE_TLS_KEY_FILE` reads it from a file).',
    parse: parsePemSource,
  },
  {
    key: 'trust_proxy',
    type: 'list of IPs/CIDRs',
    default: [],
    doc: 'Reverse proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed (IP addresses, CIDR ranges, or `loopback`, `linklocal`, `uniquelocal`). Empty (the default) believes no one: the client address is the TCP peer and HTTPS means our own TLS.',
    parse: parseProxyList,
    show: (value) => (value as string[]).join(',') || '(none)',
  },
  {
    key: 'issuer',
    type: 'url',
    default: defaultIssuer,
    doc: 'Public URL of this server, used as the `iss` of tokens and in discovery. Defaults to the public listener’s own address.',
    parse: parseHttpUrl,
  },
  {
    key: 'oauth.code_ttl',
    type: 'duration',
    default: 60_000,
    doc: 'Lifetime of an OAuth authorization code (single-use; at most 10m, RFC 6749 §4.1.2).',
    parse: (raw) => {
      const parsed = parseDurationOption(raw);
      if (parsed.ok && (parsed.value < 1000 || parsed.value > 600_000)) return bad('must be from 1s to 10m');
      return parsed;
    },
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'oauth.session_ttl',
    type: 'duration',
    default: 8 * 3_600_000,
    doc: 'How long a user stays logged in at the authorization endpoint (the login session cookie).',
    parse: parseDurationOption,
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'oauth.secret_grace',
    type: 'duration',
    default: 24 * 3_600_000,
    doc: 'After `client rotate-secret`, how long the previous client secret keeps working (unless the call names another grace period).',
    parse: parseDurationOption,
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'oauth.secure_cookies',
    type: 'boolean',
    default: (resolved: ReadonlyMap<string, unknown>) =>
      !(
        resolved.get('dev') === true ||
        (resolved.get('tls.cert') === undefined &&
          /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(String(resolved.get('issuer'))))
      ),
    doc: 'Mark the login session cookies `Secure` (and name them `__Host-…`). Defaults to true, except in dev mode or when the issuer is a plain-http loopback URL without `tls.cert`, where browsers would drop them.',
    parse: parseBoolean,
  },
  {
    key: 'auth.methods',
    type: `list of ${AUTH_METHODS.join(', ')}`,
    default: [...AUTH_METHODS],
    doc: 'Authentication mechanisms that /auth/verify tries, in this order.',
    parse: parseList(AUTH_METHODS),
    show: (value) => (value as string[]).join(','),
  },
  {
    key: 'metrics.token',
    type: 'string (32+ chars)',
    secret: true,
    default: undefined,
    doc: 'When set, `/metrics` on the admin listener requires `Authorization: Bearer <token>` (Prometheus `authorization.credentials_file`). Unset: `/metrics` is open to whoever reaches the admin listener. It never takes the admin key.',
    parse: parseAdminKey,
  },
  {
    key: 'keys.algorithm',
    type: SIGNING_ALGORITHMS.join(' | '),
    default: 'ES256',
    doc: 'Algorithm of the access tokens Gatehouse signs. ES256, EdDSA (Ed25519) and RS256 use keys the server generates and rotates; HS256 uses `keys.hs256_secret` and needs it set.',
    parse: parseEnum(SIGNING_ALGORITHMS),
  },
  {
    key: 'keys.rotate_every',
    type: 'duration',
    default: 30 * 86_400_000,
    doc: 'How long a signing key signs before the next one takes over (automatic rotation).',
    parse: parseDurationOption,
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'keys.jwks_max_age',
    type: 'duration',
    default: 600_000,
    doc: '`Cache-Control: max-age` of /.well-known/jwks.json: how long verifiers may cache the key set. Must be shorter than `keys.publish_ahead`.',
    parse: parseDurationOption,
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'keys.publish_ahead',
    type: 'duration',
    default: 86_400_000,
    doc: 'How long a new key is published in the JWKS before it signs, so that every verifier has fetched it first (longer than `keys.jwks_max_age` and than the JWKS cache of your verifiers).',
    parse: parseDurationOption,
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'keys.hs256_secret',
    type: 'secret (≥ 32 bytes as hex or base64url)',
    secret: true,
    default: undefined,
    doc: 'Shared secret for HS256 tokens (the simple setup: services verify with the same secret). At least 32 random bytes (`gatehouse secret`), given as hex or base64url. Never published in the JWKS. Use `GATEHOUSE_KEYS_HS256_SECRET_FILE` with a secrets manager.',
    parse: parseHmacSecret,
  },
  {
    key: 'tokens.access_ttl',
    type: 'duration',
    default: 900_000,
    doc: 'Lifetime of access tokens (the `exp` of the JWTs Gatehouse issues).',
    parse: parseDurationOption,
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'tokens.refresh_ttl',
    type: 'duration',
    default: 30 * 86_400_000,
    doc: 'Absolute lifetime of a refresh token family, from login: after it the user logs in again, however often the token was refreshed.',
    parse: parseDurationOption,
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'tokens.refresh_idle_ttl',
    type: 'duration',
    default: 7 * 86_400_000,
    doc: 'A refresh token not used for this long expires (idle expiry); each refresh starts the period again.',
    parse: parseDurationOption,
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'tokens.audience',
    type: 'string',
    default: (resolved: ReadonlyMap<string, unknown>) => String(resolved.get('issuer')),
    doc: 'The `aud` of access tokens issued without an explicit audience, accepted by /auth/verify. Defaults to the issuer.',
    parse: parseString,
  },
  {
    key: 'tokens.audiences',
    type: 'list of strings',
    default: [],
    doc: 'Further audiences (one per resource server) that login may issue tokens for (`audience` parameter) and /auth/verify accepts.',
    parse: parseList(),
    show: (value) => (value as string[]).join(','),
  },
  {
    key: 'tokens.leeway',
    type: 'duration',
    default: 30_000,
    doc: 'Clock skew tolerated on `exp`, `nbf` and `iat` when verifying (at most 5m).',
    parse: (raw) => {
      const parsed = parseDurationOption(raw);
      return parsed.ok && parsed.value > 300_000 ? bad('must be at most 5m (RFC 8725 §3.8: a few minutes)') : parsed;
    },
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'tokens.max_length',
    type: 'integer',
    default: 8192,
    doc: 'Longest JWT accepted, in characters; longer ones are refused before decoding.',
    parse: parseInteger(512, 65_536),
  },
  {
    key: 'tokens.claims',
    type: 'mapping claim → user field',
    default: {},
    doc: 'Extra access-token claims from the user: `{claim: source}` where source is `username`, `email`, `name` or `metadata.<key>` (see docs/jwt.md). As YAML mapping, or JSON in the environment.',
    parse: parseClaimMapping,
    show: (value) => JSON.stringify(value),
  },
  {
    key: 'tokens.cache_size',
    type: 'integer',
    default: 10_000,
    doc: 'Verified JWTs remembered in memory (never past `exp`, dropped on revocation); 0 disables the cache.',
    parse: parseInteger(0, 10_000_000),
  },
  {
    key: 'tokens.sync_interval',
    type: 'duration',
    default: 5000,
    doc: 'How often an instance reloads signing keys and the revocation denylist from the store (revocations made on another instance apply within this delay).',
    parse: parseDurationOption,
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'apikeys.prefix',
    type: 'string',
    default: 'gk',
    doc: 'Prefix of issued API keys (`gk`, or with an environment tag, `gk_live`). Only keys with this prefix are verified; keys of another prefix are refused without a store lookup.',
    parse: parseApiKeyPrefix,
  },
  {
    key: 'apikeys.header',
    type: 'header name',
    default: 'x-api-key',
    doc: 'Request header that carries an API key. Keys are also accepted as `Authorization: Bearer <key>`. The header may appear once per request.',
    parse: parseHeaderName,
  },
  {
    key: 'apikeys.query_param',
    type: 'boolean',
    default: false,
    doc: 'Also accept a key in the `api_key` query parameter. Off by default: URLs end up in proxy logs, browser history and Referer headers.',
    parse: parseBoolean,
  },
  {
    key: 'apikeys.cache_ttl',
    type: 'duration',
    default: 30_000,
    doc: 'How long a verified key is answered from memory; `0` disables the cache. Revocations made through another instance take up to this long to be seen here.',
    parse: parseDurationWithin(0, 3_600_000),
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'apikeys.negative_cache_ttl',
    type: 'duration',
    default: 5000,
    doc: 'How long an unknown (well-formed) key is remembered as unknown, so retries cost no store lookup; `0` disables.',
    parse: parseDurationWithin(0, 300_000),
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'apikeys.cache_size',
    type: 'integer',
    default: 10_000,
    doc: 'Most keys held in the verification cache (and, separately, most unknown keys remembered); least recently used go first.',
    parse: parseInteger(1, 10_000_000),
  },
  {
    key: 'apikeys.stale_if_error',
    type: 'duration',
    default: 0,
    doc: 'While the store is unreachable, keep accepting keys verified within this long past the cache TTL (still refusing expired ones). `0`, the default, fails closed at once (503).',
    parse: parseDurationWithin(0, 3_600_000),
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'apikeys.last_used_interval',
    type: 'duration',
    default: 5000,
    doc: 'How often `last_used_at` of keys in use is written (one write per key per interval, never one per request).',
    parse: parseDurationWithin(100, 300_000),
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'ratelimit.max_keys',
    type: 'integer',
    default: 100_000,
    doc: 'Most rate-limit counters (one per API key or client) kept in memory; beyond it the least recently used are forgotten.',
    parse: parseInteger(100, 100_000_000),
  },
  {
    key: 'shutdown_timeout',
    type: 'duration',
    default: 10_000,
    doc: 'On SIGTERM/SIGINT, how long in-flight requests may take before the process exits anyway.',
    parse: parseDurationOption,
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'basic.realm',
    type: 'string',
    default: 'gatehouse',
    doc: 'The realm of the `WWW-Authenticate: Basic` challenge (RFC 7617 §2).',
    parse: (raw) => {
      const parsed = parseString(raw);
      if (!parsed.ok) return parsed;
      return /^[\x20-\x7e]{1,100}$/.test(parsed.value) && !/["\\]/.test(parsed.value)
        ? parsed
        : { ok: false, problem: 'must be 1-100 printable ASCII characters without quotes or backslashes' };
    },
  },
  {
    key: 'basic.allow_insecure_loopback',
    type: 'boolean',
    default: false,
    doc: 'Former name of `security.allow_insecure_loopback`, kept as an alias: it sets that option when the option itself is not given.',
    parse: parseBoolean,
  },
  {
    key: 'security.allow_insecure_loopback',
    type: 'boolean',
    default: (resolved: ReadonlyMap<string, unknown>) => resolved.get('basic.allow_insecure_loopback') === true,
    doc: 'Accept passwords, client secrets and tokens (Basic, /auth/login, /auth/refresh, /auth/logout, the OAuth token, introspection and revocation endpoints and the login pages) over plain HTTP when the client (after `trust_proxy`) is on a loopback address, e.g. a sidecar on the same host. Off by default: every secret needs HTTPS (docs/security.md). Defaults to `basic.allow_insecure_loopback`.',
    parse: parseBoolean,
  },
  {
    key: 'basic.cache_ttl',
    type: 'duration',
    default: 30_000,
    doc: 'How long a successful Basic verification is remembered (keyed by an HMAC of the credentials, never the password) so that repeated requests skip argon2. Changes made on this instance take effect at once; on other instances within this time. 0 turns the cache off.',
    parse: (raw) => {
      const parsed = parseDurationOption(raw);
      return parsed.ok && parsed.value > 600_000 ? { ok: false, problem: 'must be at most 10m' } : parsed;
    },
    show: (value) => (Number(value) === 0 ? '0 (off)' : formatDuration(Number(value))),
  },
  {
    key: 'basic.cache_max_entries',
    type: 'integer',
    default: 10_000,
    doc: 'Upper bound on remembered Basic verifications; the oldest are dropped first.',
    parse: parseInteger(1, 10_000_000),
  },
  {
    key: 'passwords.min_length',
    type: 'integer',
    default: 8,
    doc: 'Minimum password length in characters (NIST SP 800-63B; 15 is recommended). The maximum is 1024 bytes; there are no composition rules and nothing is truncated.',
    parse: parseInteger(8, 256),
  },
  {
    key: 'passwords.blocklist_file',
    type: 'path',
    default: undefined,
    doc: 'A file of passwords that may not be chosen (one per line, compared case-insensitively), e.g. a list of breached passwords. Read at start.',
    parse: parseString,
  },
  {
    key: 'passwords.argon2.memory_kib',
    type: 'integer (KiB)',
    default: 19_456,
    doc: 'Argon2id memory cost. The floor is the OWASP Password Storage Cheat Sheet setting (19456 KiB = 19 MiB); raise it freely: stored hashes record their parameters and weaker ones are rehashed at the next login.',
    parse: parseInteger(19_456, 4_194_304),
  },
  {
    key: 'passwords.argon2.iterations',
    type: 'integer',
    default: 2,
    doc: 'Argon2id time cost (passes over memory); at least 2.',
    parse: parseInteger(2, 100),
  },
  {
    key: 'passwords.argon2.parallelism',
    type: 'integer',
    default: 1,
    doc: 'Argon2id lanes; 1 is the OWASP setting.',
    parse: parseInteger(1, 16),
  },
  {
    key: 'passwords.pepper',
    type: '32 bytes (hex, base64 or base64url)',
    secret: true,
    default: undefined,
    doc: 'Optional pepper: a secret kept outside the database and mixed into every argon2id hash (the argon2 secret input), so a stolen database alone cannot be attacked offline. Existing hashes are re-peppered at their next login; a hash made with a pepper is never accepted without it.',
    parse: parseKey32,
  },
  {
    key: 'throttle.user.free_attempts',
    type: 'integer',
    default: 5,
    doc: 'Failed logins per username before exponential back-off starts (429 with `Retry-After`).',
    parse: parseInteger(1, 1000),
  },
  {
    key: 'throttle.user.lock_after',
    type: 'integer',
    default: 20,
    doc: 'Failed logins per username after which it is locked for `throttle.lock_duration` (from clients other than those it recently logged in from).',
    parse: parseInteger(2, 100_000),
  },
  {
    key: 'throttle.ip.free_attempts',
    type: 'integer',
    default: 50,
    doc: 'Failed logins per client IP (any username) before exponential back-off starts.',
    parse: parseInteger(1, 100_000),
  },
  {
    key: 'throttle.ip.lock_after',
    type: 'integer',
    default: 500,
    doc: 'Failed logins per client IP after which it is locked for `throttle.lock_duration`.',
    parse: parseInteger(2, 10_000_000),
  },
  {
    key: 'throttle.backoff_base',
    type: 'duration',
    default: 1000,
    doc: 'The first back-off delay; each further failure doubles it, up to `throttle.backoff_max`.',
    parse: parseDurationOption,
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'throttle.backoff_max',
    type: 'duration',
    default: 60_000,
    doc: 'The longest back-off delay before a lock.',
    parse: parseDurationOption,
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'throttle.lock_duration',
    type: 'duration',
    default: 900_000,
    doc: 'How long a lock lasts. Locks always end by themselves; a lock never stops a client the user recently logged in from.',
    parse: parseDurationOption,
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'throttle.reset_after',
    type: 'duration',
    default: 3_600_000,
    doc: 'A failure count is forgotten after this long without a new failure; a successful login forgets it at once.',
    parse: parseDurationOption,
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'throttle.familiar_ttl',
    type: 'duration',
    default: 2_592_000_000,
    doc: 'How long a client IP stays "familiar" to a user after a successful login: failures from elsewhere cannot lock the user out from familiar clients (docs/security.md #32).',
    parse: parseDurationOption,
    show: (value) => formatDuration(Number(value)),
  },
  {
    key: 'throttle.verify_budget',
    type: 'integer',
    default: 100,
    doc: 'Failed API-key and bearer-token verifications per client IP (IPv6: per /64) and `throttle.verify_window`. Beyond it, until the window ends, only credentials this instance has in memory as good are accepted from that client; anything else is a 429 with `Retry-After`, answered without a store lookup. `0` turns the budget off.',
    parse: parseInteger(0, 10_000_000),
  },
  {
    key: 'throttle.verify_window',
    type: 'duration',
    default: 60_000,
    doc: 'The window of `throttle.verify_budget`: it starts at a client’s first failed verification.',
    parse: parseDurationWithin(1000, 86_400_000),
    show: (value) => formatDuration(Number(value)),
  },
];

/**
 * Rules that involve several options; each answers the problems it finds. The loader runs them
 * once every option has parsed.
 */
export const CROSS_CHECKS: ReadonlyArray<(resolved: ReadonlyMap<string, unknown>) => string[]> = [
  (resolved) =>
    (resolved.get('tls.cert') === undefined) !== (resolved.get('tls.key') === undefined)
      ? ['tls.cert and tls.key must be set together']
      : [],
  (resolved) =>
    (['user', 'ip'] as const).flatMap((scope) =>
      Number(resolved.get(`throttle.${scope}.lock_after`)) <= Number(resolved.get(`throttle.${scope}.free_attempts`))
        ? [`throttle.${scope}.lock_after must be greater than throttle.${scope}.free_attempts`]
        : [],
    ),
  (resolved) =>
    Number(resolved.get('throttle.backoff_max')) < Number(resolved.get('throttle.backoff_base'))
      ? ['throttle.backoff_max must not be shorter than throttle.backoff_base']
      : [],
  (resolved) =>
    Number(resolved.get('throttle.reset_after')) < Number(resolved.get('throttle.lock_duration'))
      ? ['throttle.reset_after must not be shorter than throttle.lock_duration (a lock would forget itself)']
      : [],
  checkTokenSettings,
];

/** Token and key settings that are only valid together (docs/jwt.md, rotation timeline). */
function checkTokenSettings(values: ReadonlyMap<string, unknown>): string[] {
  const problems: string[] = [];
  const number = (key: string) => Number(values.get(key));
  // docs/security.md #37: a key is published at least one JWKS cache lifetime before it signs.
  if (number('keys.publish_ahead') <= number('keys.jwks_max_age')) {
    problems.push(
      'keys.publish_ahead: must be longer than keys.jwks_max_age, or verifiers may not know a new key when it starts signing',
    );
  }
  if (number('keys.rotate_every') <= number('keys.publish_ahead')) {
    problems.push('keys.rotate_every: must be longer than keys.publish_ahead');
  }
  if (values.get('keys.algorithm') === 'HS256' && values.get('keys.hs256_secret') === undefined) {
    problems.push(
      'keys.algorithm: HS256 needs keys.hs256_secret (at least 32 random bytes; `gatehouse secret` makes one)',
    );
  }
  if (number('tokens.refresh_idle_ttl') > number('tokens.refresh_ttl')) {
    problems.push('tokens.refresh_idle_ttl: must not be longer than tokens.refresh_ttl');
  }
  return problems;
}

function showPemSource(value: unknown): string {
  const text = String(value);
  return text.trim().startsWith('-----BEGIN ') ? '(inline PEM)' : text;
}
