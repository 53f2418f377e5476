/**
 * The `aud` of an issued token. A client names the resource server it wants to call with
 * `resource` (RFC 8707 §2, an absolute URI) or `audience` (RFC 8693 §2.1, a logical name); either
 * must be one of the audiences registered for the client, else `invalid_target`. Without either,
 * the client's registered audiences are used, else the issuer's default. One token, one
 * audience set: each resource gets its own `aud` (docs/security.md #9).
 */
import type { OAuthClient } from './clients.js';
import { InvalidTarget } from './errors.js';
import type { OAuthParams } from './params.js';

export type AudienceChoice =
  | { ok: true; audience: readonly string[] | undefined }
  | { ok: false; error: InvalidTarget };

export function requestedAudience(params: OAuthParams): string[] {
  return [...new Set([...params.getAll('resource'), ...params.getAll('audience')])];
}

export function chooseAudience(client: OAuthClient, params: OAuthParams): AudienceChoice {
  const requested = requestedAudience(params);
  for (const resource of params.getAll('resource')) {
    // RFC 8707 §2: "The value MUST be an absolute URI … MUST NOT include a fragment component."
    if (!URL.canParse(resource) || resource.includes('#')) {
      return {
        ok: false,
        error: new InvalidTarget('resource must be an absolute URI without a fragment (RFC 8707 §2)'),
      };
    }
  }
  if (requested.length === 0) return { ok: true, audience: client.audience.length > 0 ? client.audience : undefined };
  const unknown = requested.filter((audience) => !client.audience.includes(audience));
  if (unknown.length > 0) {
    return { ok: false, error: new InvalidTarget(`The client may not request a token for ${unknown.join(', ')}`) };
  }
  return { ok: true, audience: requested };
}
