/**
 * On first start with an empty store, creates the admin key, prints it once to stderr and writes
 * it to `<data_dir>/admin.key` (0600). Later starts reuse it silently.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { type AdminCredentialStore, ensureBootstrapAdminKey } from '../core/admin/admin-keys.js';
import type { AuditLog, Clock } from '../core/audit/audit.js';

export async function bootstrapAdminKey(options: {
  readonly credentials: AdminCredentialStore;
  readonly preset: string | undefined;
  readonly dataDir: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly audit: AuditLog;
  /** Where the one-time message goes (stderr). */
  readonly announce: (text: string) => void;
}): Promise<void> {
  const result = await ensureBootstrapAdminKey(options.credentials, options.preset, options.clock);
  const file = path.resolve(options.dataDir, 'admin.key');
  if (result.outcome === 'generated') {
    writeFileSync(file, `${result.key}\n`, { mode: 0o600 });
    options.audit.record({ actor: 'system', action: 'admin_key.created', target: 'adm_bootstrap' });
    options.announce(
      [
        '',
        '  Gatehouse admin key (shown once; also saved to the file below):',
        `    ${result.key}`,
        `  File: ${file}`,
        '  Use it as "Authorization: Bearer <key>" on the admin API; `gatehouse status` reads it from the file.',
        '',
      ].join('\n'),
    );
  } else if (result.outcome === 'preset') {
    options.logger.info('admin key taken from configuration (admin_key)');
  } else {
    options.logger.info({ file }, 'admin key exists (see the admin.key file of the data dir that first created it)');
  }
}
