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

export function buildProgram(): Command {
  const program = new Command('gatehouse')
    .description('Gatehouse: authentication for microservices (API keys, Basic, JWT, OAuth 2.0)')
    .version(VERSION, '-V, --version')
    // Options of `gatehouse` itself only before the command: an argument like `-Vx…` is not -V.
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
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

function report(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  // Errors are told apart by their stable codes, not their classes, so that this module does not
  // import the server (store drivers, Fastify…): admin-API commands start in a fraction of the time.
  const code = (error as { code?: string }).code;
  if (code === 'ERR_CONFIG') {
    const problems = (error as { problems: readonly string[] }).problems;
    process.stderr.write(`gatehouse: invalid configuration\n${problems.map((line) => `  ${line}`).join('\n')}\n`);
    return EXIT.usage;
  }
  if (error instanceof CliError) {
    process.stderr.write(`gatehouse: ${error.message}\n`);
    return error.exitCode;
  }
  if (code === 'ERR_STORE_REFUSED' || code === 'ERR_MASTER_KEY') {
    process.stderr.write(`gatehouse: ${(error as Error).message}\n`);
    return EXIT.failed;
  }
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    process.stderr.write(`gatehouse: cannot listen: ${(error as Error).message}\n`);
    return EXIT.failed;
  }
  process.stderr.write(`gatehouse: ${(error as Error).message ?? String(error)}\n`);
  return EXIT.failed;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  process.exitCode = report(error);
}
