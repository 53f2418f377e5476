/**
 * Token exchange (RFC 8693): a service trades an access token it received for a narrower one to
 * call the next service. The subject token must be one of our valid access tokens; the new token
 * keeps its subject, names the exchanging client as the actor (`act`, RFC 8693 §4.1), and can
 * only shrink: scope within the subject token's (else `invalid_scope`), audience within its
 * `aud` (else `invalid_target`, RFC 8693 §2.2.2), expiry no later than the subject token's.
 */
import { requestedAudience } from '../audience.js';
import { GRANT_TYPES } from '../clients.js';
import { InvalidGrant, InvalidRequest, InvalidTarget } from '../errors.js';
import type { AccessTokens, IssuedAccessToken, TokenIssuer, VerifiedAccessToken } from '../ports.js';
import { accessTokenResponse, type GrantHandler, type GrantRequest, stepGrant } from './grant.js';
import { checkGrantAllowed, checkRequestedScope } from './shared-steps.js';

export const TOKEN_TYPES = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const;

interface Context {
  readonly request: GrantRequest;
  subject: VerifiedAccessToken;
  scopes: readonly string[];
  audience: readonly string[];
  issued: IssuedAccessToken;
}

const audienceOf = (claims: Readonly<Record<string, unknown>>): string[] =>
  typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud.map(String) : [];

export function tokenExchangeGrant(deps: {
  readonly issuer: TokenIssuer;
  readonly accessTokens: AccessTokens;
  readonly now: () => number;
}): GrantHandler {
  const readParameters = (context: Context) => {
    const { params } = context.request;
    if (params.get('subject_token') === undefined) return new InvalidRequest('subject_token is missing');
    const type = params.get('subject_token_type');
    if (type === undefined) return new InvalidRequest('subject_token_type is missing');
    if (type !== TOKEN_TYPES.accessToken && type !== TOKEN_TYPES.jwt) {
      return new InvalidRequest(`subject_token_type ${type} is not supported; use ${TOKEN_TYPES.accessToken}`);
    }
    const requested = params.get('requested_token_type');
    if (requested !== undefined && requested !== TOKEN_TYPES.accessToken) {
      return new InvalidRequest(`requested_token_type ${requested} is not supported`);
    }
    if (params.get('actor_token') !== undefined || params.get('actor_token_type') !== undefined) {
      return new InvalidRequest('actor_token is not supported; the authenticated client is the actor');
    }
    return undefined;
  };

  const verifySubjectToken = async (context: Context) => {
    const checked = await deps.accessTokens.verify(context.request.params.get('subject_token') as string);
    if (!checked.ok) return new InvalidGrant('subject_token is not a valid access token');
    context.subject = checked.token;
    return undefined;
  };

  const narrowAudience = (context: Context) => {
    const original = audienceOf(context.subject.claims);
    const requested = requestedAudience(context.request.params);
    if (requested.length === 0) {
      context.audience = original;
      return undefined;
    }
    const wider = requested.filter((audience) => !original.includes(audience));
    if (wider.length > 0) return new InvalidTarget(`The subject token is not valid for ${wider.join(', ')}`);
    context.audience = requested;
    return undefined;
  };

  const issue = async (context: Context) => {
    const { client } = context.request;
    const { subject } = context;
    const remaining = Number(subject.claims.exp) - Math.floor(deps.now() / 1000);
    const lifetime = Math.max(1, Math.min(remaining, client.accessTokenLifetime ?? remaining));
    const priorActor = subject.claims.act;
    context.issued = await deps.issuer.issueAccessToken({
      subject: subject.subject,
      clientId: client.id,
      scopes: context.scopes,
      audience: context.audience,
      lifetimeSeconds: lifetime,
      claims: {
        // RFC 8693 §4.1: the current actor, with any earlier chain nested inside.
        act: { sub: client.id, ...(priorActor && typeof priorActor === 'object' ? { act: priorActor } : {}) },
        ...(subject.claims.auth_time !== undefined ? { auth_time: subject.claims.auth_time } : {}),
      },
    });
    return undefined;
  };

  const steps = [
    checkGrantAllowed<Context>(GRANT_TYPES.tokenExchange),
    readParameters,
    verifySubjectToken,
    checkRequestedScope<Context>((context) => context.subject.scopes),
    narrowAudience,
    issue,
  ];

  return stepGrant<Context>(GRANT_TYPES.tokenExchange, steps, (context) => ({
    subject: context.subject.subject,
    jti: context.issued.jti,
    // RFC 8693 §2.2.1: issued_token_type is required.
    response: accessTokenResponse(context.issued, context.scopes, { issued_token_type: TOKEN_TYPES.accessToken }),
  }));
}
