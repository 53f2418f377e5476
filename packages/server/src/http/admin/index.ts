/**
 * The admin listener: the admin API under `/admin/v1/`, health, and `/metrics`. Every route but
 * health and metrics requires the admin key. Errors are RFC 9457 problem+json.
 */
import type { FastifyInstance } from 'fastify';
import type { AdminCredentialStore } from '../../core/admin/admin-keys.js';
import type { ApiKeyService } from '../../core/apikeys/service.js';
import type { AuditLog, AuditStore, Clock } from '../../core/audit/audit.js';
import type { KeyRing } from '../../core/tokens/key-ring.js';
import type { TokenService } from '../../core/tokens/token-service.js';
import type { UserService } from '../../core/users/user-service.js';
import type { GatehouseMetrics } from '../../observability/metrics.js';
import type { Store } from '../../store/database.js';
import { registerHealthRoutes } from '../health.js';
import { notFoundHandler, problemErrorHandler } from '../problem.js';
import { registerApiKeyRoutes } from './api-keys.js';
import { registerAuditRoutes } from './audit-events.js';
import { requireAdminKey } from './authenticate.js';
import { type ClientRoutesOptions, registerClientRoutes } from './clients.js';
import { registerMetricsRoute } from './metrics.js';
import { registerSigningKeyRoutes } from './signing-keys.js';
import { registerStatusRoute, type StatusInfo } from './status.js';
import { registerTokenAdminRoutes } from './tokens.js';
import { registerUserRoutes } from './users.js';

export interface AdminSurfaceOptions {
  readonly store: Store;
  readonly adminCredentials: AdminCredentialStore;
  readonly audit: AuditLog;
  readonly auditStore: AuditStore;
  readonly apiKeys: ApiKeyService;
  readonly clock: Clock;
  readonly status: StatusInfo;
  readonly isShuttingDown: () => boolean;
  readonly metrics: GatehouseMetrics;
  /** `metrics.token`: when set, /metrics requires it (never the admin key). */
  readonly metricsToken: string | undefined;
  readonly oauthClients?: ClientRoutesOptions;
  readonly keyRing: KeyRing;
  readonly tokenService: TokenService;
  readonly users: UserService;
}

export async function adminSurface(app: FastifyInstance, options: AdminSurfaceOptions): Promise<void> {
  app.setErrorHandler(problemErrorHandler);
  app.setNotFoundHandler(notFoundHandler);
  registerHealthRoutes(app, options);
  registerMetricsRoute(app, { metrics: options.metrics, token: options.metricsToken });
  requireAdminKey(app, options.adminCredentials, options.audit);
  registerStatusRoute(app, options.status);
  registerAuditRoutes(app, options.auditStore);
  registerApiKeyRoutes(app, { apiKeys: options.apiKeys, audit: options.audit, clock: options.clock });
  if (options.oauthClients) registerClientRoutes(app, options.oauthClients);
  registerSigningKeyRoutes(app, options.keyRing);
  registerTokenAdminRoutes(app, options.tokenService, options.audit);
  registerUserRoutes(app, options.users);
}
