/**
 * Scope strings (RFC 6749 §3.3): space-delimited, case-sensitive tokens of `%x21 / %x23-5B /
 * %x5D-7E`. Requests may only narrow: a client gets at most what it is allowed, a refresh or a
 * token exchange at most what the original grant held (docs/security.md #17).
 */

/** RFC 6749 §3.3 `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** The OpenID Connect scopes (OIDC Core §5.4, §11): granted from the client alone, not the user's own scopes. */
export const OIDC_SCOPES: ReadonlySet<string> = new Set([
  'openid',
  'profile',
  'email',
  'address',
  'phone',
  'offline_access',
]);

export type ParsedScope = { ok: true; scopes: string[] } | { ok: false; problem: string };

/** Parses a scope parameter. Separators are single spaces; duplicates collapse; bad tokens fail. */
export function parseScope(value: string | undefined): ParsedScope {
  if (value === undefined) return { ok: true, scopes: [] };
  const scopes: string[] = [];
  for (const token of value.split(' ')) {
    if (token === '') continue;
    if (!SCOPE_TOKEN.test(token)) return { ok: false, problem: 'scope holds a character RFC 6749 §3.3 does not allow' };
    if (!scopes.includes(token)) scopes.push(token);
  }
  return { ok: true, scopes };
}

/** The scopes of `requested` that `allowed` does not hold. */
export function scopesBeyond(requested: readonly string[], allowed: readonly string[]): string[] {
  return requested.filter((scope) => !allowed.includes(scope));
}

export const formatScope = (scopes: readonly string[]): string => scopes.join(' ');
