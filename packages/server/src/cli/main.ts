#!/usr/bin/env node
/**
 * The `gatehouse` command. `serve`, `migrate`, `config` and `secret` work locally; every other
 * command is a thin client of the admin API (see ./admin-client.ts).
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load.js';
import { MasterKeyError } from '../startup/master-key.js';
import { StoreRefusedError } from '../store/database.js';
import { VERSION } from '../version.js';
import { registerApiKey } from './commands/apikey.js';
import { registerConfig } from './commands/config.js';
import { registerMigrate } from './commands/migrate.js';
import { registerSecret } from './commands/secret.js';
import { registerServe } from './commands/serve.js';
import { registerStatus } from './commands/status.js';
import { CliError, EXIT } from './exit-codes.js';

export function buildProgram(): Command {
  const program = new Command('gatehouse')
    .description('Gatehouse: authentication for microservices (API keys, Basic, JWT, OAuth 2.0)')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerServe(program);
  registerMigrate(program);
  registerConfig(program);
  registerSecret(program);
  registerStatus(program);
  registerApiKey(program);
  return program;
}

function report(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof ConfigError) {
    process.stderr.write(`gatehouse: invalid configuration\n${error.problems.map((line) => `  ${line}`).join('\n')}\n`);
    return EXIT.usage;
  }
  if (error instanceof CliError) {
    process.stderr.write(`gatehouse: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof StoreRefusedError || error instanceof MasterKeyError) {
    process.stderr.write(`gatehouse: ${error.message}\n`);
    return EXIT.failed;
  }
  const code = (error as { code?: string }).code;
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
