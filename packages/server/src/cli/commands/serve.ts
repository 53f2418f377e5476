import type { Command } from 'commander';
import type { ConfigInput } from '../../config/load.js';
import { OPTIONS } from '../../config/options.js';
import { loadConfigWithRoutes } from '../../config/routes.js';
import { CliError, EXIT } from '../exit-codes.js';

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
  )
    .option('--demo', 'try Gatehouse: throw-away data, a demo route and upstream, one credential of each kind')
    .action(async (flags: Record<string, unknown>) => {
      if (flags.demo) return serveDemo(flags);
      return serve(flags);
    });
}

/** Stops `stoppable` on SIGTERM/SIGINT, then exits (1 when stopping failed). */
function exitOnSignals(stoppable: { stop(): Promise<void> }, log: (signal: string, error?: unknown) => void): void {
  const shutdown = (signal: string) => {
    log(signal);
    stoppable.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log(signal, error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

async function serveDemo(flags: Record<string, unknown>): Promise<void> {
  if (flags.config !== undefined) {
    throw new CliError('--demo runs its own throw-away configuration; drop --config', EXIT.usage);
  }
  // Loaded here, not at the top: the other commands need none of the server.
  const { startDemo } = await import('../../demo/demo.js');
  const demo = await startDemo({
    ports: { public: flags.port, admin: flags.adminPort, proxy: flags.proxyPort },
    print: (text) => process.stdout.write(text),
  });
  exitOnSignals(demo, (_signal, error) => {
    if (error) process.stderr.write(`gatehouse: error while stopping the demo: ${(error as Error).message}\n`);
  });
}

async function serve(flags: Record<string, unknown>): Promise<void> {
  const input = configInputFrom(flags, { checkDataDir: 'create' });
  const { config, routes } = loadConfigWithRoutes(input);
  // Loaded here, not at the top: the other commands need none of the server.
  const [{ createLogger }, { startGatehouse }] = await Promise.all([
    import('../../logging.js'),
    import('../../server.js'),
  ]);
  const logger = createLogger(config);
  const running = await startGatehouse({
    config,
    logger,
    routes,
    // Routes are checked against the mechanisms this process runs, not the file's new list.
    loadRoutes: () => loadConfigWithRoutes(input, { enabledMethods: config.auth.methods }),
  });
  // SIGHUP reloads the route policies; an invalid file leaves the running ones in place.
  process.on('SIGHUP', () => {
    logger.info({ signal: 'SIGHUP' }, 'reloading routes');
    running.reloadRoutes();
  });
  exitOnSignals(running, (signal, error) => {
    if (error) logger.error({ err: error }, 'error while shutting down');
    else logger.info({ signal }, 'shutting down');
  });
}
