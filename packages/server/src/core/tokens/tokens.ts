/**
 * The token subsystem assembled from its parts: key ring, denylist, verified-token cache,
 * access-token issuer, refresh tokens and the flows over them. `app.ts` builds one per process;
 * the JWT authenticator, the public token endpoints, the JWKS and the admin routes share it.
 */
import type { GatehouseConfig } from '../../config/types.js';
import type { AuditLog, Clock } from '../audit/audit.js';
import type { SealedBox } from '../secrets/sealed-box.js';
import { type AccessTokenVerifier, createAccessTokenVerifier } from './access-token-verifier.js';
import { type AccessTokenIssuer, createAccessTokenIssuer } from './access-tokens.js';
import { createKeyRing, type KeyRing } from './key-ring.js';
import type { UserDirectory } from './login.js';
import { createRefreshTokens, type RefreshTokenStore, type RefreshTokens } from './refresh-tokens.js';
import { createDenylist, type Denylist, type RevocationStore } from './revocations.js';
import type { SigningKeyStore } from './signing-keys.js';
import { createTokenService, type TokenService } from './token-service.js';
import { createVerifiedTokenCache, type VerifiedTokenCache } from './verified-token-cache.js';

/**
 * The issuer identifier and audiences. The issuer defaults to the public listener's address,
 * which is only known once it listens (port 0 in tests), so it can be settled after `listen`.
 */
export class TokenIdentity {
  issuer: string;
  defaultAudience: string;
  /** Every audience /auth/verify accepts: the default one and `tokens.audiences`. */
  audiences: readonly string[];

  constructor(private readonly config: GatehouseConfig) {
    this.issuer = config.issuer;
    this.defaultAudience = config.tokens.audience;
    this.audiences = [config.tokens.audience, ...config.tokens.audiences];
  }

  /** Called with the bound public URL; changes nothing that the operator configured. */
  settle(publicUrl: string): void {
    if (this.config.sources.get('issuer') !== 'default') return;
    this.issuer = publicUrl;
    if (this.config.sources.get('tokens.audience') === 'default') {
      this.defaultAudience = publicUrl;
      this.audiences = [publicUrl, ...this.config.tokens.audiences];
    }
  }
}

export interface Tokens {
  readonly identity: TokenIdentity;
  readonly keyRing: KeyRing;
  readonly denylist: Denylist;
  readonly cache: VerifiedTokenCache;
  readonly accessTokens: AccessTokenIssuer;
  readonly verifier: AccessTokenVerifier;
  readonly refreshTokens: RefreshTokens;
  readonly service: TokenService;
  start(): Promise<void>;
  close(): void;
}

export interface TokensOptions {
  readonly config: GatehouseConfig;
  readonly clock: Clock;
  readonly sealedBox: SealedBox;
  readonly audit: AuditLog;
  readonly signingKeys: SigningKeyStore;
  readonly refreshTokenStore: RefreshTokenStore;
  readonly revocations: RevocationStore;
  readonly users: UserDirectory;
  readonly onError: (error: unknown, context: string) => void;
}

export function createTokens(options: TokensOptions): Tokens {
  const { config, clock, audit } = options;
  const identity = new TokenIdentity(config);
  const cache = createVerifiedTokenCache(config.tokens.cacheSize);
  const keyRing = createKeyRing({
    store: options.signingKeys,
    sealedBox: options.sealedBox,
    clock,
    algorithm: config.keys.algorithm,
    hs256Secret: config.keys.hs256Secret,
    rotateEveryMs: config.keys.rotateEveryMs,
    publishAheadMs: config.keys.publishAheadMs,
    // A retired key verifies every token it signed until that token expires (docs/security.md #37).
    retainRetiredMs: config.tokens.accessTtlMs + config.tokens.leewayMs,
    syncIntervalMs: config.tokens.syncIntervalMs,
    onError: options.onError,
    onKeysRemoved: (kids) => cache.drop((entry) => kids.includes(entry.kid)),
    onStep: (step, actor) => {
      const action = { create: 'created', activate: 'activated', retire: 'retired', delete: 'deleted' }[step.kind];
      audit.record({
        actor,
        action: `signing_key.${action}`,
        target: step.kind === 'create' ? (step.kid ?? null) : step.kid,
        details:
          step.kind === 'create' ? { state: step.state, activates_at: new Date(step.activatesAt).toISOString() } : {},
      });
    },
  });
  const denylist = createDenylist({
    store: options.revocations,
    clock,
    syncIntervalMs: config.tokens.syncIntervalMs,
    onError: options.onError,
  });
  // Revoked tokens leave the cache at once (the per-hit check covers other instances' revocations).
  denylist.onRevoked((revocation) => {
    cache.drop((entry) => {
      const claims = entry.identity.claims;
      if (revocation.kind === 'jti') return claims.jti === revocation.value;
      return (revocation.kind === 'subject' ? claims.sub : claims.client_id) === revocation.value;
    });
  });
  const accessTokens = createAccessTokenIssuer({
    keyRing,
    issuer: () => identity.issuer,
    accessTtlMs: config.tokens.accessTtlMs,
    clock,
  });
  const verifier = createAccessTokenVerifier({
    keyRing,
    denylist,
    cache,
    clock,
    identity,
    leewaySeconds: Math.floor(config.tokens.leewayMs / 1000),
    maxTokenLength: config.tokens.maxLength,
  });
  const refreshTokens = createRefreshTokens({
    store: options.refreshTokenStore,
    clock,
    ttlMs: config.tokens.refreshTtlMs,
    idleTtlMs: config.tokens.refreshIdleTtlMs,
  });
  const service = createTokenService({
    users: options.users,
    accessTokens,
    refreshTokens,
    denylist,
    claimMapping: config.tokens.claims,
    get defaultAudience() {
      return identity.defaultAudience;
    },
    audiences: config.tokens.audiences,
    revocationHorizonMs: config.tokens.accessTtlMs + config.tokens.leewayMs,
    now: () => clock.now(),
    onFamilyRevoked: (records, reason) => {
      const first = records[0];
      audit.record({
        actor: 'system',
        action: 'refresh_token.family_revoked',
        target: first?.familyId ?? null,
        outcome: reason === 'refresh_token_reused' ? 'failure' : 'success',
        details: { reason, subject: first?.subject, client_id: first?.clientId, tokens: records.length },
      });
    },
  });
  return {
    identity,
    keyRing,
    denylist,
    cache,
    accessTokens,
    verifier,
    refreshTokens,
    service,
    async start() {
      await Promise.all([keyRing.start(), denylist.start()]);
    },
    close() {
      keyRing.close();
      denylist.close();
    },
  };
}
