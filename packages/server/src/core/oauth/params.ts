/**
 * Request parameters of the OAuth endpoints, from a form body or a query string, parsed with the
 * WHATWG URLSearchParams parser. RFC 6749 §3.1: "Parameters sent without a value MUST be treated
 * as if they were omitted from the request" and "Request and response parameters MUST NOT be
 * included more than once" (docs/security.md #19); the exceptions are `resource` (RFC 8707 §2) and
 * `audience` (RFC 8693 §2.1), which may repeat.
 */

export interface OAuthParams {
  /** The single value of a parameter, or undefined when absent (or empty). */
  get(name: string): string | undefined;
  /** Every value of a repeatable parameter. */
  getAll(name: string): readonly string[];
  names(): readonly string[];
}

const REPEATABLE = new Set(['resource', 'audience']);

/**
 * The parameters (first value of each) and the first non-repeatable parameter that repeats, if
 * any: the authorization endpoint must know `client_id` and `redirect_uri` to decide whether it may
 * redirect the error, so parsing does not stop at the first duplicate.
 */
export interface ParsedParams {
  readonly params: OAuthParams;
  readonly duplicate: string | undefined;
}

export function parseOAuthParams(text: string): ParsedParams {
  const values = new Map<string, string[]>();
  let duplicate: string | undefined;
  for (const [name, value] of new URLSearchParams(text)) {
    if (value === '') continue;
    const list = values.get(name);
    if (list) {
      if (REPEATABLE.has(name)) list.push(value);
      else duplicate ??= name;
    } else {
      values.set(name, [value]);
    }
  }
  return { params: paramsOf(values), duplicate };
}

export function paramsOf(values: ReadonlyMap<string, readonly string[]>): OAuthParams {
  return {
    get: (name) => values.get(name)?.[0],
    getAll: (name) => values.get(name) ?? [],
    names: () => [...values.keys()],
  };
}

/** Builds params from a plain record (stored authorization requests). */
export const paramsFromRecord = (record: Readonly<Record<string, string | readonly string[]>>): OAuthParams =>
  paramsOf(new Map(Object.entries(record).map(([name, value]) => [name, typeof value === 'string' ? [value] : value])));
