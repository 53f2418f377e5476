/**
 * INTERIM, until the JWT feature (feat/jwt) is merged: in-memory signing keys, RFC 9068 access
 * tokens, a jti denylist, opaque refresh tokens with rotation and reuse detection, and a `jwt`
 * pipeline authenticator, behind the OAuth ports (core/oauth/ports.ts). app.ts swaps this for the
 * JWT feature's services when they land; nothing else depends on this module.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { decodeProtectedHeader, type JWK, jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../core/audit/audit.js';
import type { AccessTokens, RefreshTokenGrant, RefreshTokens, TokenIssuer } from '../core/oauth/ports.js';
import type { Authenticator } from '../core/pipeline/types.js';
import { randomBase62 } from '../core/secrets/random.js';

interface Key {
  kid: string;
  alg: 'ES256' | 'RS256';
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: JWK;
}

export interface InterimTokenService {
  readonly issuer: TokenIssuer;
  readonly accessTokens: AccessTokens;
  readonly refreshTokens: RefreshTokens;
  readonly authenticator: Authenticator;
  jwks(): { keys: JWK[] };
}

function makeKey(alg: 'ES256' | 'RS256'): Key {
  const { privateKey, publicKey } =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBase62(8);
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, jwk };
}

export function createInterimTokenService(options: {
  issuer: string;
  clock: Clock;
  accessTokenLifetimeSeconds?: number;
  refreshTokenLifetimeSeconds?: number;
}): InterimTokenService {
  const keys = [makeKey('ES256'), makeKey('RS256')];
  const [es256, rs256] = keys as [Key, Key];
  const denylist = new Map<string, number>();
  const now = () => Math.floor(options.clock.now() / 1000);
  const defaultLifetime = options.accessTokenLifetimeSeconds ?? 900;

  const verify = async (token: string) => {
    if (token.length > 8192 || token.split('.').length !== 3) return { ok: false as const, reason: 'malformed' };
    try {
      const header = decodeProtectedHeader(token);
      const key = keys.find((candidate) => candidate.kid === header.kid);
      if (!key) return { ok: false as const, reason: 'unknown_kid' };
      const { payload } = await jwtVerify(token, key.publicKey, {
        algorithms: [key.alg],
        issuer: options.issuer,
        typ: 'at+jwt',
        currentDate: new Date(options.clock.now()),
        requiredClaims: ['exp', 'jti', 'sub'],
      });
      if (denylist.has(String(payload.jti))) return { ok: false as const, reason: 'revoked' };
      return {
        ok: true as const,
        token: {
          subject: String(payload.sub),
          clientId: typeof payload.client_id === 'string' ? payload.client_id : undefined,
          scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
          jti: String(payload.jti),
          claims: payload as Record<string, unknown>,
        },
      };
    } catch (error) {
      return { ok: false as const, reason: (error as { code?: string }).code ?? 'invalid' };
    }
  };

  const issuer: TokenIssuer = {
    issuer: options.issuer,
    async issueAccessToken(request) {
      const iat = now();
      const lifetime = request.lifetimeSeconds ?? defaultLifetime;
      const jti = randomUUID();
      const audience = request.audience && request.audience.length > 0 ? [...request.audience] : [options.issuer];
      const token = await new SignJWT({
        ...(request.claims ?? {}),
        client_id: request.clientId,
        scope: request.scopes.join(' '),
      })
        .setProtectedHeader({ alg: es256.alg, kid: es256.kid, typ: 'at+jwt' })
        .setIssuer(options.issuer)
        .setSubject(request.subject)
        .setAudience(audience.length === 1 ? (audience[0] as string) : audience)
        .setIssuedAt(iat)
        .setNotBefore(iat)
        .setExpirationTime(iat + lifetime)
        .setJti(jti)
        .sign(es256.privateKey);
      return { token, jti, expiresAt: iat + lifetime, expiresIn: lifetime, audience };
    },
    async signIdToken(claims, alg) {
      const key = alg === 'RS256' ? rs256 : es256;
      return new SignJWT({ ...claims })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
        .sign(key.privateKey);
    },
    idTokenAlgorithms: () => ['RS256', 'ES256'],
  };

  const accessTokens: AccessTokens = {
    verify,
    async revoke(jti, expiresAt) {
      denylist.set(jti, expiresAt);
    },
  };

  interface StoredRefresh {
    grant: RefreshTokenGrant;
    used: boolean;
  }
  const refresh = new Map<string, StoredRefresh>();
  const revokedFamilies = new Set<string>();
  const hash = (token: string) => createHash('sha256').update(token).digest('hex');
  const mint = (grant: RefreshTokenGrant) => {
    const token = `ghr_${randomBase62(32)}`;
    refresh.set(hash(token), { grant, used: false });
    return token;
  };
  const refreshTokens: RefreshTokens = {
    async issue(request) {
      const lifetime = request.lifetimeSeconds ?? options.refreshTokenLifetimeSeconds ?? 30 * 86400;
      const grant: RefreshTokenGrant = {
        familyId: `fam_${randomBase62(16)}`,
        subject: request.subject,
        clientId: request.clientId,
        scopes: request.scopes,
        data: request.data,
        expiresAt: now() + lifetime,
      };
      return { token: mint(grant), grant };
    },
    async rotate(token, clientId) {
      const stored = refresh.get(hash(token));
      if (!stored) return { ok: false, reason: 'unknown' };
      const { grant } = stored;
      if (grant.clientId !== clientId) return { ok: false, reason: 'wrong_client' };
      if (revokedFamilies.has(grant.familyId)) return { ok: false, reason: 'revoked', familyId: grant.familyId };
      if (stored.used) {
        revokedFamilies.add(grant.familyId);
        return { ok: false, reason: 'reused', familyId: grant.familyId };
      }
      if (grant.expiresAt <= now()) return { ok: false, reason: 'expired' };
      stored.used = true;
      return { ok: true, token: mint(grant), grant };
    },
    async inspect(token) {
      const stored = refresh.get(hash(token));
      if (!stored || stored.used || revokedFamilies.has(stored.grant.familyId) || stored.grant.expiresAt <= now()) {
        return undefined;
      }
      return stored.grant;
    },
    async revokeFamily(familyId) {
      revokedFamilies.add(familyId);
    },
  };

  const authenticator: Authenticator = {
    name: 'jwt',
    challenge: (error) =>
      error
        ? `Bearer realm="gatehouse", error="${error.error}", error_description="${error.description}"`
        : 'Bearer realm="gatehouse"',
    async authenticate(request) {
      const header = request.header('authorization');
      const match = header ? /^Bearer +(\S+)$/i.exec(header) : null;
      if (!match?.[1] || match[1].split('.').length !== 3) return { kind: 'absent' };
      const result = await verify(match[1]);
      if (!result.ok) {
        return {
          kind: 'rejected',
          rejection: {
            status: 401,
            error: 'invalid_token',
            description: 'The access token is not valid',
            reason: result.reason,
          },
        };
      }
      const { token } = result;
      return {
        kind: 'authenticated',
        identity: {
          subject: token.subject,
          method: 'jwt',
          scopes: token.scopes,
          clientId: token.clientId,
          credentialId: token.jti,
          claims: token.claims,
        },
      };
    },
  };

  return { issuer, accessTokens, refreshTokens, authenticator, jwks: () => ({ keys: keys.map((key) => key.jwk) }) };
}
