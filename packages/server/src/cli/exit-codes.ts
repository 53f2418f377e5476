/**
 * Exit codes scripts can rely on (documented in docs/cli.md):
 * 0 success; 1 the operation failed; 2 invalid usage or configuration; 3 the server could not be
 * reached; 4 the admin key was refused; 5 not found.
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  unreachable: 3,
  unauthorized: 4,
  notFound: 5,
} as const;

/** An error the CLI reports as one line on stderr, exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
