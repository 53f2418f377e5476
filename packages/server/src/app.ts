/**
 * Builds Gatehouse from a validated config and an open store: the domain services, then one
 * Fastify instance per listener. Nothing here listens on a port (see ./server.ts), so tests and
 * embedders can build an app and drive it however they like.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ConfigError } from './config/load.js';
import type { GatehouseConfig } from './config/types.js';
import type { AdminCredentialStore } from './core/admin/admin-keys.js';
import { type ApiKeyService, createApiKeyService } from './core/apikeys/service.js';
import { type AuditLog, type AuditStore, type Clock, createAuditLog, systemClock } from './core/audit/audit.js';
import { createBasicAuthenticator } from './core/basic/basic-authenticator.js';
import { createVerificationCache, type VerificationCache } from './core/basic/verification-cache.js';
import { createPasswordHasher } from './core/passwords/password-hasher.js';
import { parsePasswordBlocklist } from './core/passwords/password-policy.js';
import { createPipeline, type Pipeline } from './core/pipeline/pipeline.js';
import type { Authenticator, Identity } from './core/pipeline/types.js';
import { type ActiveRoutes, createActiveRoutes, type RoutePolicy } from './core/policies/routes.js';
import { createTokenTranslator, type TokenTranslator } from './core/policies/token-translation.js';
import type { RateLimiter } from './core/ratelimit/limiter.js';
import { createMemoryRateLimiter } from './core/ratelimit/memory-limiter.js';
import { newId } from './core/secrets/random.js';
import { decodeMasterKey, type SealedBox } from './core/secrets/sealed-box.js';
import { createFailureBudget } from './core/throttle/failure-budget.js';
import { createLoginThrottle } from './core/throttle/login-throttle.js';
import { createMemoryThrottleStore } from './core/throttle/memory-throttle-store.js';
import { createJwtAuthenticator } from './core/tokens/jwt-authenticator.js';
import { userDirectory } from './core/tokens/login.js';
import { createTokens, type Tokens } from './core/tokens/tokens.js';
import type { SecretTransportPolicy } from './core/transport/secret-transport.js';
import { createUserService, type UserService } from './core/users/user-service.js';
import { createUserPasswordVerifier, type UserPasswordVerifier } from './core/users/verify-user-password.js';
import { adminSurface } from './http/admin/index.js';
import { createFastify } from './http/fastify.js';
import { gatewaySurface } from './http/gateway/index.js';
import { oauthSurface } from './http/oauth/index.js';
import { publicSurface } from './http/public/index.js';
import { createOAuthServices, type OAuthServices } from './oauth-services.js';
import { oauthTokenPorts } from './oauth-token-ports.js';
import { createMetrics, type GatehouseMetrics } from './observability/metrics.js';
import { adminCredentialRepository } from './store/admin-credential-repository.js';
import { apiKeyRepository } from './store/api-key-repository.js';
import { auditRepository } from './store/audit-repository.js';
import type { Store } from './store/database.js';
import { signingKeyRepository } from './store/signing-key-repository.js';
import { refreshTokenRepository, revocationRepository } from './store/token-repository.js';
import { userRepository } from './store/user-repository.js';
import { VERSION } from './version.js';

/** The domain services, shared by every listener. */
export interface Services {
  readonly config: GatehouseConfig;
  readonly store: Store;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly sealedBox: SealedBox;
  readonly audit: AuditLog;
  readonly auditStore: AuditStore;
  readonly adminCredentials: AdminCredentialStore;
  /** Prometheus metrics; the verification caches' own counters are read at scrape time. */
  readonly metrics: GatehouseMetrics;
  /** The route policies in force (null table: no `routes` section), swapped on reload. */
  readonly routes: ActiveRoutes;
  /** Internal JWTs for routes with `forward: jwt`. */
  readonly tokenTranslator: TokenTranslator;
  /** Shared by every feature that throttles (API keys, gateway routes). */
  readonly rateLimiter: RateLimiter;
  readonly apiKeys: ApiKeyService;
  /** Signing keys, access and refresh tokens, revocation (docs/jwt.md). */
  readonly tokens: Tokens;
  /** Managing users (admin API). */
  readonly users: UserService;
  /**
   * Checking a username and password, throttled, timing-equalised, rehashing and audited: the
   * one path for every password login (Basic, `POST /auth/login`).
   */
  readonly passwordVerifier: UserPasswordVerifier;
  /** Remembered Basic verifications; user changes invalidate it. */
  readonly basicCache: VerificationCache<Identity>;
  readonly pipeline: Pipeline;
  /** The OAuth 2.0 authorization server and OpenID provider (docs/oauth.md). */
  readonly oauth: OAuthServices;
}

/**
 * How each authentication mechanism is built. A feature that adds a mechanism adds its factory
 * here; `auth.methods` in the config picks which run and in what order.
 */
type AuthenticatorFactory = (services: Omit<Services, 'pipeline'>) => Authenticator;
const AUTHENTICATOR_FACTORIES: Partial<Record<GatehouseConfig['auth']['methods'][number], AuthenticatorFactory>> = {
  apikey: (services) => services.apiKeys.authenticator,
  jwt: ({ tokens, config }) =>
    createJwtAuthenticator({ verifier: tokens.verifier, maxTokenLength: config.tokens.maxLength }),
  basic: (services) =>
    createBasicAuthenticator({
      realm: services.config.basic.realm,
      verifier: services.passwordVerifier,
      cache: services.basicCache,
      transport: secretTransportPolicy(services.config),
    }),
};

/** One HTTPS rule for every secret of the public listener (docs/security.md). */
const secretTransportPolicy = (config: GatehouseConfig): SecretTransportPolicy => ({
  dev: config.dev,
  allowInsecureLoopback: config.security.allowInsecureLoopback,
});

export interface ServiceOptions {
  readonly config: GatehouseConfig;
  readonly store: Store;
  readonly logger: Logger;
  readonly sealedBox: SealedBox;
  readonly clock?: Clock;
  /** The `routes` section, parsed (config/routes.ts); null or absent when there is none. */
  readonly routes?: readonly RoutePolicy[] | null;
}

export function createServices(options: ServiceOptions): Services {
  const clock = options.clock ?? systemClock;
  const auditStore = auditRepository(options.store.db);
  const audit = createAuditLog({
    store: auditStore,
    clock,
    newId: () => newId('evt'),
    onError: (error, pending) =>
      options.logger.warn(
        { err: { message: (error as Error).message }, pending },
        'audit events could not be written; retrying',
      ),
  });
  const rateLimiter = createMemoryRateLimiter({ clock, maxKeys: options.config.rateLimit.maxKeys });
  const userServices = createUserServices(options.config, options.store, options.logger, audit, clock);
  const base = {
    config: options.config,
    store: options.store,
    logger: options.logger,
    clock,
    sealedBox: options.sealedBox,
    audit,
    auditStore,
    adminCredentials: adminCredentialRepository(options.store.db),
    metrics: createMetrics(),
    routes: createActiveRoutes(options.routes ?? null),
    rateLimiter,
    apiKeys: createApiKeyService({
      store: apiKeyRepository(options.store.db),
      settings: options.config.apiKeys,
      limiter: rateLimiter,
      clock,
      newId: () => newId('key'),
      onLastUsedError: (error, pending) =>
        options.logger.warn(
          { err: { message: (error as Error).message }, pending },
          'API key last-used times could not be written; retrying',
        ),
      // docs/api-keys.md "Importing existing keys": every legacy key in use is a reminder to rotate it.
      onLegacyKeyUsed: (key) => {
        options.logger.warn(
          { key_id: key.id, name: key.name },
          `legacy API key ${key.id} was used; rotate it (gatehouse apikey rotate ${key.id})`,
        );
        audit.record({ actor: 'system', action: 'apikey.legacy_used', target: key.id, details: { name: key.name } });
      },
    }),
    ...userServices,
  };
  const refreshTokenStore = refreshTokenRepository(options.store.db);
  // One user directory for /auth/login, Basic's verifier and the OAuth login page.
  const users = userDirectory(userServices.passwordVerifier, userServices.users);
  const tokens = createTokens({
    config: options.config,
    clock,
    sealedBox: options.sealedBox,
    audit,
    signingKeys: signingKeyRepository(options.store.db),
    refreshTokenStore,
    revocations: revocationRepository(options.store.db),
    users,
    onError: (error, context) =>
      options.logger.warn({ err: { message: (error as Error).message } }, `${context} failed; keeping the last copy`),
  });
  let pipeline: Pipeline | undefined;
  const oauth = createOAuthServices({
    config: options.config,
    store: options.store,
    clock,
    logger: options.logger,
    audit,
    ports: {
      ...oauthTokenPorts({ tokens, config: options.config, clock, refreshTokenStore }),
      users,
    },
    pipeline: () => pipeline as Pipeline,
  });
  const withOAuth = {
    ...base,
    tokens,
    oauth,
    tokenTranslator: createTokenTranslator({ issue: (request) => tokens.accessTokens.issue(request), clock }),
  };
  const authenticators = options.config.auth.methods.flatMap((name) => {
    const factory = AUTHENTICATOR_FACTORIES[name];
    return factory ? [factory(withOAuth)] : [];
  });
  pipeline = createPipeline(authenticators, { budget: createFailureBudget(options.config.verifyBudget), clock });
  observeCaches(withOAuth);
  return { ...withOAuth, pipeline };
}

/** Users, password hashing, the login throttle and the Basic verification cache. */
function createUserServices(
  config: GatehouseConfig,
  store: Store,
  logger: Logger,
  audit: AuditLog,
  clock: Clock,
): Pick<Services, 'users' | 'passwordVerifier' | 'basicCache'> {
  const users = userRepository(store.db);
  const hasher = createPasswordHasher({
    argon2: config.passwords.argon2,
    pepper: config.passwords.pepper === undefined ? undefined : decodeMasterKey(config.passwords.pepper),
  });
  const basicCache = createVerificationCache<Identity>({
    ttlMs: config.basic.cacheTtlMs,
    maxEntries: config.basic.cacheMaxEntries,
    clock,
  });
  const blocklistFile = config.passwords.blocklistFile;
  const passwordVerifier = createUserPasswordVerifier({
    users,
    hasher,
    throttle: createLoginThrottle(createMemoryThrottleStore(), config.throttle),
    audit,
    clock,
    warn: (message, details) => logger.warn(details, message),
  });
  return {
    passwordVerifier,
    basicCache,
    users: createUserService({
      users,
      hasher,
      policy: {
        minLength: config.passwords.minLength,
        ...(blocklistFile ? { blocklist: readBlocklist(blocklistFile) } : {}),
      },
      audit,
      clock,
      newId: () => newId('usr'),
      onUserChanged: (userId) => basicCache.invalidateUser(userId),
    }),
  };
}

function readBlocklist(file: string): Set<string> {
  try {
    return parsePasswordBlocklist(readFileSync(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError([`passwords.blocklist_file: cannot read ${file} (${code})`]);
  }
}

export interface Listeners {
  public: string | null;
  admin: string | null;
  proxy: string | null;
}

export interface GatehouseApps {
  readonly public: FastifyInstance;
  readonly admin: FastifyInstance;
  /** Only when the config has a `routes` section. */
  readonly proxy: FastifyInstance | null;
}

export interface AppOptions {
  readonly services: Services;
  readonly isShuttingDown: () => boolean;
  /** The bound addresses, known after listening; for the status endpoint. */
  readonly listeners: () => Listeners;
  readonly startedAt?: Date;
  /** Certificate and key for HTTPS on the public (and gateway) listeners; null for plain HTTP. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer } | null;
  /** `/auth/verify` answers in-memory decisions ahead of Fastify's router (default true). */
  readonly fastLane?: boolean;
}

export async function buildApps(options: AppOptions): Promise<GatehouseApps> {
  const { services, isShuttingDown } = options;
  const trustProxy = services.config.trustProxy;
  const publicApp = createFastify({
    logger: services.logger.child({ listener: 'public' }),
    logRequests: false,
    https: options.tls ?? null,
    trustProxy,
  });
  await publicApp.register(publicSurface, {
    store: services.store,
    pipeline: services.pipeline,
    audit: services.audit,
    isShuttingDown,
    routes: services.routes,
    metrics: services.metrics,
    tokenTranslator: services.tokenTranslator,
    limiter: services.rateLimiter,
    tokens: services.tokens,
    jwksMaxAgeMs: services.config.keys.jwksMaxAgeMs,
    trustProxy,
    fastLane: options.fastLane ?? true,
    decisions: services.config.decisionLog,
    transport: secretTransportPolicy(services.config),
  });
  await publicApp.register(oauthSurface, {
    issuer: services.config.issuer,
    audit: services.audit,
    clientAuth: services.oauth.clientAuth,
    tokenEndpoint: services.oauth.tokenEndpoint,
    introspector: services.oauth.introspector,
    revoker: services.oauth.revoker,
    metadata: services.oauth.metadata,
    accessTokens: services.oauth.ports.accessTokens,
    users: () => services.oauth.ports.users,
    transport: secretTransportPolicy(services.config),
    authorize: {
      clients: services.oauth.clients,
      flow: services.oauth.flow,
      sessions: services.oauth.sessions,
      interactions: services.oauth.interactions,
      users: () => services.oauth.ports.users,
      audit: services.audit,
      clock: services.clock,
      secureCookies: services.config.oauth.secureCookies,
      sessionTtlMs: services.config.oauth.sessionTtlMs,
    },
  });

  const adminApp = createFastify({
    logger: services.logger.child({ listener: 'admin' }),
    logRequests: true,
    trustProxy,
  });
  await adminApp.register(adminSurface, {
    store: services.store,
    users: services.users,
    adminCredentials: services.adminCredentials,
    audit: services.audit,
    auditStore: services.auditStore,
    apiKeys: services.apiKeys,
    clock: services.clock,
    isShuttingDown,
    metrics: services.metrics,
    metricsToken: services.config.metrics.token,
    oauthClients: {
      clients: services.oauth.clients,
      audit: services.audit,
      clock: services.clock,
      secretGraceMs: services.config.oauth.secretGraceMs,
      users: () => services.oauth.ports.users,
      checkJwksUri: (uri) => services.oauth.outbound.checkUrl(uri),
    },
    keyRing: services.tokens.keyRing,
    tokenService: services.tokens.service,
    status: {
      version: VERSION,
      store: { kind: services.store.kind, description: services.store.description },
      startedAt: options.startedAt ?? new Date(),
      listeners: options.listeners,
      get issuer() {
        return services.tokens.identity.issuer;
      },
    },
  });
  return { public: publicApp, admin: adminApp, proxy: await buildGateway(services, isShuttingDown, options.tls) };
}

/** The gateway listener's app, when routes are configured. */
async function buildGateway(
  services: Services,
  isShuttingDown: () => boolean,
  tls: AppOptions['tls'],
): Promise<FastifyInstance | null> {
  if (services.routes.current() === null) return null;
  const app = createFastify({
    logger: services.logger.child({ listener: 'proxy' }),
    logRequests: false,
    https: tls ?? null,
    trustProxy: services.config.trustProxy,
    // Bodies stream to the upstream for as long as they take; Node's headersTimeout still
    // bounds how long the request head may take to arrive.
    requestTimeout: 0,
  });
  await app.register(gatewaySurface, {
    routes: services.routes,
    limiter: services.rateLimiter,
    tokenTranslator: services.tokenTranslator,
    pipeline: services.pipeline,
    audit: services.audit,
    metrics: services.metrics,
    upstreamTimeoutMs: services.config.proxy.upstreamTimeoutMs,
    connectTimeoutMs: services.config.proxy.connectTimeoutMs,
    isShuttingDown,
    trustProxy: services.config.trustProxy,
    credentialHeaders: services.pipeline.credentialHeaders.map((name) => name.toLowerCase()),
    decisions: services.config.decisionLog,
    stripHeaders: services.config.proxy.stripHeaders,
  });
  return app;
}

/** The verification caches' own counters, read at scrape time (docs/gateway.md#metrics). */
function observeCaches(services: Omit<Services, 'pipeline'>): void {
  const { metrics, apiKeys, basicCache, tokens } = services;
  metrics.observeCache('apikey', () => {
    const stats = apiKeys.stats();
    return {
      hits: stats.hits + stats.negativeHits,
      misses: stats.lookups,
      entries: stats.cachedKeys + stats.cachedUnknown,
    };
  });
  metrics.observeCache('basic', () => ({ ...basicCache.stats, entries: basicCache.size }));
  metrics.observeCache('jwt', () => ({ ...tokens.cache.stats, entries: tokens.cache.size }));
}
