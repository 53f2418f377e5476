/**
 * The CLI's client of the admin API. Every management command is a thin wrapper over one call
 * here: the admin API is the only way the CLI changes state (except `serve`, `migrate`, `secret`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CliError, EXIT, httpError } from './exit-codes.js';
import { createTransport } from './transport.js';

export interface AdminConnectionOptions {
  readonly adminUrl?: string | undefined;
  readonly adminKey?: string | undefined;
  readonly dataDir?: string | undefined;
  /** `--cacert FILE`: CA certificates (PEM) to trust for an https:// admin URL. */
  readonly cacert?: string | undefined;
}

export interface AdminClient {
  request<T = unknown>(method: string, route: string, body?: unknown): Promise<T>;
}

/**
 * The admin key, from (in order) `--admin-key`, `GATEHOUSE_ADMIN_KEY`, `GATEHOUSE_ADMIN_KEY_FILE`,
 * or `<data dir>/admin.key` (data dir from `--data-dir`, `GATEHOUSE_DATA_DIR`, else `./data`).
 */
export function resolveAdminKey(options: AdminConnectionOptions, env = process.env): string {
  if (options.adminKey) return options.adminKey;
  if (env.GATEHOUSE_ADMIN_KEY) return env.GATEHOUSE_ADMIN_KEY.trim();
  const candidates = [
    env.GATEHOUSE_ADMIN_KEY_FILE,
    path.join(options.dataDir ?? env.GATEHOUSE_DATA_DIR ?? './data', 'admin.key'),
  ].filter((file): file is string => typeof file === 'string');
  for (const file of candidates) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      // try the next place
    }
  }
  throw new CliError(
    `no admin key: pass --admin-key, set GATEHOUSE_ADMIN_KEY, or run where ${candidates.at(-1)} exists (--data-dir)`,
    EXIT.usage,
  );
}

export function createAdminClient(options: AdminConnectionOptions, env = process.env): AdminClient {
  const base = (options.adminUrl ?? env.GATEHOUSE_ADMIN_URL ?? 'http://127.0.0.1:4001').replace(/\/+$/, '');
  const key = resolveAdminKey(options, env);
  const transport = createTransport({ cacert: options.cacert, what: 'the admin API' });
  return {
    async request<T>(method: string, route: string, body?: unknown): Promise<T> {
      // Fails with a CliError that says why: not running, or a TLS certificate refused.
      const response = await transport.request(`${base}${route}`, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      let payload: unknown;
      try {
        payload = text ? JSON.parse(text) : undefined;
      } catch {
        payload = undefined;
      }
      if (response.ok) return payload as T;
      const problem = (payload ?? {}) as {
        type?: string;
        detail?: string;
        title?: string;
        errors?: Array<{ field?: string; message?: string }>;
      };
      // Several field problems (an import naming many lines) read better one per line.
      const message =
        problem.errors && problem.errors.length > 1
          ? `${response.status} ${problem.title ?? response.statusText}:\n${problem.errors.map((item) => `  ${item.message}`).join('\n')}`
          : `${response.status} ${problem.detail ?? problem.title ?? response.statusText}`;
      const refused = response.status === 401 || response.status === 403;
      throw httpError(response.status, refused ? `the admin API refused the admin key: ${message}` : message, problem);
    },
  };
}
