/**
 * The authorization code grant (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.5–4.6). The code must
 * exist, be unexpired, unused, issued to this client, for this redirect URI, and the verifier
 * must hash to the challenge. A second use of a code revokes everything issued with it
 * (RFC 6749 §4.1.2, docs/security.md #15).
 */
import type { Clock } from '../../audit/audit.js';
import type { CodeStore } from '../authorization-store.js';
import { type GrantStore, type StoredCode, sha256 } from '../authorization-store.js';
import { GRANT_TYPES } from '../clients.js';
import { InvalidGrant, InvalidRequest } from '../errors.js';
import type { GrantRevoker } from '../grant-revocation.js';
import { CODE_VERIFIER, verifyPkce } from '../pkce.js';
import { type GrantHandler, type GrantRequest, stepGrant, type TokenResponse } from './grant.js';
import { checkGrantAllowed } from './shared-steps.js';
import { issueUserTokens, type UserTokenDeps } from './user-tokens.js';

interface Context {
  readonly request: GrantRequest;
  code: string;
  verifier: string;
  stored: StoredCode;
  response: TokenResponse;
  jti: string;
}

export function authorizationCodeGrant(
  deps: UserTokenDeps & {
    readonly codes: CodeStore;
    readonly grants: GrantStore;
    readonly grantRevoker: GrantRevoker;
    readonly clock: Clock;
  },
): GrantHandler {
  const nowIso = () => new Date(deps.clock.now()).toISOString();

  const revokeGrantOf = async (code: StoredCode) => {
    const grant = await deps.grants.find(code.grantId);
    if (grant) await deps.grantRevoker.revoke(grant);
  };

  const readParameters = (context: Context) => {
    const { params } = context.request;
    const code = params.get('code');
    if (code === undefined) return new InvalidRequest('code is missing');
    const verifier = params.get('code_verifier');
    // RFC 9700 §2.1.1: PKCE is required of every client; a request without a verifier is refused.
    if (verifier === undefined) return new InvalidRequest('code_verifier is missing (PKCE is required)');
    if (!CODE_VERIFIER.test(verifier)) {
      return new InvalidRequest('code_verifier must be 43-128 unreserved characters (RFC 7636 §4.1)');
    }
    context.code = code;
    context.verifier = verifier;
    return undefined;
  };

  const loadCode = async (context: Context) => {
    const stored = await deps.codes.find(sha256(context.code));
    if (!stored) return new InvalidGrant('The authorization code is not valid');
    context.stored = stored;
    return undefined;
  };

  /** RFC 6749 §4.1.2: "If an authorization code is used more than once … SHOULD revoke … all tokens previously issued". */
  const checkNotUsed = async (context: Context) => {
    if (context.stored.usedAt === null) return undefined;
    await revokeGrantOf(context.stored);
    return new InvalidGrant('The authorization code was already used; the tokens issued with it are revoked');
  };

  const checkExpiry = (context: Context) =>
    Date.parse(context.stored.expiresAt) <= deps.clock.now()
      ? new InvalidGrant('The authorization code has expired')
      : undefined;

  /** RFC 6749 §4.1.3: "ensure that the authorization code was issued to the authenticated confidential client". */
  const checkClient = (context: Context) =>
    context.stored.clientId === context.request.client.id
      ? undefined
      : new InvalidGrant('The authorization code was issued to another client');

  /** RFC 6749 §4.1.3: redirect_uri is required if it was in the authorization request, and must be identical. */
  const checkRedirectUri = (context: Context) => {
    const given = context.request.params.get('redirect_uri');
    if (given === undefined && !context.stored.redirectUriGiven) return undefined;
    if (given === undefined) return new InvalidRequest('redirect_uri is missing (it was in the authorization request)');
    return given === context.stored.redirectUri
      ? undefined
      : new InvalidGrant('redirect_uri does not match the authorization request');
  };

  /** RFC 7636 §4.6. */
  const checkPkce = (context: Context) =>
    verifyPkce(context.verifier, context.stored.codeChallenge)
      ? undefined
      : new InvalidGrant('code_verifier does not match the code_challenge');

  /** The atomic single-use mark: the loser of a race is treated as a replay. */
  const markUsed = async (context: Context) => {
    if (await deps.codes.markUsed(context.stored.codeHash, nowIso())) return undefined;
    await revokeGrantOf(context.stored);
    return new InvalidGrant('The authorization code was already used');
  };

  const issueTokens = async (context: Context) => {
    const { stored } = context;
    const now = deps.clock.now();
    await deps.grants.create({
      id: stored.grantId,
      clientId: stored.clientId,
      subject: stored.subject,
      familyId: null,
      authTime: stored.authTime,
      audience: stored.audience,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + (context.request.client.refreshTokenLifetime ?? 30 * 86_400) * 1000).toISOString(),
    });
    const issued = await issueUserTokens(deps, {
      client: context.request.client,
      grantId: stored.grantId,
      subject: stored.subject,
      scopes: stored.scopes,
      audience: stored.audience,
      authTime: stored.authTime,
      idToken: { nonce: stored.nonce },
    });
    context.response = issued.response;
    context.jti = issued.jti;
    return undefined;
  };

  const steps = [
    checkGrantAllowed<Context>(GRANT_TYPES.authorizationCode),
    readParameters,
    loadCode,
    checkNotUsed,
    checkExpiry,
    checkClient,
    checkRedirectUri,
    checkPkce,
    markUsed,
    issueTokens,
  ];

  return stepGrant<Context>(GRANT_TYPES.authorizationCode, steps, (context) => ({
    response: context.response,
    subject: context.stored.subject,
    jti: context.jti,
  }));
}
