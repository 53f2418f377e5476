/**
 * Keyset pagination shared by every list endpoint: rows are ordered by (a sort column, id), and
 * the opaque cursor carries the last row's pair, so pages stay stable while rows are added.
 * The HTTP convention: `?limit=50&cursor=…` → `{ "data": [...], "next_cursor": "…" | null }`.
 */

export interface Cursor {
  readonly sort: string;
  readonly id: string;
}

export const encodeCursor = (cursor: Cursor): string =>
  Buffer.from(JSON.stringify([cursor.sort, cursor.id]), 'utf8').toString('base64url');

/** Undefined for a cursor that is not one of ours (the HTTP layer answers 400). */
export function decodeCursor(text: string): Cursor | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      return { sort: value[0], id: value[1] };
    }
  } catch {
    // fall through
  }
  return undefined;
}

/** Given `limit + 1` fetched rows, the page and the cursor of the next one. */
export function pageOf<T>(
  rows: T[],
  limit: number,
  cursorOf: (row: T) => Cursor,
): { rows: T[]; nextCursor: string | null } {
  if (rows.length <= limit) return { rows, nextCursor: null };
  const page = rows.slice(0, limit);
  const last = page[page.length - 1] as T;
  return { rows: page, nextCursor: encodeCursor(cursorOf(last)) };
}

export class InvalidCursorError extends Error {
  readonly code = 'ERR_INVALID_CURSOR';
  constructor() {
    super('cursor is not valid');
    this.name = 'InvalidCursorError';
  }
}
