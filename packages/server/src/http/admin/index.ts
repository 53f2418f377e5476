/**
 * The admin listener: the admin API under `/admin/v1/`, health, and (later) `/metrics`. Every
 * route but health requires the admin key. Errors are RFC 9457 problem+json.
 */
import type { FastifyInstance } from 'fastify';
import type { AdminCredentialStore } from '../../core/admin/admin-keys.js';
import type { ApiKeyService } from '../../core/apikeys/service.js';
import type { AuditLog, AuditStore, Clock } from '../../core/audit/audit.js';
import type { Store } from '../../store/database.js';
import { registerHealthRoutes } from '../health.js';
import { notFoundHandler, problemErrorHandler } from '../problem.js';
import { registerApiKeyRoutes } from './api-keys.js';
import { registerAuditRoutes } from './audit-events.js';
import { requireAdminKey } from './authenticate.js';
import { registerStatusRoute, type StatusInfo } from './status.js';

export interface AdminSurfaceOptions {
  readonly store: Store;
  readonly adminCredentials: AdminCredentialStore;
  readonly audit: AuditLog;
  readonly auditStore: AuditStore;
  readonly apiKeys: ApiKeyService;
  readonly clock: Clock;
  readonly status: StatusInfo;
  readonly isShuttingDown: () => boolean;
}

export async function adminSurface(app: FastifyInstance, options: AdminSurfaceOptions): Promise<void> {
  app.setErrorHandler(problemErrorHandler);
  app.setNotFoundHandler(notFoundHandler);
  registerHealthRoutes(app, options);
  requireAdminKey(app, options.adminCredentials, options.audit);
  registerStatusRoute(app, options.status);
  registerAuditRoutes(app, options.auditStore);
  registerApiKeyRoutes(app, { apiKeys: options.apiKeys, audit: options.audit, clock: options.clock });
}
