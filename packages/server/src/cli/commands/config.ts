import type { Command } from 'commander';
import { configReference, describeConfig } from '../../config/load.js';
import { loadConfigWithRoutes } from '../../config/routes.js';
import { formatTable, printJson } from '../output.js';
import { addConfigFlags, configInputFrom } from './serve.js';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('validate and show configuration');

  addConfigFlags(
    config.command('check').description('validate the configuration without starting; exit 2 on problems'),
  ).action((flags: Record<string, unknown>) => {
    const { routes } = loadConfigWithRoutes(configInputFrom(flags, { checkDataDir: true }));
    const summary = routes === null ? '' : ` (${routes.length} route${routes.length === 1 ? '' : 's'})`;
    process.stdout.write(`configuration is valid${summary}\n`);
  });

  addConfigFlags(config.command('print').description('show the effective configuration, secrets masked'))
    .option('--json', 'print JSON')
    .action((flags: Record<string, unknown>) => {
      const rows = describeConfig(loadConfigWithRoutes(configInputFrom(flags)).config);
      if (flags.json) printJson(Object.fromEntries(rows.map((row) => [row.key, row.value])));
      else
        process.stdout.write(
          `${formatTable(rows, [
            { header: 'key', value: (row) => row.key },
            { header: 'value', value: (row) => row.value },
            { header: 'source', value: (row) => row.source },
          ])}\n`,
        );
    });

  config
    .command('reference')
    .description('print the configuration reference as Markdown (docs/configuration.md)')
    .action(() => {
      process.stdout.write(configReference());
    });
}
