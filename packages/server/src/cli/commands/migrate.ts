import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { ROUTES_SECTION } from '../../config/routes.js';
import { addConfigFlags, configInputFrom } from './serve.js';

/**
 * The settings `migrate` uses: where the store is and how to log. Only their flags are offered;
 * the rest of the configuration (environment, file) is still validated, as `serve` would.
 */
const MIGRATE_SETTINGS = new Set([
  'data_dir',
  'database.url',
  'database.pool_size',
  'database.connect_timeout',
  'log.level',
  'log.format',
]);

export function registerMigrate(program: Command): void {
  addConfigFlags(program.command('migrate').description('apply database migrations and exit'), (key) =>
    MIGRATE_SETTINGS.has(key),
  ).action(async (flags: Record<string, unknown>) => {
    const { config, warnings } = loadConfig(
      configInputFrom(flags, { checkDataDir: 'create', extraSections: [ROUTES_SECTION] }),
    );
    const [{ createLogger }, { openMigratedStore }] = await Promise.all([
      import('../../logging.js'),
      import('../../server.js'),
    ]);
    const logger = createLogger(config);
    for (const warning of warnings) logger.warn(warning);
    const store = await openMigratedStore(config, logger);
    await store.close();
    process.stdout.write(`migrations are up to date (${store.description})\n`);
  });
}
