/** Steps several grants share. */
import type { GrantType } from '../clients.js';
import { InvalidScope, UnauthorizedClient } from '../errors.js';
import { parseScope, scopesBeyond } from '../scopes.js';
import type { Step } from '../steps.js';
import type { GrantRequest } from './grant.js';

/** docs/security.md #16: each client has an allowlist of grant types (RFC 6749 §5.2 `unauthorized_client`). */
export function checkGrantAllowed<C extends { readonly request: GrantRequest }>(grantType: GrantType): Step<C> {
  return (context) =>
    context.request.client.grantTypes.includes(grantType)
      ? undefined
      : new UnauthorizedClient(`This client may not use the ${grantType} grant`);
}

/**
 * `scope` may only ask for scopes within `ceiling` (RFC 6749 §3.3, §6: "MUST NOT include any
 * scope not originally granted"); absent, the ceiling itself is granted.
 */
export function checkRequestedScope<C extends { readonly request: GrantRequest; scopes: readonly string[] }>(
  ceiling: (context: C) => readonly string[],
): Step<C> {
  return (context) => {
    const requested = parseScope(context.request.params.get('scope'));
    if (!requested.ok) return new InvalidScope(requested.problem);
    const allowed = ceiling(context);
    const beyond = scopesBeyond(requested.scopes, allowed);
    if (beyond.length > 0) return new InvalidScope(`Scope not allowed: ${beyond.join(' ')}`);
    context.scopes = context.request.params.get('scope') === undefined ? [...allowed] : requested.scopes;
    return undefined;
  };
}
