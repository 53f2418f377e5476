import type { Command } from 'commander';
import { type AdminConnectionOptions, createAdminClient } from '../admin-client.js';
import { formatRecord, printJson } from '../output.js';

/** The flags `addAdminOptions` adds, as commander hands them to an action. */
export interface AdminFlags extends AdminConnectionOptions {
  readonly json?: boolean;
}

/** Options every admin-API command takes. */
export function addAdminOptions(command: Command): Command {
  return command
    .option('--admin-url <url>', 'admin API base URL (or GATEHOUSE_ADMIN_URL; default http://127.0.0.1:4001)')
    .option('--admin-key <key>', 'admin key (prefer GATEHOUSE_ADMIN_KEY or the admin.key file: flags show in `ps`)')
    .option('--data-dir <dir>', 'where to find admin.key (or GATEHOUSE_DATA_DIR; default ./data)')
    .option('--cacert <file>', 'CA certificates (PEM) to trust for an https:// admin URL (or NODE_EXTRA_CA_CERTS)')
    .option('--json', 'print JSON for scripts');
}

interface Status {
  version: string;
  store: { kind: string; description: string };
  issuer: string;
  listeners: Record<string, string | null>;
  started_at: string;
  uptime_seconds: number;
}

export function registerStatus(program: Command): void {
  addAdminOptions(
    program.command('status').description('show the running server: version, store, listeners, uptime'),
  ).action(async (options: { adminUrl?: string; adminKey?: string; dataDir?: string; json?: boolean }) => {
    const status = await createAdminClient(options).request<Status>('GET', '/admin/v1/status');
    if (options.json) return printJson(status);
    process.stdout.write(
      `${formatRecord([
        ['version', status.version],
        ['store', `${status.store.kind} (${status.store.description})`],
        ['issuer', status.issuer],
        ['public', status.listeners.public ?? 'not running'],
        ['admin', status.listeners.admin ?? 'not running'],
        ['proxy', status.listeners.proxy ?? 'not running (no routes configured)'],
        ['uptime', formatUptime(status.uptime_seconds)],
      ])}\n`,
    );
  });
}

function formatUptime(seconds: number): string {
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return [days && `${days}d`, hours && `${hours}h`, minutes && `${minutes}m`, `${seconds % 60}s`]
    .filter(Boolean)
    .join(' ');
}
