#!/usr/bin/env node
/**
 * The `gatehouse` command. `serve`, `migrate`, `config` and `secret` work locally; every other
 * command is a thin client of the admin API (see ./admin-client.ts).
 */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { registerApiKey } from './commands/apikey.js';
import { registerClient } from './commands/client.js';
import { registerConfig } from './commands/config.js';
import { registerKeys } from './commands/keys.js';
import { registerMigrate } from './commands/migrate.js';
import { registerSecret } from './commands/secret.js';
import { registerServe } from './commands/serve.js';
import { registerStatus } from './commands/status.js';
import { registerToken } from './commands/token.js';
import { registerUser } from './commands/user.js';
import { CliError, EXIT } from './exit-codes.js';
import { printJsonError } from './output.js';

/**
 * Errors as JSON (docs/cli.md): set before parsing when the command line asks a command that takes
 * `--json` for it, so that commander's own usage errors are JSON too.
 */
let jsonErrors = false;

export function buildProgram(): Command {
  const program = new Command('gatehouse')
    .description('Gatehouse: authentication for microservices (API keys, Basic, JWT, OAuth 2.0)')
    .version(VERSION, '-V, --version')
    // Options of `gatehouse` itself only before the command: an argument like `-Vx…` is not -V.
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    // Inherited by every command registered below: with --json, report() prints the one JSON error.
    .configureOutput({
      outputError: (text, write) => {
        if (!jsonErrors) write(text);
      },
      writeErr: (text) => {
        if (!jsonErrors) process.stderr.write(text);
      },
    })
    .exitOverride();
  registerServe(program);
  registerMigrate(program);
  registerConfig(program);
  registerSecret(program);
  registerStatus(program);
  registerKeys(program);
  registerApiKey(program);
  registerToken(program);
  registerUser(program);
  registerClient(program);
  return program;
}

/** Whether `args` name a command that takes `--json` and pass it (before any `--`). */
export function requestsJson(program: Command, args: readonly string[]): boolean {
  const end = args.indexOf('--');
  const words = end === -1 ? args : args.slice(0, end);
  let command = program;
  for (const word of words) {
    if (word.startsWith('-')) continue;
    const sub = command.commands.find((candidate) => candidate.name() === word || candidate.aliases().includes(word));
    if (!sub) break;
    command = sub;
  }
  return words.includes('--json') && command.options.some((option) => option.long === '--json');
}

/** What went wrong, for a person (one line on stderr) and for a script (`--json`). */
interface Failure {
  readonly exitCode: number;
  readonly code: string;
  readonly message: string;
  readonly status?: number | undefined;
  readonly errors?: unknown;
  readonly problems?: readonly string[];
}

/** `error: unknown option '--x'` → code `unknown-option`, message `unknown option '--x'`. */
function commanderFailure(error: CommanderError): Failure {
  const code = error.code.replace(/^commander\./, '').replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
  return { exitCode: EXIT.usage, code, message: error.message.replace(/^error: /, '') };
}

function describeFailure(error: unknown): Failure {
  if (error instanceof CommanderError) return commanderFailure(error);
  // Errors are told apart by their stable codes, not their classes, so that this module does not
  // import the server (store drivers, Fastify…): admin-API commands start in a fraction of the time.
  const code = (error as { code?: string }).code;
  const message = (error as Error).message ?? String(error);
  if (code === 'ERR_CONFIG') {
    const problems = (error as { problems: readonly string[] }).problems;
    return { exitCode: EXIT.usage, code: 'invalid-configuration', message: 'invalid configuration', problems };
  }
  if (error instanceof CliError) {
    return { exitCode: error.exitCode, code: error.code, message, status: error.status, errors: error.errors };
  }
  if (code === 'ERR_STORE_REFUSED') return { exitCode: EXIT.failed, code: 'store-refused', message };
  if (code === 'ERR_MASTER_KEY') return { exitCode: EXIT.failed, code: 'master-key', message };
  if (code === 'ERR_LISTEN') return { exitCode: EXIT.failed, code: 'cannot-listen', message };
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    return { exitCode: EXIT.failed, code: 'cannot-listen', message: `cannot listen: ${message}` };
  }
  return { exitCode: EXIT.failed, code: 'failed', message };
}

function report(error: unknown, json: boolean): number {
  // --help and --version end through exitOverride as well: they are no failure.
  if (error instanceof CommanderError && error.exitCode === 0) return EXIT.ok;
  const failure = describeFailure(error);
  if (json) {
    const { exitCode, code, message, status, errors, problems } = failure;
    printJsonError({
      code,
      message,
      ...(status !== undefined ? { status } : {}),
      exit_code: exitCode,
      ...(errors !== undefined ? { errors } : {}),
      ...(problems !== undefined ? { problems } : {}),
    });
  } else if (error instanceof CommanderError) {
    // commander has already said what was wrong.
  } else {
    const lines = failure.problems ? `\n${failure.problems.map((line) => `  ${line}`).join('\n')}` : '';
    process.stderr.write(`gatehouse: ${failure.message}${lines}\n`);
  }
  return failure.exitCode;
}

/**
 * A reader that stops early (`gatehouse token decode … | head`) closes the pipe: leave quietly,
 * as a Unix tool killed by SIGPIPE does, instead of crashing on the unhandled EPIPE. The exit code
 * stays the command's own (0, or a failure already reported).
 */
function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok);
  });
}

exitQuietlyOnClosedPipe(process.stdout);
exitQuietlyOnClosedPipe(process.stderr);
const program = buildProgram();
jsonErrors = requestsJson(program, process.argv.slice(2));
try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = report(error, jsonErrors);
}
