/**
 * Scope checks for routes. RFC 6750 §3.1: a valid credential without a required scope is a 403
 * `insufficient_scope`, and the challenge names the scopes needed.
 */
import { InsufficientScopeError } from './errors.js';
import type { Identity } from './identity.js';

/**
 * The required scopes the identity lacks (empty when it has them all).
 *
 * @example
 * ```ts
 * missingScopes(identity, ['orders:read', 'orders:write']); // → ['orders:write']
 * ```
 */
export function missingScopes(identity: Pick<Identity, 'scopes'>, required: readonly string[]): string[] {
  const missing: string[] = [];
  for (const scope of required) if (!identity.scopes.includes(scope)) missing.push(scope);
  return missing;
}

/**
 * True when the identity carries every one of the scopes.
 *
 * @example
 * ```ts
 * if (hasScopes(request.auth, 'orders:write')) showEditButton();
 * ```
 */
export function hasScopes(identity: Pick<Identity, 'scopes'>, ...required: string[]): boolean {
  return missingScopes(identity, required).length === 0;
}

/**
 * Throws {@link InsufficientScopeError} (403 `insufficient_scope`) unless the identity carries
 * every one of the scopes; returns the identity otherwise.
 *
 * @example
 * ```ts
 * const identity = requireScopes(await verifier.verify(token), 'orders:read', 'orders:write');
 * ```
 */
export function requireScopes<T extends Pick<Identity, 'scopes'>>(identity: T, ...required: string[]): T {
  const missing = missingScopes(identity, required);
  if (missing.length > 0) throw new InsufficientScopeError(required, missing);
  return identity;
}
