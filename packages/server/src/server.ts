/**
 * Starting and stopping a Gatehouse instance: open the store, migrate, load the master key,
 * bootstrap the admin key, build the apps and listen. `stop()` drains: readiness fails at once,
 * listeners stop accepting, in-flight requests finish (bounded by `shutdown_timeout`), buffered
 * audit events are written and the store is closed.
 */
import net, { type AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { buildApps, createServices, type GatehouseApps, type Listeners, type Services } from './app.js';
import { ConfigError } from './config/load.js';
import { OPTIONS } from './config/options.js';
import type { GatehouseConfig } from './config/types.js';
import type { Clock } from './core/audit/audit.js';
import { ANONYMOUS, type RoutePolicy } from './core/policies/routes.js';
import { bootstrapAdminKey } from './startup/admin-key.js';
import { assertListenersAvailable } from './startup/listeners.js';
import { loadMasterKey } from './startup/master-key.js';
import { loadTlsCredentials } from './startup/tls.js';
import { openStore, type Store } from './store/database.js';
import { metaRepository } from './store/meta-repository.js';
import { migrateToLatest } from './store/migrate.js';

export interface StartOptions {
  readonly config: GatehouseConfig;
  readonly logger: Logger;
  /** Where the one-time admin key message goes; default stderr. */
  readonly announce?: (text: string) => void;
  readonly clock?: Clock;
  /** The parsed `routes` section; null or absent when the config has none. */
  readonly routes?: readonly RoutePolicy[] | null;
  /**
   * Re-reads the configuration for `reloadRoutes()` (SIGHUP); throws a ConfigError listing the
   * problems when the new configuration is invalid.
   */
  readonly loadRoutes?: () => { config: GatehouseConfig; routes: readonly RoutePolicy[] | null };
  /** `/auth/verify`'s fast lane (default on); tests turn it off to compare both doors. */
  readonly fastLane?: boolean;
}

export type ReloadResult =
  | { readonly ok: true; readonly routes: number }
  | { readonly ok: false; readonly problems: readonly string[] };

export interface RunningGatehouse {
  readonly services: Services;
  readonly apps: GatehouseApps;
  readonly urls: Listeners;
  /**
   * Loads the route policies again (SIGHUP). A configuration with problems changes nothing: the
   * routes in force stay, and each problem is logged on its own line. Other settings need a
   * restart; a change to them is logged.
   */
  reloadRoutes(): ReloadResult;
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
  const { logger } = options;
  // Before the store: a TLS mistake should not leave a half-started server behind.
  const tls = loadTlsCredentials(options.config);
  const scheme = tls ? 'https' : 'http';
  // Before the store, the master key and the admin key: a port in use must leave nothing behind.
  await assertListenersAvailable(options.config, options.routes != null);
  const config = await withConcretePublicPort(options.config);
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
    services = createServices({
      config,
      store,
      logger,
      sealedBox,
      routes: options.routes ?? null,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    warnAboutUnavailableMechanisms(services, options.routes ?? []);
    services.metrics.routesLoaded('startup', options.routes?.length ?? 0);
    await bootstrapAdminKey({
      credentials: services.adminCredentials,
      preset: config.adminKey,
      dataDir: config.dataDir,
      clock: services.clock,
      logger,
      audit: services.audit,
      announce: options.announce ?? ((text) => process.stderr.write(`${text}\n`)),
    });
    // Signing keys are loaded (and the first one created) before anything can ask for a token.
    await services.tokens.start();
    services.oauth.start();
    apps = await buildApps({
      services,
      isShuttingDown: () => shuttingDown,
      listeners: () => ({ ...urls }),
      tls,
      fastLane: options.fastLane ?? true,
    });
    urls.public = await listen(apps.public, config.public.host, config.public.port, scheme);
    services.tokens.identity.settle(urls.public);
    urls.admin = await listen(apps.admin, config.admin.host, config.admin.port, 'http');
    if (apps.proxy) urls.proxy = await listen(apps.proxy, config.proxy.host, config.proxy.port, scheme);
    warnAboutSecretTransport(config, logger, tls !== null);
  } catch (error) {
    await Promise.allSettled([apps?.public.close(), apps?.admin.close(), apps?.proxy?.close()]);
    await services?.apiKeys.close();
    services?.tokens.close();
    services?.oauth.close();
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
    reloadRoutes: () => reloadRoutes(readyServices, readyApps, options),
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
        readyServices.tokens.close();
        readyServices.oauth.close();
        await readyServices.audit.close();
        await store.close();
        logger.info('gatehouse stopped');
      })();
      return stopping;
    },
  };
}

/**
 * Says at start how secrets (Basic, passwords, refresh tokens, client secrets) can arrive, so a
 * refused plain-HTTP request is no surprise (docs/security.md).
 */
function warnAboutSecretTransport(config: GatehouseConfig, logger: Logger, tls: boolean): void {
  if (config.dev) {
    logger.warn(
      'dev mode: passwords, client secrets and Basic credentials are accepted over plain HTTP; never run production with --dev',
    );
  } else if (!tls && config.trustProxy.length === 0) {
    logger.warn(
      config.security.allowInsecureLoopback
        ? 'Basic authentication, /auth/login, /auth/refresh and the OAuth endpoints accept plain HTTP from loopback clients only; configure tls.cert/tls.key or trust_proxy for others'
        : 'Basic authentication needs HTTPS, as do /auth/login, /auth/refresh and the OAuth endpoints: configure tls.cert/tls.key, or trust_proxy for a TLS-terminating proxy; requests carrying secrets over plain HTTP are refused',
    );
  }
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

function reloadRoutes(services: Services, apps: GatehouseApps, options: StartOptions): ReloadResult {
  const { logger, metrics } = services;
  const fail = (problems: readonly string[]): ReloadResult => {
    for (const problem of problems) logger.error({ problem }, `routes not reloaded: ${problem}`);
    logger.error({ problems: problems.length }, 'the configuration has problems; the previous routes stay in force');
    metrics.routesLoaded('failure', services.routes.current()?.routes.length ?? 0);
    return { ok: false, problems };
  };
  if (!options.loadRoutes) return fail(['there is no configuration file to reload']);
  let loaded: ReturnType<NonNullable<StartOptions['loadRoutes']>>;
  try {
    loaded = options.loadRoutes();
  } catch (error) {
    if (error instanceof ConfigError) return fail(error.problems);
    return fail([`the configuration could not be read: ${(error as Error).message}`]);
  }
  const changed = [...options.config.values.keys()].filter(
    (key) => JSON.stringify(loaded.config.values.get(key)) !== JSON.stringify(options.config.values.get(key)),
  );
  if (changed.length > 0) {
    logger.warn({ settings: changed }, 'settings other than routes changed; they take effect on restart');
  }
  // Removing the section would silently relax forward auth to "any valid credential": instead
  // the routes become empty, which denies everything until the section is back or a restart.
  const routes = loaded.routes ?? [];
  if (loaded.routes === null && services.routes.current() !== null) {
    logger.warn('the routes section was removed: every request is denied until it is restored (or after a restart)');
  }
  if (routes.length > 0 && apps.proxy === null) {
    logger.warn('routes are configured now, but the gateway listener only starts at startup: restart to start it');
  }
  services.routes.replace(routes);
  warnAboutUnavailableMechanisms(services, routes);
  metrics.routesLoaded('success', routes.length);
  logger.info({ routes: routes.map((route) => route.name) }, 'routes reloaded');
  return { ok: true, routes: routes.length };
}

/** A route naming a mechanism that no authenticator provides denies every request: say so. */
function warnAboutUnavailableMechanisms(services: Services, routes: readonly RoutePolicy[]): void {
  const available = new Set(services.pipeline.authenticators.map((authenticator) => authenticator.name));
  for (const route of routes) {
    const missing = route.auth.filter((name) => name !== ANONYMOUS && !available.has(name));
    if (missing.length > 0) {
      services.logger.warn(
        { route: route.name, missing },
        `route "${route.name}" accepts ${missing.join(', ')}, which this server cannot verify; those credentials are refused`,
      );
    }
  }
}

/**
 * With `public.port: 0` (tests, ad-hoc runs) the default issuer would name port 0: pick the free
 * port first so that the issuer, derived from the public listener's address, is one clients can
 * call. An explicitly configured issuer is kept as is.
 */
async function withConcretePublicPort(config: GatehouseConfig): Promise<GatehouseConfig> {
  if (config.public.port !== 0) return config;
  const port = await new Promise<number>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, config.public.host, () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  const values = new Map(config.values);
  values.set('public.port', port);
  let issuer = config.issuer;
  if (config.sources.get('issuer') === 'default') {
    const issuerOption = OPTIONS.find((option) => option.key === 'issuer');
    issuer = String(typeof issuerOption?.default === 'function' ? issuerOption.default(values) : config.issuer);
    values.set('issuer', issuer);
  }
  return Object.freeze({ ...config, public: Object.freeze({ ...config.public, port }), issuer, values });
}
