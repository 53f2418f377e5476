/**
 * Builds Gatehouse from a validated config and an open store: the domain services, then one
 * Fastify instance per listener. Nothing here listens on a port (see ./server.ts), so tests and
 * embedders can build an app and drive it however they like.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { GatehouseConfig } from './config/types.js';
import type { AdminCredentialStore } from './core/admin/admin-keys.js';
import { type ApiKeyService, createApiKeyService } from './core/apikeys/service.js';
import { type AuditLog, type AuditStore, type Clock, createAuditLog, systemClock } from './core/audit/audit.js';
import { createPipeline, type Pipeline } from './core/pipeline/pipeline.js';
import type { Authenticator } from './core/pipeline/types.js';
import type { RateLimiter } from './core/ratelimit/limiter.js';
import { createMemoryRateLimiter } from './core/ratelimit/memory-limiter.js';
import { newId } from './core/secrets/random.js';
import type { SealedBox } from './core/secrets/sealed-box.js';
import { adminSurface } from './http/admin/index.js';
import { createFastify } from './http/fastify.js';
import { publicSurface } from './http/public/index.js';
import { adminCredentialRepository } from './store/admin-credential-repository.js';
import { apiKeyRepository } from './store/api-key-repository.js';
import { auditRepository } from './store/audit-repository.js';
import type { Store } from './store/database.js';
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
  /** Shared by every feature that throttles (API keys, gateway routes). */
  readonly rateLimiter: RateLimiter;
  readonly apiKeys: ApiKeyService;
  readonly pipeline: Pipeline;
}

/**
 * How each authentication mechanism is built. A feature that adds a mechanism adds its factory
 * here; `auth.methods` in the config picks which run and in what order.
 */
type AuthenticatorFactory = (services: Omit<Services, 'pipeline'>) => Authenticator;
const AUTHENTICATOR_FACTORIES: Partial<Record<GatehouseConfig['auth']['methods'][number], AuthenticatorFactory>> = {
  apikey: (services) => services.apiKeys.authenticator,
};

export interface ServiceOptions {
  readonly config: GatehouseConfig;
  readonly store: Store;
  readonly logger: Logger;
  readonly sealedBox: SealedBox;
  readonly clock?: Clock;
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
  const base = {
    config: options.config,
    store: options.store,
    logger: options.logger,
    clock,
    sealedBox: options.sealedBox,
    audit,
    auditStore,
    adminCredentials: adminCredentialRepository(options.store.db),
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
    }),
  };
  const authenticators = options.config.auth.methods.flatMap((name) => {
    const factory = AUTHENTICATOR_FACTORIES[name];
    return factory ? [factory(base)] : [];
  });
  return { ...base, pipeline: createPipeline(authenticators) };
}

export interface Listeners {
  public: string | null;
  admin: string | null;
  proxy: string | null;
}

export interface GatehouseApps {
  readonly public: FastifyInstance;
  readonly admin: FastifyInstance;
  /** Only when gateway routes are configured (a later feature). */
  readonly proxy: FastifyInstance | null;
}

export interface AppOptions {
  readonly services: Services;
  readonly isShuttingDown: () => boolean;
  /** The bound addresses, known after listening; for the status endpoint. */
  readonly listeners: () => Listeners;
  readonly startedAt?: Date;
}

export async function buildApps(options: AppOptions): Promise<GatehouseApps> {
  const { services, isShuttingDown } = options;
  const publicApp = createFastify({ logger: services.logger.child({ listener: 'public' }), logRequests: false });
  await publicApp.register(publicSurface, {
    store: services.store,
    pipeline: services.pipeline,
    audit: services.audit,
    isShuttingDown,
  });

  const adminApp = createFastify({ logger: services.logger.child({ listener: 'admin' }), logRequests: true });
  await adminApp.register(adminSurface, {
    store: services.store,
    adminCredentials: services.adminCredentials,
    audit: services.audit,
    auditStore: services.auditStore,
    apiKeys: services.apiKeys,
    clock: services.clock,
    isShuttingDown,
    status: {
      version: VERSION,
      store: { kind: services.store.kind, description: services.store.description },
      startedAt: options.startedAt ?? new Date(),
      listeners: options.listeners,
      issuer: services.config.issuer,
    },
  });
  return { public: publicApp, admin: adminApp, proxy: null };
}
