/**
 * The public listener: health, `/auth/verify`, and (with later features) `/auth/login`, the
 * OAuth/OIDC endpoints and the JWKS.
 */
import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../../core/audit/audit.js';
import type { Pipeline } from '../../core/pipeline/pipeline.js';
import type { ActiveRoutes } from '../../core/policies/routes.js';
import type { TokenTranslator } from '../../core/policies/token-translation.js';
import type { RateLimiter } from '../../core/ratelimit/limiter.js';
import type { Tokens } from '../../core/tokens/tokens.js';
import type { SecretTransportPolicy } from '../../core/transport/secret-transport.js';
import type { GatehouseMetrics } from '../../observability/metrics.js';
import type { Store } from '../../store/database.js';
import type { DecisionLogLevel } from '../decision-log.js';
import { registerHealthRoutes } from '../health.js';
import { notFoundHandler, problemErrorHandler } from '../problem.js';
import { registerJwksRoute } from './jwks.js';
import { registerTokenRoutes } from './tokens.js';
import { registerVerifyRoute } from './verify.js';

export interface PublicSurfaceOptions {
  readonly store: Store;
  readonly pipeline: Pipeline;
  readonly audit: AuditLog;
  readonly isShuttingDown: () => boolean;
  readonly routes: ActiveRoutes;
  readonly metrics: GatehouseMetrics;
  readonly tokenTranslator: TokenTranslator;
  readonly limiter: RateLimiter;
  readonly tokens: Tokens;
  readonly jwksMaxAgeMs: number;
  /** The listener's `trust_proxy` list. */
  readonly trustProxy?: readonly string[];
  /** `/auth/verify`'s fast lane (default true). */
  readonly fastLane?: boolean;
  /** `log.decisions` (default `info`). */
  readonly decisions?: DecisionLogLevel;
  /** When plain HTTP may carry a secret (login, refresh, logout). */
  readonly transport: SecretTransportPolicy;
}

export async function publicSurface(app: FastifyInstance, options: PublicSurfaceOptions): Promise<void> {
  app.setErrorHandler(problemErrorHandler);
  app.setNotFoundHandler(notFoundHandler);
  registerHealthRoutes(app, options);
  registerVerifyRoute(app, options);
  registerJwksRoute(app, { keyRing: options.tokens.keyRing, maxAgeMs: options.jwksMaxAgeMs });
  registerTokenRoutes(app, { tokens: options.tokens, audit: options.audit, transport: options.transport });
}
