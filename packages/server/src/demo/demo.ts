/**
 * `gatehouse serve --demo` (`npm run demo`): a complete Gatehouse to try in a minute.
 *
 * - a throw-away data dir (embedded SQLite) in the system temp dir, deleted on exit;
 * - every listener on 127.0.0.1 only, development mode on, errors-only logs; the environment and any
 *   config file are ignored, so the demo can never touch a real database;
 * - a built-in upstream answering `{"data": "Secure data"}` on /data, behind a gateway route that
 *   accepts every mechanism this build has;
 * - one demo credential of each kind, created through the admin API like an operator would;
 * - ready-to-paste commands on stdout.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAdminClient } from '../cli/admin-client.js';
import { loadConfig } from '../config/load.js';
import { generateAdminKey } from '../core/admin/admin-keys.js';
import type { RoutePolicy } from '../core/policies/routes.js';
import { createLogger } from '../logging.js';
import { type RunningGatehouse, startGatehouse } from '../server.js';
import { type DemoContext, demoCredentials } from './credentials.js';

export interface DemoOptions {
  /** Ports from `--port`, `--admin-port`, `--proxy-port` as given (0 picks free ones); validated like any port. */
  readonly ports?: { public?: unknown; admin?: unknown; proxy?: unknown };
  /** Where the banner goes (stdout). */
  readonly print?: (text: string) => void;
}

export interface RunningDemo {
  readonly gatehouse: RunningGatehouse;
  readonly banner: string;
  stop(): Promise<void>;
}

export const DEMO_BODY = { data: 'Secure data' };

/** The built-in upstream: `{"data": "Secure data"}` on /data and below, 404 elsewhere. */
async function startDemoUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    const found = request.url === '/data' || request.url?.startsWith('/data/') || request.url?.startsWith('/data?');
    response.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
    response.end(JSON.stringify(found ? DEMO_BODY : { error: 'Not found' }));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function startDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-demo-'));
  const removeData = () => rmSync(dataDir, { recursive: true, force: true });
  const upstream = await startDemoUpstream();
  const adminKey = generateAdminKey();
  try {
    const { config } = loadConfig({
      env: {},
      flags: {
        data_dir: dataDir,
        dev: true,
        admin_key: adminKey,
        master_key: randomBytes(32).toString('hex'),
        'public.host': '127.0.0.1',
        'admin.host': '127.0.0.1',
        'proxy.host': '127.0.0.1',
        'public.port': options.ports?.public ?? 4000,
        'admin.port': options.ports?.admin ?? 4001,
        'proxy.port': options.ports?.proxy ?? 4002,
        'log.level': 'error',
        // The printed Bearer commands keep working for a whole session.
        'tokens.access_ttl': '12h',
      },
      checkDataDir: 'create',
    });
    const route: RoutePolicy = {
      name: 'data',
      match: { path: '/data', exact: false, host: null, methods: null, caseSensitive: true },
      upstream: upstream.url,
      stripPrefix: false,
      preserveHost: false,
      // Every mechanism the build runs, in the default order.
      auth: [...config.auth.methods],
      scopes: [],
      rateLimit: null,
      forward: 'headers',
      audience: null,
      timeoutMs: null,
      responses: { 401: { error: 'Unauthorized' }, 403: { error: 'Forbidden' } },
    };
    const gatehouse = await startGatehouse({
      config,
      logger: createLogger(config),
      routes: [route],
      announce: () => {},
    });
    const urls = gatehouse.urls as { public: string; admin: string; proxy: string };
    const context: DemoContext = {
      urls,
      adminKey,
      // The CLI's admin client: the demo sets up its credentials as an operator would.
      admin: createAdminClient({ adminUrl: urls.admin, adminKey }, {}),
      hasMechanism: (name) =>
        gatehouse.services.pipeline.authenticators.some((authenticator) => authenticator.name === name),
    };
    const lines: string[] = [];
    const missing: string[] = [];
    for (const credential of demoCredentials()) {
      const commands = await credential.provision(context);
      if (commands === null) missing.push(credential.title);
      else lines.push(`  # ${credential.title}`, ...commands.map((line) => `  ${line}`), '');
    }
    const banner = renderBanner({ dataDir, urls, adminKey, lines, missing });
    options.print?.(banner);
    let stopping: Promise<void> | undefined;
    return {
      gatehouse,
      banner,
      stop() {
        stopping ??= (async () => {
          await gatehouse.stop();
          await upstream.close();
          removeData();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await upstream.close();
    removeData();
    throw error;
  }
}

function renderBanner(parts: {
  dataDir: string;
  urls: { public: string; admin: string; proxy: string };
  adminKey: string;
  lines: string[];
  missing: string[];
}): string {
  const { urls } = parts;
  return [
    '',
    'Gatehouse demo is running.',
    '',
    `  gateway   ${urls.proxy}   route "data": ${urls.proxy}/data → built-in upstream {"data": "Secure data"}`,
    `  public    ${urls.public}   /auth/verify, health`,
    `  admin     ${urls.admin}   admin API, /metrics`,
    `  admin key ${parts.adminKey}`,
    `  data      ${parts.dataDir} (throw-away, deleted on exit)`,
    '',
    'Try it:',
    '',
    '  # Without a credential: 401',
    `  curl -i ${urls.proxy}/data`,
    '',
    ...parts.lines,
    ...(parts.missing.length > 0 ? [`Not in this build yet: ${parts.missing.join(', ')}.`, ''] : []),
    `  # Metrics: curl ${urls.admin}/metrics`,
    '',
    'Press Ctrl+C to stop.',
    '',
  ].join('\n');
}
