import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { configReference, describeConfig, describeConfigJson } from '../../config/load.js';
import { loadConfigWithRoutes } from '../../config/routes.js';
import { starterConfig } from '../../config/starter.js';
import { CliError, EXIT } from '../exit-codes.js';
import { formatTable, printJson } from '../output.js';
import { addConfigFlags, configInputFrom } from './serve.js';

/** Deprecated names in use (and, for print, unknown variables) go to stderr: stdout stays parseable. */
function warn(warnings: readonly string[]): void {
  for (const warning of warnings) process.stderr.write(`gatehouse: warning: ${warning}\n`);
}

/**
 * Writes the starter file with mode 0600 (it may come to hold secrets). Without `force` an
 * existing file is never touched ('wx' fails atomically); with it, the new file replaces the old
 * one by rename, so that the result is 0600 whatever the old file's mode was.
 */
function writeStarter(file: string, text: string, force: boolean): void {
  if (!force) {
    try {
      writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST')
        throw new CliError(`${file} already exists; it was left untouched (--force overwrites it)`, EXIT.usage);
      throw new CliError(`cannot write ${file} (${code ?? 'error'})`);
    }
    return;
  }
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new CliError(`cannot write ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

export function registerConfig(program: Command): void {
  const config = program.command('config').description('write, validate and show configuration');

  addConfigFlags(
    config
      .command('check')
      .description(
        'validate the configuration (flags, GATEHOUSE_* variables, file) without starting; exit 2 on problems, including unknown GATEHOUSE_* variables',
      ),
  ).action((flags: Record<string, unknown>) => {
    const { routes, warnings } = loadConfigWithRoutes(configInputFrom(flags, { checkDataDir: true, strictEnv: true }));
    warn(warnings);
    const summary = routes === null ? '' : ` (${routes.length} route${routes.length === 1 ? '' : 's'})`;
    process.stdout.write(`configuration is valid${summary}\n`);
  });

  addConfigFlags(config.command('print').description('show the effective configuration, secrets masked'))
    .option('--json', 'print JSON: typed values, durations as "15m", unset as null')
    .action((flags: Record<string, unknown>) => {
      const loaded = loadConfigWithRoutes(configInputFrom(flags));
      warn(loaded.warnings);
      if (flags.json) {
        printJson(describeConfigJson(loaded.config));
        return;
      }
      process.stdout.write(
        `${formatTable(describeConfig(loaded.config), [
          { header: 'key', value: (row) => row.key },
          { header: 'value', value: (row) => row.value },
          { header: 'source', value: (row) => row.source },
        ])}\n`,
      );
    });

  config
    .command('init')
    .description('write a commented starter config file: every setting at its default, commented out')
    .option('-o, --output <file>', 'where to write it; - for stdout', 'gatehouse.yaml')
    .option('--force', 'overwrite the file if it exists')
    .action((flags: { output: string; force?: boolean }) => {
      const text = starterConfig();
      if (flags.output === '-') {
        process.stdout.write(text);
        return;
      }
      writeStarter(flags.output, text, flags.force === true);
      process.stdout.write(`wrote ${flags.output}; check it with: gatehouse config check --config ${flags.output}\n`);
    });

  config
    .command('reference')
    .description('print the configuration reference as Markdown (docs/configuration.md)')
    .action(() => {
      process.stdout.write(configReference());
    });
}
