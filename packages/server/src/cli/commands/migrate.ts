import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { ROUTES_SECTION } from '../../config/routes.js';
import { addConfigFlags, configInputFrom } from './serve.js';

export function registerMigrate(program: Command): void {
  addConfigFlags(program.command('migrate').description('apply database migrations and exit')).action(
    async (flags: Record<string, unknown>) => {
      const { config } = loadConfig(
        configInputFrom(flags, { checkDataDir: 'create', extraSections: [ROUTES_SECTION] }),
      );
      const [{ createLogger }, { openMigratedStore }] = await Promise.all([
        import('../../logging.js'),
        import('../../server.js'),
      ]);
      const logger = createLogger(config);
      const store = await openMigratedStore(config, logger);
      await store.close();
      process.stdout.write(`migrations are up to date (${store.description})\n`);
    },
  );
}
