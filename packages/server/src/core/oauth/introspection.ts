/**
 * Token introspection (RFC 7662). The caller is an authenticated client (docs/security.md #23). Any
 * credential Gatehouse accepts can be introspected: it is put through the same authentication
 * pipeline as `/auth/verify` (JWT access tokens, API keys, …), and refresh tokens are looked up
 * in their store. Anything not active answers `{"active": false}` and nothing else (RFC 7662 §2.2).
 * Infrastructure failures throw: the HTTP layer answers 503, never `active: true`.
 */
import type { Pipeline } from '../pipeline/pipeline.js';
import type { AuthRequest, Identity } from '../pipeline/types.js';
import type { AccessTokens, RefreshTokens, VerifiedAccessToken } from './ports.js';
import { formatScope } from './scopes.js';

export type IntrospectionResponse = { active: false } | ({ active: true } & Record<string, unknown>);

const INACTIVE: IntrospectionResponse = Object.freeze({ active: false });

/** JWT claims echoed as RFC 7662 §2.2 members. */
const ECHOED_CLAIMS = ['exp', 'iat', 'nbf', 'aud', 'iss', 'jti', 'username'] as const;

export interface Introspector {
  introspect(input: { token: string; hint: string | undefined; ip: string }): Promise<IntrospectionResponse>;
}

export function createIntrospector(deps: {
  readonly pipeline: Pipeline;
  readonly accessTokens: AccessTokens;
  readonly refreshTokens: RefreshTokens;
}): Introspector {
  /** The token presented as each header a mechanism reads a credential from, until one recognises it. */
  async function throughPipeline(token: string, ip: string): Promise<Identity | undefined> {
    for (const header of ['authorization', 'x-api-key'] as const) {
      const value = header === 'authorization' ? `Bearer ${token}` : token;
      const request: AuthRequest = {
        header: (name) => (name === header ? value : undefined),
        method: 'POST',
        url: '/oauth/introspect',
        secure: true,
        clientIp: ip,
      };
      const decision = await deps.pipeline.decide(request);
      if (decision.allow) return decision.identity;
      // A mechanism recognised the credential and refused it: inactive, do not try it elsewhere.
      if (decision.denial.reason !== 'no_credentials' && decision.denial.reason !== 'no_mechanism') return undefined;
    }
    return undefined;
  }

  /**
   * Our own access tokens are checked whatever their audience: a resource server whose `aud` is
   * not one /auth/verify accepts must still learn that the token is active.
   */
  function describeAccessToken(token: VerifiedAccessToken): IntrospectionResponse {
    return describeIdentity({
      subject: token.subject,
      method: 'jwt',
      scopes: token.scopes,
      clientId: token.clientId,
      credentialId: token.jti,
      claims: token.claims,
    });
  }

  function describeIdentity(identity: Identity): IntrospectionResponse {
    const body: Record<string, unknown> = {
      active: true,
      sub: identity.subject,
      scope: formatScope(identity.scopes),
      token_type: identity.method === 'jwt' ? 'Bearer' : identity.method,
    };
    if (identity.clientId !== undefined) body.client_id = identity.clientId;
    for (const claim of ECHOED_CLAIMS) {
      if (identity.claims[claim] !== undefined) body[claim] = identity.claims[claim];
    }
    if (body.jti === undefined && identity.credentialId !== undefined) body.jti = identity.credentialId;
    return body as IntrospectionResponse;
  }

  async function asRefreshToken(token: string): Promise<IntrospectionResponse | undefined> {
    const grant = await deps.refreshTokens.inspect(token);
    if (!grant) return undefined;
    return {
      active: true,
      sub: grant.subject,
      client_id: grant.clientId,
      scope: formatScope(grant.scopes),
      exp: grant.expiresAt,
      token_type: 'refresh_token',
    };
  }

  return {
    async introspect({ token, hint, ip }) {
      if (token.length > 16_384) return INACTIVE;
      // RFC 7662 §2.1: the hint only orders the search; a wrong hint still finds the token.
      if (hint === 'refresh_token') {
        const refresh = await asRefreshToken(token);
        if (refresh) return refresh;
      }
      if (token.split('.').length === 3) {
        const checked = await deps.accessTokens.verify(token);
        if (checked.ok) return describeAccessToken(checked.token);
      }
      const identity = await throughPipeline(token, ip);
      if (identity) return describeIdentity(identity);
      if (hint !== 'refresh_token') return (await asRefreshToken(token)) ?? INACTIVE;
      return INACTIVE;
    },
  };
}
