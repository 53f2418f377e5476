/**
 * Adapts the JWT feature's token subsystem (core/tokens/) to the OAuth server's ports
 * (core/oauth/ports.ts): signing access and ID tokens with the key ring, verifying our access
 * tokens for introspection, revocation, userinfo and token exchange, the jti denylist, and refresh
 * tokens with rotation and reuse detection. Nothing is re-implemented here: signing, refresh-token
 * storage and the denylist are the JWT feature's.
 */
import { verifyJwt } from '@gatehouse/sdk/jwt';
import { SignJWT } from 'jose';
import type { GatehouseConfig } from './config/types.js';
import type { Clock } from './core/audit/audit.js';
import type { AccessTokens, RefreshTokenGrant, RefreshTokens, TokenIssuer } from './core/oauth/ports.js';
import { parseScopeList } from './core/pipeline/pipeline.js';
import { ACCESS_TOKEN_TYPE } from './core/tokens/access-tokens.js';
import { hashRefreshToken, type RefreshTokenRecord, type RefreshTokenStore } from './core/tokens/refresh-tokens.js';
import type { Tokens } from './core/tokens/tokens.js';

/** OIDC Core §2: ID tokens are plain JWTs, never mistaken for access tokens (RFC 8725 §3.11). */
const ID_TOKEN_TYPE = 'JWT';

const toGrant = (record: RefreshTokenRecord): RefreshTokenGrant => ({
  familyId: record.familyId,
  subject: record.subject,
  clientId: record.clientId,
  scopes: parseScopeList(record.scope),
  expiresAt: Math.floor(Date.parse(record.expiresAt) / 1000),
});

/** The token's own `aud`, read before verification so that any audience we issued is accepted. */
function unverifiedAudience(token: string, maxLength: number): string[] | undefined {
  if (token.length > maxLength) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      aud?: unknown;
    };
    if (typeof payload.aud === 'string') return [payload.aud];
    if (Array.isArray(payload.aud) && payload.aud.every((item) => typeof item === 'string')) return payload.aud;
  } catch {
    // not a JWT: verification below refuses it
  }
  return undefined;
}

export interface OAuthTokenPorts {
  readonly issuer: TokenIssuer;
  readonly accessTokens: AccessTokens;
  readonly refreshTokens: RefreshTokens;
}

export function oauthTokenPorts(options: {
  readonly tokens: Tokens;
  readonly config: GatehouseConfig;
  readonly clock: Clock;
  readonly refreshTokenStore: RefreshTokenStore;
}): OAuthTokenPorts {
  const { tokens, config, clock } = options;

  /** Denies the access tokens issued with revoked refresh tokens (their `access_jti`). */
  async function denyIssuedAccessTokens(records: readonly RefreshTokenRecord[]): Promise<void> {
    for (const record of records) {
      if (record.accessJti && record.accessExpiresAt) {
        await tokens.service.revokeAccessToken(record.accessJti, Date.parse(record.accessExpiresAt));
      }
    }
  }

  const issuer: TokenIssuer = {
    get issuer() {
      return tokens.identity.issuer;
    },
    async issueAccessToken(request) {
      const audience =
        request.audience && request.audience.length > 0 ? [...request.audience] : [tokens.identity.defaultAudience];
      const issued = await tokens.accessTokens.issue({
        subject: request.subject,
        clientId: request.clientId,
        scopes: request.scopes,
        audience: audience.length === 1 ? (audience[0] as string) : audience,
        ...(request.claims ? { extraClaims: request.claims } : {}),
        ...(request.lifetimeSeconds !== undefined ? { lifetimeMs: request.lifetimeSeconds * 1000 } : {}),
      });
      return {
        token: issued.token,
        jti: issued.jti,
        expiresAt: Math.floor(issued.expiresAt / 1000),
        expiresIn: issued.expiresIn,
        audience,
      };
    },
    async signIdToken(claims) {
      const signer = await tokens.keyRing.signer();
      return new SignJWT({ ...claims })
        .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: ID_TOKEN_TYPE })
        .sign(signer.key);
    },
    // An HS256 key is the server's own secret: relying parties could not verify ID tokens with it.
    idTokenAlgorithms: () => (config.keys.algorithm === 'HS256' ? [] : [config.keys.algorithm]),
  };

  const accessTokens: AccessTokens = {
    async verify(token) {
      const audience = unverifiedAudience(token, config.tokens.maxLength);
      if (!audience) return { ok: false, reason: 'malformed' };
      const result = await verifyJwt(token, (kid) => tokens.keyRing.lookup(kid), {
        issuer: tokens.identity.issuer,
        audience,
        types: [ACCESS_TOKEN_TYPE],
        requiredClaims: ['sub', 'jti', 'iat', 'client_id'],
        leewaySeconds: Math.floor(config.tokens.leewayMs / 1000),
        maxTokenLength: config.tokens.maxLength,
        now: () => clock.now(),
      });
      if (!result.ok) return { ok: false, reason: result.code };
      const { claims } = result;
      if (tokens.denylist.isRevoked(claims)) return { ok: false, reason: 'revoked' };
      return {
        ok: true,
        token: {
          subject: String(claims.sub),
          clientId: typeof claims.client_id === 'string' ? claims.client_id : undefined,
          scopes: typeof claims.scope === 'string' ? parseScopeList(claims.scope) : [],
          jti: String(claims.jti),
          claims,
        },
      };
    },
    revoke: (jti, expiresAt) => tokens.service.revokeAccessToken(jti, expiresAt * 1000),
  };

  const refreshTokens: RefreshTokens = {
    async issue(request) {
      const family = request.family
        ? { id: request.family.familyId, expiresAt: new Date(request.family.expiresAt * 1000).toISOString() }
        : undefined;
      const issued = await tokens.refreshTokens.issue({
        subject: request.subject,
        clientId: request.clientId,
        scope: request.scopes.join(' '),
        audience: request.audience.join(' '),
        accessJti: request.accessJti,
        accessExpiresAt: request.accessExpiresAt * 1000,
        ...(family ? { family } : {}),
      });
      return { token: issued.token, grant: toGrant(issued.record) };
    },
    async rotate(token, clientId) {
      const consumed = await tokens.refreshTokens.consume(token, clientId);
      if (consumed.ok) return { ok: true, grant: toGrant(consumed.record) };
      if (consumed.reason === 'reused' && consumed.revoked) await denyIssuedAccessTokens(consumed.revoked);
      const familyId = consumed.revoked?.[0]?.familyId;
      return familyId ? { ok: false, reason: consumed.reason, familyId } : { ok: false, reason: consumed.reason };
    },
    async inspect(token) {
      if (!/^ghr_[0-9A-Za-z]{43}$/.test(token)) return undefined;
      const record = await options.refreshTokenStore.findByHash(hashRefreshToken(token));
      const now = clock.now();
      if (
        !record ||
        record.usedAt !== null ||
        record.revokedAt !== null ||
        Date.parse(record.expiresAt) <= now ||
        Date.parse(record.idleExpiresAt) <= now
      ) {
        return undefined;
      }
      return toGrant(record);
    },
    async revokeFamily(familyId) {
      await denyIssuedAccessTokens(await tokens.refreshTokens.revokeFamily(familyId));
    },
  };

  return { issuer, accessTokens, refreshTokens };
}
