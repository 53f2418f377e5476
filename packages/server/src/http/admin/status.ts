import type { FastifyInstance } from 'fastify';

export interface StatusInfo {
  readonly version: string;
  readonly store: { readonly kind: string; readonly description: string };
  readonly startedAt: Date;
  /** The listeners' URLs once bound (null for a listener that is not running). */
  readonly listeners: () => { public: string | null; admin: string | null; proxy: string | null };
  readonly issuer: string;
}

/** `GET /admin/v1/status`: what `gatehouse status` prints. */
export function registerStatusRoute(app: FastifyInstance, info: StatusInfo): void {
  app.get('/admin/v1/status', async () => ({
    version: info.version,
    store: info.store,
    issuer: info.issuer,
    listeners: info.listeners(),
    started_at: info.startedAt.toISOString(),
    uptime_seconds: Math.round((Date.now() - info.startedAt.getTime()) / 1000),
  }));
}
