/**
 * Who the caller is, once a credential has been verified. The same shape as the server's pipeline
 * identity, so a service sees the same thing whether it verified a JWT locally or asked the server.
 */

/** The mechanism that vouched for the caller. */
export type AuthMethod = 'jwt' | 'apikey' | 'basic' | 'opaque' | (string & {});

/** The verified caller. Frozen: identities are shared between requests through the caches. */
export interface Identity {
  /** The subject: a user id (`usr_…`), an API key's owner, a client id for service tokens. */
  readonly subject: string;
  /** How the caller authenticated: `jwt` (verified locally), `apikey`, `basic`, `opaque`… */
  readonly method: AuthMethod;
  /** The granted scopes (RFC 9068 §2.2.3 `scope`, split on spaces). */
  readonly scopes: readonly string[];
  /** The OAuth client the credential was issued to (RFC 9068 §2.2 `client_id`), when known. */
  readonly clientId: string | undefined;
  /** The credential's own id (JWT `jti`, API key id), for audit logs; never the secret. */
  readonly credentialId: string | undefined;
  /** Every verified claim (JWT payload or introspection answer); empty for `/auth/verify`. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Parses a space-delimited scope string (RFC 6749 §3.3) into a list without duplicates. */
export function parseScope(value: unknown): string[] {
  if (typeof value !== 'string' || value.length === 0) return [];
  const scopes: string[] = [];
  for (const scope of value.split(' ')) {
    if (scope.length > 0 && !scopes.includes(scope)) scopes.push(scope);
  }
  return scopes;
}

/**
 * Builds the identity for verified JWT (or introspection) claims. The claims have been checked by
 * the caller; this only reads them. Everything is frozen so that one handler cannot change what
 * the next request, answered from the cache, sees.
 */
export function identityFromClaims(claims: Record<string, unknown>, method: AuthMethod): Identity {
  const subject = typeof claims.sub === 'string' ? claims.sub : '';
  return Object.freeze({
    subject,
    method,
    scopes: Object.freeze(parseScope(claims.scope)),
    clientId: typeof claims.client_id === 'string' ? claims.client_id : undefined,
    credentialId: typeof claims.jti === 'string' ? claims.jti : undefined,
    claims: deepFreeze(claims),
  });
}

/** Freezes a JSON value in place (claims come from JSON.parse: no cycles, no exotic objects). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
