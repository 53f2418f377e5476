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

/** The error code each exit code stands for when nothing more precise is known (`--json` errors). */
const CODE_OF_EXIT: Record<number, string> = {
  [EXIT.failed]: 'failed',
  [EXIT.usage]: 'usage',
  [EXIT.unreachable]: 'unreachable',
  [EXIT.unauthorized]: 'unauthorized',
  [EXIT.notFound]: 'not-found',
};

export const codeOfExit = (exitCode: number): string => CODE_OF_EXIT[exitCode] ?? 'failed';

export interface CliErrorDetails {
  /** A stable code scripts can switch on (`--json` errors): the server's problem code when it answered. */
  readonly code?: string;
  /** The HTTP status, when a server answered. */
  readonly status?: number;
  /** Field problems the server named (RFC 9457 `errors`). */
  readonly errors?: ReadonlyArray<{ readonly field?: string; readonly message?: string }>;
}

/** An error the CLI reports as one line on stderr (a JSON object with --json), exiting with `exitCode`. */
export class CliError extends Error {
  readonly code: string;
  readonly status: number | undefined;
  readonly errors: CliErrorDetails['errors'];
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
    details: CliErrorDetails = {},
  ) {
    super(message);
    this.name = 'CliError';
    this.code = details.code ?? codeOfExit(exitCode);
    this.status = details.status;
    this.errors = details.errors;
  }
}

/**
 * The error for a refused HTTP request: the exit code follows the status, the code is the
 * problem's (`urn:gatehouse:problem:not-found` → `not-found`) or the OAuth `error`.
 */
export function httpError(
  status: number,
  message: string,
  body: { type?: unknown; error?: unknown; errors?: CliErrorDetails['errors'] } = {},
): CliError {
  const exitCode =
    status === 401 || status === 403
      ? EXIT.unauthorized
      : status === 404
        ? EXIT.notFound
        : status === 400 || status === 409 || status === 422
          ? EXIT.usage
          : EXIT.failed;
  const code =
    typeof body.type === 'string' && body.type.startsWith('urn:gatehouse:problem:')
      ? body.type.slice('urn:gatehouse:problem:'.length)
      : typeof body.error === 'string'
        ? body.error
        : undefined;
  return new CliError(message, exitCode, {
    status,
    ...(code ? { code } : {}),
    ...(Array.isArray(body.errors) ? { errors: body.errors } : {}),
  });
}
