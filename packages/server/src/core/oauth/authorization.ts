/**
 * The authorization endpoint's decisions once a request is valid: does the user need to log in,
 * to consent, or can a code be issued now (RFC 6749 §4.1.1–4.1.2, OIDC Core §3.1.2.3–3.1.2.5)?
 * And issuing the code: 256 random bits, stored as SHA-256, bound to the client, the redirect
 * URI, the PKCE challenge and the user, single-use, short-lived (docs/security.md #15, #20).
 */
import type { Clock } from '../audit/audit.js';
import { newId, randomBase64url } from '../secrets/random.js';
import type { AuthorizationRequest } from './authorization-request.js';
import { authorizationResponseUrl } from './authorization-request.js';
import { type CodeStore, type ConsentStore, sha256 } from './authorization-store.js';
import type { OAuthClient } from './clients.js';
import { ConsentRequired, LoginRequired, type OAuthError } from './errors.js';
import type { UserDirectory } from './ports.js';
import { OIDC_SCOPES, scopesBeyond } from './scopes.js';

export interface AuthenticatedUser {
  readonly subject: string;
  /** Seconds since the epoch. */
  readonly authTime: number;
}

export type NextStep =
  | { readonly kind: 'login' }
  | { readonly kind: 'consent' }
  | { readonly kind: 'complete'; readonly user: AuthenticatedUser }
  /** `prompt=none` and interaction would be needed (OIDC Core §3.1.2.6). */
  | { readonly kind: 'error'; readonly error: OAuthError };

export interface AuthorizationFlow {
  /** What the request needs next, given the logged-in user (if any) and what this interaction already did. */
  next(
    client: OAuthClient,
    request: AuthorizationRequest,
    user: AuthenticatedUser | undefined,
    options?: { loggedInNow?: boolean; consentedNow?: boolean },
  ): Promise<NextStep>;
  /** Remembers the user's consent to these scopes for this client (merged with earlier consent). */
  rememberConsent(subject: string, clientId: string, scopes: readonly string[]): Promise<void>;
  /** Issues a code and answers the URL to send the browser to. */
  issueCode(client: OAuthClient, request: AuthorizationRequest, user: AuthenticatedUser): Promise<string>;
  /** The error redirect (RFC 6749 §4.1.2.1), with `state` and `iss` (RFC 9207 §2). */
  errorRedirect(redirectUri: string, state: string | undefined, error: OAuthError): string;
}

export function createAuthorizationFlow(deps: {
  /** The issuer identifier (settled once the public listener is bound). */
  readonly issuer: () => string;
  readonly codes: CodeStore;
  readonly consents: ConsentStore;
  readonly users: () => UserDirectory | undefined;
  readonly clock: Clock;
  readonly codeTtlMs: number;
}): AuthorizationFlow {
  const nowSeconds = () => Math.floor(deps.clock.now() / 1000);

  /** The scopes actually granted: OIDC scopes, plus the others only when the user holds them. */
  async function grantedScopes(request: AuthorizationRequest, subject: string): Promise<string[]> {
    const directory = deps.users();
    if (!directory) return [...request.scopes];
    const user = await directory.findActiveUser(subject);
    const held = new Set(user?.scopes ?? []);
    return request.scopes.filter((scope) => OIDC_SCOPES.has(scope) || held.has(scope));
  }

  return {
    async next(client, request, user, options = {}) {
      const promptNone = request.prompt.includes('none');
      const loginFresh =
        user !== undefined &&
        (options.loggedInNow ||
          (!request.prompt.includes('login') &&
            (request.maxAge === undefined || nowSeconds() - user.authTime <= request.maxAge)));
      if (!loginFresh) {
        return promptNone
          ? { kind: 'error', error: new LoginRequired('The user is not logged in') }
          : { kind: 'login' };
      }
      if (!client.skipConsent && !options.consentedNow) {
        const remembered = (await deps.consents.find(user.subject, client.id)) ?? [];
        const needed = request.prompt.includes('consent') || scopesBeyond(request.scopes, remembered).length > 0;
        if (needed) {
          return promptNone
            ? { kind: 'error', error: new ConsentRequired('The user has not consented to this client and scope') }
            : { kind: 'consent' };
        }
      }
      return { kind: 'complete', user };
    },

    async rememberConsent(subject, clientId, scopes) {
      const earlier = (await deps.consents.find(subject, clientId)) ?? [];
      const merged = [...new Set([...earlier, ...scopes])];
      await deps.consents.save(subject, clientId, merged, new Date(deps.clock.now()).toISOString());
    },

    async issueCode(client, request, user) {
      const code = randomBase64url(32);
      const now = deps.clock.now();
      await deps.codes.insert({
        codeHash: sha256(code),
        clientId: client.id,
        subject: user.subject,
        redirectUri: request.redirectUri,
        redirectUriGiven: request.redirectUriGiven,
        scopes: await grantedScopes(request, user.subject),
        codeChallenge: request.codeChallenge,
        nonce: request.nonce,
        authTime: user.authTime,
        audience: request.audience,
        grantId: newId('grt'),
        createdAt: new Date(now).toISOString(),
        expiresAt: new Date(now + deps.codeTtlMs).toISOString(),
      });
      return authorizationResponseUrl(request.redirectUri, { code, state: request.state, iss: deps.issuer() });
    },

    errorRedirect(redirectUri, state, error) {
      return authorizationResponseUrl(redirectUri, {
        error: error.error,
        error_description: error.description,
        state,
        iss: deps.issuer(),
      });
    },
  };
}
