import type { Command } from 'commander';
import { type ConfigInput, loadConfig } from '../../config/load.js';
import { OPTIONS } from '../../config/options.js';

/** Flags of `serve` (and of `config check|print`), generated from the option list. */
export function addConfigFlags(command: Command): Command {
  command.option('-c, --config <file>', 'YAML config file (or GATEHOUSE_CONFIG)');
  for (const option of OPTIONS) {
    if (!option.flag) continue;
    if (option.type === 'boolean') command.option(`--${option.flag}`, option.doc);
    else command.option(`--${option.flag} <value>`, option.doc);
  }
  return command;
}

/** Turns commander's parsed flags into `ConfigInput.flags`, keyed by option key. */
export function configInputFrom(flags: Record<string, unknown>, extra: Partial<ConfigInput> = {}): ConfigInput {
  const values: Record<string, unknown> = {};
  for (const option of OPTIONS) {
    if (!option.flag) continue;
    const camel = option.flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
    if (flags[camel] !== undefined) values[option.key] = flags[camel];
  }
  return { file: flags.config as string | undefined, flags: values, ...extra };
}

export function registerServe(program: Command): void {
  addConfigFlags(
    program.command('serve').description('run the server (public, admin and, with routes, proxy listeners)'),
  ).action(async (flags: Record<string, unknown>) => {
    const { config } = loadConfig(configInputFrom(flags, { checkDataDir: 'create' }));
    // Loaded here, not at the top: the other commands need none of the server.
    const [{ createLogger }, { startGatehouse }] = await Promise.all([
      import('../../logging.js'),
      import('../../server.js'),
    ]);
    const logger = createLogger(config);
    const running = await startGatehouse({ config, logger });
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      running.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'error while shutting down');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}
