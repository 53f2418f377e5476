/**
 * Telling "the store is unreachable or broken" apart from programming errors, so that the HTTP
 * layer answers 503 (and keeps answering it until the store is back) instead of 500.
 */

/** PostgreSQL SQLSTATE classes that mean the database is unavailable, not that the query is wrong. */
const PG_UNAVAILABLE_CLASSES = ['08', '53', '57', '58'];
const NODE_NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|CORRUPT|NOTADB|FULL|READONLY|PROTOCOL)/;
const PG_POOL_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Client has encountered a connection error',
  'Cannot use a pool after calling end',
  // SQLSTATE 55000 at connect time: the database refuses connections (maintenance, ALLOW_CONNECTIONS false).
  'is not currently accepting connections',
];

export class StoreUnavailableError extends Error {
  readonly code = 'ERR_STORE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

export function isStoreUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof StoreUnavailableError) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NODE_NET_CODES.has(code) || SQLITE_UNAVAILABLE.test(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && PG_UNAVAILABLE_CLASSES.includes(code.slice(0, 2))) return true;
  }
  if (PG_POOL_MESSAGES.some((message) => error.message.includes(message))) return true;
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error && isStoreUnavailable(cause);
}

/**
 * True for a unique-constraint violation: SQLite `SQLITE_CONSTRAINT_UNIQUE` (or the primary-key
 * variant), PostgreSQL SQLSTATE 23505. Repositories turn it into a domain error.
 */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
