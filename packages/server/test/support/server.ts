/**
 * Boots a real Gatehouse on ephemeral ports, in-process, with a fresh data dir and database, and
 * hands back its URLs and admin key. Tests then speak HTTP to it like any client would.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { type LoadedGatehouseConfig, loadConfigWithRoutes } from '../../src/config/routes.js';
import type { Clock } from '../../src/core/audit/audit.js';
import { createLogger } from '../../src/logging.js';
import { type RunningGatehouse, startGatehouse } from '../../src/server.js';
import { createTestDatabase, type StoreKind, type TestDatabase, tempDir } from './databases.js';
import { openServerLog, recordJsonSecrets, recordSecret } from './secret-scan.js';

export interface TestServer {
  readonly kind: StoreKind;
  readonly publicUrl: string;
  readonly adminUrl: string;
  /** The gateway listener, when routes are configured. */
  readonly proxyUrl: string | null;
  readonly adminKey: string;
  readonly dataDir: string;
  readonly running: RunningGatehouse;
  /** Every log line written so far, as text (for redaction tests). */
  readonly logs: string[];
  /** What the server printed once at first start (the admin key banner). */
  readonly announcements: string[];
  /** Calls the admin API with the admin key; JSON in, parsed JSON out. */
  admin(method: string, route: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  /** Extra environment (GATEHOUSE_* names) on top of the test defaults. */
  readonly env?: Record<string, string>;
  /** YAML config file path. */
  readonly configFile?: string;
  /** Route policies, written as the `routes` section of a config file in the data dir. */
  readonly routes?: readonly unknown[];
  /** Reuse an existing data dir / database (restart tests). */
  readonly dataDir?: string;
  readonly databaseUrl?: string;
  readonly masterKey?: string;
  /** An injected clock (rotation and expiry tests move time instead of sleeping). */
  readonly clock?: Clock;
}

export const TEST_MASTER_KEY = 'a'.repeat(64);

export async function startTestServer(kind: StoreKind, options: TestServerOptions = {}): Promise<TestServer> {
  const dir = options.dataDir ? undefined : tempDir();
  const dataDir = options.dataDir ?? (dir?.path as string);
  const database: TestDatabase | undefined = options.databaseUrl ? undefined : await createTestDatabase(kind, dataDir);
  const databaseUrl = options.databaseUrl ?? (database as TestDatabase).url;
  const env: Record<string, string> = {
    GATEHOUSE_DATA_DIR: dataDir,
    GATEHOUSE_DATABASE_URL: databaseUrl,
    GATEHOUSE_HOST: '127.0.0.1',
    GATEHOUSE_PORT: '0',
    GATEHOUSE_ADMIN_PORT: '0',
    GATEHOUSE_PROXY_HOST: '127.0.0.1',
    GATEHOUSE_PROXY_PORT: '0',
    GATEHOUSE_LOG_LEVEL: 'debug',
    GATEHOUSE_SHUTDOWN_TIMEOUT: '3s',
    // Tests speak plain HTTP on loopback: allow it, as a sidecar deployment would (docs/security.md),
    // unless the test sets either spelling itself (the tests of the HTTPS rule do).
    ...(options.env?.GATEHOUSE_SECURITY_ALLOW_INSECURE_LOOPBACK === undefined &&
    options.env?.GATEHOUSE_BASIC_ALLOW_INSECURE_LOOPBACK === undefined
      ? { GATEHOUSE_SECURITY_ALLOW_INSECURE_LOOPBACK: 'true' }
      : {}),
    ...(kind === 'postgres' || options.masterKey ? { GATEHOUSE_MASTER_KEY: options.masterKey ?? TEST_MASTER_KEY } : {}),
    ...options.env,
  };
  let configFile = options.configFile;
  if (options.routes) {
    configFile = path.join(dataDir, 'gatehouse.yaml');
    writeRoutesFile(configFile, options.routes);
  }
  const input = { env, file: configFile, checkDataDir: 'create' as const };
  const loaded: LoadedGatehouseConfig = loadConfigWithRoutes(input);
  const logs: string[] = [];
  // Every line also goes to a file of the run, which the secret scan reads (./secret-scan.ts).
  const logFile = openServerLog(kind);
  for (const name of ['GATEHOUSE_ADMIN_KEY', 'GATEHOUSE_MASTER_KEY'] as const) {
    recordSecret(name === 'GATEHOUSE_ADMIN_KEY' ? 'admin_key' : 'master_key', env[name]);
  }
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      logFile?.write(String(chunk));
      callback();
    },
  });
  const announcements: string[] = [];
  const running = await startGatehouse({
    config: loaded.config,
    logger: createLogger(loaded.config, sink),
    announce: (text) => announcements.push(text),
    routes: loaded.routes,
    loadRoutes: () => loadConfigWithRoutes(input, { enabledMethods: loaded.config.auth.methods }),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  // Empty when another instance on the same database generated the key (concurrent-start tests).
  const keyFile = path.join(dataDir, 'admin.key');
  const adminKey = env.GATEHOUSE_ADMIN_KEY ?? (existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : '');
  recordSecret('admin_key', adminKey);
  const publicUrl = running.urls.public as string;
  const adminUrl = running.urls.admin as string;
  return {
    kind,
    publicUrl,
    adminUrl,
    proxyUrl: running.urls.proxy,
    adminKey,
    dataDir,
    running,
    logs,
    announcements,
    async admin(method, route, body) {
      const response = await fetch(`${adminUrl}${route}`, {
        method,
        headers: {
          authorization: `Bearer ${adminKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      const parsed = text ? JSON.parse(text) : undefined;
      // What the admin API creates (keys, client secrets, passwords set) is recorded for the scan.
      recordJsonSecrets(body);
      recordJsonSecrets(parsed);
      return { status: response.status, body: parsed, headers: response.headers };
    },
    async stop() {
      await running.stop();
      logFile?.close();
      if (!options.dataDir) {
        await database?.drop();
        dir?.remove();
      }
    },
  };
}

/** Writes a config file whose only section is `routes` (for reload tests, rewrite and reload). */
export function writeRoutesFile(file: string, routes: unknown): void {
  writeFileSync(file, stringify({ routes }));
}
