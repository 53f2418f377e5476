import { type Command, Option } from 'commander';
import type { ConfigInput } from '../../config/load.js';
import { envName, fileFlagName, flagName, SHORT_FLAGS } from '../../config/names.js';
import { OPTIONS, type OptionSpec } from '../../config/options.js';
import { loadConfigWithRoutes } from '../../config/routes.js';
import { CliError, EXIT } from '../exit-codes.js';

/** One command-line flag of a setting. */
interface ConfigFlag {
  readonly key: string;
  /** `value`: the setting; `file`: a file holding it; `refused`: a secret given as a value. */
  readonly kind: 'value' | 'file' | 'refused';
  readonly option: Option;
}

/** The first sentence of a doc, for `--help` ("e.g." and "i.e." do not end it). */
function firstSentence(doc: string): string {
  const end = /(?<!\be\.g|\bi\.e)\.(?=\s)/.exec(doc);
  return end ? doc.slice(0, end.index + 1) : doc;
}

/** The help heading of an option: its top-level section. */
function helpGroup(option: OptionSpec): string {
  const dot = option.key.indexOf('.');
  return dot === -1 ? 'General settings:' : `Settings ${option.key.slice(0, dot)}.*:`;
}

/** Every flag of every setting, derived from the option table by the naming rule (config/names.ts). */
function buildConfigFlags(): readonly ConfigFlag[] {
  const flags: ConfigFlag[] = [];
  for (const option of OPTIONS) {
    const env = envName(option.key);
    const group = helpGroup(option);
    const describe = (text: string) => `${text} (${env})`;
    const describeFile = (text: string) => `${text} Read from FILE (like ${env}_FILE).`;
    if (option.secret) {
      flags.push({
        key: option.key,
        kind: 'file',
        option: new Option(`--${fileFlagName(option.key)} <file>`, describeFile(firstSentence(option.doc))),
      });
      // Registered, hidden, so that the refusal is explained rather than "unknown option".
      flags.push({
        key: option.key,
        kind: 'refused',
        option: new Option(`--${flagName(option.key)} <value>`).hideHelp(),
      });
    } else {
      const value = option.type === 'boolean' ? '[true|false]' : '<value>';
      flags.push({
        key: option.key,
        kind: 'value',
        option: new Option(`--${flagName(option.key)} ${value}`, describe(firstSentence(option.doc))),
      });
      const short = SHORT_FLAGS[option.key];
      if (short) {
        flags.push({
          key: option.key,
          kind: 'value',
          option: new Option(`--${short} ${value}`, `short for --${flagName(option.key)}`),
        });
      }
    }
    for (const flag of flags) if (flag.key === option.key) flag.option.helpGroup(group);
  }
  return flags;
}

export const CONFIG_FLAGS = buildConfigFlags();

/**
 * Adds `--config` and the flags of the settings to `command` (`only`: the settings the command
 * honours; all by default). Fresh Option objects each time: commander keeps state in them.
 */
export function addConfigFlags(command: Command, only: (key: string) => boolean = () => true): Command {
  command.option('-c, --config <file>', 'YAML config file (or GATEHOUSE_CONFIG)');
  for (const flag of CONFIG_FLAGS) {
    if (!only(flag.key)) continue;
    const option = new Option(flag.option.flags, flag.option.description);
    if (flag.option.hidden) option.hideHelp();
    if (flag.option.helpGroupHeading) option.helpGroup(flag.option.helpGroupHeading);
    command.addOption(option);
  }
  return command;
}

/** Turns commander's parsed flags into `ConfigInput`, keyed by option key. */
export function configInputFrom(flags: Record<string, unknown>, extra: Partial<ConfigInput> = {}): ConfigInput {
  const values: Record<string, unknown> = {};
  const files: Record<string, string> = {};
  const origins: Record<string, string> = {};
  for (const flag of CONFIG_FLAGS) {
    const given = flags[flag.option.attributeName()];
    if (given === undefined) continue;
    const name = flag.option.long ?? flag.option.flags;
    if (flag.kind === 'refused') {
      throw new CliError(
        `${name}: a secret is not taken on the command line, where every local user can read it (ps, /proc) and shells record it; use --${fileFlagName(flag.key)} FILE or ${envName(flag.key)}_FILE`,
        EXIT.usage,
      );
    }
    const previous = origins[flag.key];
    if (previous !== undefined) throw new CliError(`${previous} and ${name} set the same setting; use one`, EXIT.usage);
    origins[flag.key] = name;
    if (flag.kind === 'file') files[flag.key] = String(given);
    else values[flag.key] = given;
  }
  return { file: flags.config as string | undefined, flags: values, flagFiles: files, flagOrigins: origins, ...extra };
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
  const ports = configInputFrom(flags).flags ?? {};
  // Loaded here, not at the top: the other commands need none of the server.
  const { startDemo } = await import('../../demo/demo.js');
  const demo = await startDemo({
    ports: { public: ports['public.port'], admin: ports['admin.port'], proxy: ports['proxy.port'] },
    print: (text) => process.stdout.write(text),
  });
  exitOnSignals(demo, (_signal, error) => {
    if (error) process.stderr.write(`gatehouse: error while stopping the demo: ${(error as Error).message}\n`);
  });
}

async function serve(flags: Record<string, unknown>): Promise<void> {
  const input = configInputFrom(flags, { checkDataDir: 'create' });
  const { config, routes, warnings } = loadConfigWithRoutes(input);
  // Loaded here, not at the top: the other commands need none of the server.
  const [{ createLogger }, { startGatehouse }] = await Promise.all([
    import('../../logging.js'),
    import('../../server.js'),
  ]);
  const logger = createLogger(config);
  for (const warning of warnings) logger.warn(warning);
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
