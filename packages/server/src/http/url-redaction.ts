/**
 * What a logged URL may show (docs/security.md, "What is logged"). One rule for every listener
 * (public, admin, gateway): a query value is replaced by `[redacted]` when
 *
 * - its parameter name is a credential's (`access_token`, `code`, `client_secret`, `admin_key`,
 *   `password`, `key`, `token`, `assertion`…, or any name ending in `_token`, `_secret`, `_key`,
 *   `password`), or
 * - its value looks like a credential whatever the name: one of Gatehouse's prefixes (`gk_` API
 *   keys, `gh_admin_` admin keys, `ghcs_` client secrets, `ghr_` refresh tokens), a JWT
 *   (`eyJ…`), or a long run (32+) of token characters;
 *
 * and a path segment that starts with one of those prefixes (or `eyJ`) is replaced the same way
 * (ids such as `key_…` or a token's `jti` are kept: they are not secrets). The fragment is
 * dropped. docs/security.md #34 (never log secrets, tokens, codes or passwords); RFC 6750 §5.3.
 */

/** Parameter names whose values are secrets (compared lower-case, after percent-decoding). */
export const SENSITIVE_QUERY_NAMES: ReadonlySet<string> = new Set([
  'access_token',
  'refresh_token',
  'id_token',
  'subject_token',
  'actor_token',
  'code',
  'code_verifier',
  'client_secret',
  'client_assertion',
  'assertion',
  'password',
  'new_password',
  'api_key',
  'apikey',
  'admin_key',
  'master_key',
  'token',
  'key',
  'secret',
  'authorization',
  'session',
]);

const SENSITIVE_NAME_SUFFIX = /(?:_token|_secret|_key|password)$/;
/** Gatehouse's credential prefixes, a compact JWS/JWE, or a long opaque token. */
const CREDENTIAL_VALUE = /^(?:gk_|gh_admin_|ghcs_|ghr_|eyJ)|^[A-Za-z0-9._~+/=-]{32,}$/;
/** In a path only the prefixes count: ids (`key_…`, token `jti`s) are long but not secret. */
const CREDENTIAL_SEGMENT = /^(?:gk_|gh_admin_|ghcs_|ghr_|eyJ)/;
const MAYBE_CREDENTIAL_IN_PATH = /gk_|gh_admin_|ghcs_|ghr_|eyJ|%/;

const REDACTED = '[redacted]';

function decoded(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** Is a query parameter with this (raw) name and value a credential? */
export function isSensitiveParameter(rawName: string, rawValue: string): boolean {
  const name = decoded(rawName).trim().toLowerCase();
  if (SENSITIVE_QUERY_NAMES.has(name) || SENSITIVE_NAME_SUFFIX.test(name)) return true;
  return CREDENTIAL_VALUE.test(decoded(rawValue).trim());
}

/**
 * The parameters of a raw query string (without `?`) that carry a credential — by name, or by a
 * value with one of Gatehouse's prefixes or JWT-shaped — decoded, in order, deduplicated. (Long
 * opaque values alone do not count here: a pagination cursor is long and harmless.) The admin
 * API refuses such a request (http/admin/authenticate.ts).
 */
export function credentialQueryParameters(query: string): string[] {
  const names: string[] = [];
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = decoded(equals === -1 ? pair : pair.slice(0, equals));
    const value = equals === -1 ? '' : decoded(pair.slice(equals + 1));
    const lower = name.trim().toLowerCase();
    const byName = SENSITIVE_QUERY_NAMES.has(lower) || SENSITIVE_NAME_SUFFIX.test(lower);
    // A bare `?gh_admin_…` is a credential in the name's place: it is reported as `query`, never echoed.
    const shown = CREDENTIAL_SEGMENT.test(name.trim()) ? 'query' : name.slice(0, 64);
    if ((byName || CREDENTIAL_SEGMENT.test(value.trim()) || shown === 'query') && !names.includes(shown)) {
      names.push(shown);
    }
  }
  return names;
}

function redactQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      if (pair === '') return pair;
      const equals = pair.indexOf('=');
      if (equals === -1) return CREDENTIAL_VALUE.test(decoded(pair)) ? REDACTED : pair;
      const name = pair.slice(0, equals);
      return isSensitiveParameter(name, pair.slice(equals + 1)) ? `${name}=${REDACTED}` : pair;
    })
    .join('&');
}

function redactPath(path: string): string {
  if (!MAYBE_CREDENTIAL_IN_PATH.test(path)) return path;
  return path
    .split('/')
    .map((segment) => (CREDENTIAL_SEGMENT.test(decoded(segment)) ? REDACTED : segment))
    .join('/');
}

/** A request target safe to log. */
export function redactUrl(url: string): string {
  const hash = url.indexOf('#');
  const target = hash === -1 ? url : url.slice(0, hash);
  const question = target.indexOf('?');
  if (question === -1) return redactPath(target);
  return `${redactPath(target.slice(0, question))}?${redactQuery(target.slice(question + 1))}`;
}
