/**
 * Token translation (`forward: jwt`): whatever the caller presented — an API key, a password, a
 * JWT, an OAuth token — the upstream receives one short-lived access token signed by this
 * server (RFC 9068: `typ: at+jwt`, `iss`, `sub`, `aud`, `exp`, `iat`, `jti`, `client_id`,
 * `scope`), so every service behind Gatehouse verifies exactly one kind of credential.
 *
 * - `aud` is the route's audience (its `audience`, or its name), distinct per route
 *   (docs/security.md #9): a token translated for one route is refused by another route's upstream
 *   and by Gatehouse itself, whose accepted audiences never include a route's.
 * - The lifetime is one minute; a token is reused for the same caller at the same route while
 *   at least half of it remains, so a busy caller costs one signature per 30 s, not per request.
 *   The cache holds tokens, not decisions: every request is still authenticated first.
 */
import type { Clock } from '../audit/audit.js';
import type { Identity } from '../pipeline/types.js';
import type { AccessTokenRequest } from '../tokens/access-tokens.js';
import type { RoutePolicy } from './routes.js';

export const TRANSLATED_TOKEN_LIFETIME_MS = 60_000;
/** RFC 9068 requires `client_id`; this one stands for the gateway when the caller had none. */
export const TRANSLATING_CLIENT_ID = 'gatehouse-gateway';

export interface TokenTranslator {
  /** The internal access token for `identity` at `route`. */
  translate(route: RoutePolicy, identity: Identity): Promise<string>;
}

export interface TokenTranslatorOptions {
  readonly issue: (request: AccessTokenRequest) => Promise<{ readonly token: string }>;
  readonly clock: Clock;
  /** Tokens kept at once; the oldest go first (default 10 000). */
  readonly maxEntries?: number;
}

interface Entry {
  readonly token: Promise<string>;
  /** Reused until then: half of the token's life. */
  readonly reuseUntil: number;
}

/** The route's audience for translated tokens. */
export const audienceOf = (route: RoutePolicy): string => route.audience ?? route.name;

export function createTokenTranslator(options: TokenTranslatorOptions): TokenTranslator {
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, Entry>();

  return {
    translate(route, identity) {
      // Everything the token says is in the key: the same subject with other scopes (another
      // key, another login) gets its own token.
      const key = [
        route.name,
        identity.method,
        identity.subject,
        identity.clientId ?? '',
        identity.credentialId ?? '',
        identity.scopes.join(' '),
      ].join('\u0000');
      const now = options.clock.now();
      const cached = entries.get(key);
      if (cached && cached.reuseUntil > now) return cached.token;
      if (cached) entries.delete(key);
      const token = options
        .issue({
          subject: identity.subject,
          clientId: identity.clientId ?? TRANSLATING_CLIENT_ID,
          scopes: identity.scopes,
          audience: audienceOf(route),
          lifetimeMs: TRANSLATED_TOKEN_LIFETIME_MS,
        })
        .then((issued) => issued.token);
      // Concurrent requests of one caller share the signature in flight; a failure is not kept.
      token.catch(() => {
        if (entries.get(key)?.token === token) entries.delete(key);
      });
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(key, { token, reuseUntil: now + TRANSLATED_TOKEN_LIFETIME_MS / 2 });
      return token;
    },
  };
}
