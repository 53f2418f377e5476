/**
 * Starting and stopping a Gatehouse instance: open the store, migrate, load the master key,
 * bootstrap the admin key, build the apps and listen. `stop()` drains: readiness fails at once,
 * listeners stop accepting, in-flight requests finish (bounded by `shutdown_timeout`), buffered
 * audit events are written and the store is closed.
 */
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { buildApps, createServices, type GatehouseApps, type Listeners, type Services } from './app.js';
import type { GatehouseConfig } from './config/types.js';
import type { Clock } from './core/audit/audit.js';
import { bootstrapAdminKey } from './startup/admin-key.js';
import { loadMasterKey } from './startup/master-key.js';
import { openStore, type Store } from './store/database.js';
import { metaRepository } from './store/meta-repository.js';
import { migrateToLatest } from './store/migrate.js';

export interface StartOptions {
  readonly config: GatehouseConfig;
  readonly logger: Logger;
  /** Where the one-time admin key message goes; default stderr. */
  readonly announce?: (text: string) => void;
  readonly clock?: Clock;
}

export interface RunningGatehouse {
  readonly services: Services;
  readonly apps: GatehouseApps;
  readonly urls: Listeners;
  stop(): Promise<void>;
}

export async function openMigratedStore(config: GatehouseConfig, logger: Logger): Promise<Store> {
  const store = await openStore(config.database.url, {
    poolSize: config.database.poolSize,
    connectTimeoutMs: config.database.connectTimeoutMs,
    onBackgroundError: (error) => logger.warn({ err: { message: error.message } }, 'database connection error'),
  });
  try {
    const { applied } = await migrateToLatest(store);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    return store;
  } catch (error) {
    await store.close();
    throw error;
  }
}

export async function startGatehouse(options: StartOptions): Promise<RunningGatehouse> {
  const { config, logger } = options;
  const store = await openMigratedStore(config, logger);
  let shuttingDown = false;
  const urls: Listeners = { public: null, admin: null, proxy: null };
  let apps: GatehouseApps | undefined;
  let services: Services | undefined;
  try {
    const sealedBox = await loadMasterKey({
      configured: config.masterKey,
      embedded: store.kind === 'sqlite',
      dataDir: config.dataDir,
      meta: metaRepository(store.db),
      logger,
    });
    services = createServices({ config, store, logger, sealedBox, ...(options.clock ? { clock: options.clock } : {}) });
    await bootstrapAdminKey({
      credentials: services.adminCredentials,
      preset: config.adminKey,
      dataDir: config.dataDir,
      clock: services.clock,
      logger,
      audit: services.audit,
      announce: options.announce ?? ((text) => process.stderr.write(`${text}\n`)),
    });
    apps = await buildApps({ services, isShuttingDown: () => shuttingDown, listeners: () => ({ ...urls }) });
    urls.public = await listen(apps.public, config.public.host, config.public.port, 'http');
    urls.admin = await listen(apps.admin, config.admin.host, config.admin.port, 'http');
    if (apps.proxy) urls.proxy = await listen(apps.proxy, config.proxy.host, config.proxy.port, 'http');
  } catch (error) {
    await Promise.allSettled([apps?.public.close(), apps?.admin.close(), apps?.proxy?.close()]);
    await services?.apiKeys.close();
    await services?.audit.close();
    await store.close();
    throw error;
  }
  logger.info({ ...urls, store: store.description }, 'gatehouse is ready');

  const readyApps = apps;
  const readyServices = services;
  let stopping: Promise<void> | undefined;
  return {
    services: readyServices,
    apps: readyApps,
    urls,
    stop() {
      stopping ??= (async () => {
        shuttingDown = true;
        const timeout = new Promise<'timeout'>((resolve) =>
          setTimeout(resolve, config.shutdownTimeoutMs, 'timeout').unref(),
        );
        const closed = Promise.allSettled([
          readyApps.public.close(),
          readyApps.admin.close(),
          readyApps.proxy?.close(),
        ]);
        if ((await Promise.race([closed, timeout])) === 'timeout') {
          logger.warn(
            { timeout_ms: config.shutdownTimeoutMs },
            'in-flight requests did not finish in time; closing anyway',
          );
        }
        await readyServices.apiKeys.close();
        await readyServices.audit.close();
        await store.close();
        logger.info('gatehouse stopped');
      })();
      return stopping;
    },
  };
}

async function listen(
  app: GatehouseApps['public'],
  host: string,
  port: number,
  scheme: 'http' | 'https',
): Promise<string> {
  await app.listen({ host, port });
  const address = app.server.address() as AddressInfo;
  const shownHost =
    host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return `${scheme}://${shownHost}:${address.port}`;
}
