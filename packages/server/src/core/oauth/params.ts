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

const HAS_NON_ASCII = /[^\x00-\x7f]/;
const NON_ASCII_RUN = /[^\x00-\x7f]+/g;

/**
 * The text with every non-ASCII character percent-encoded as its UTF-8 bytes. Node's
 * URLSearchParams (v20) misreads raw non-ASCII next to a `%` that starts no escape (`é%+` read as
 * `\ufffd% `, `é%aa` as `\ufffd`; test/core/oauth/params.fuzz.test.ts found it). The WHATWG parser
 * UTF-8-encodes its input before percent-decoding, so encoding those characters first gives it
 * the very bytes it would decode, and the reading is the spec's. A lone surrogate becomes U+FFFD,
 * as UTF-8 encoding makes it.
 */
const asciiForm = (text: string): string =>
  HAS_NON_ASCII.test(text)
    ? text.replace(NON_ASCII_RUN, (run) => encodeURIComponent(run.replace(/\p{Cs}/gu, '\uFFFD')))
    : text;

export function parseOAuthParams(raw: string): ParsedParams {
  const text = asciiForm(raw);
  const values = new Map<string, string[]>();
  let duplicate: string | undefined;
  // The URLSearchParams constructor drops one leading `?` (it takes a query string), which the
  // application/x-www-form-urlencoded parser does not: `?client_id=x` names a parameter
  // `?client_id`. A leading `&` (an empty pair, skipped by the parser) keeps the `?`.
  for (const [name, value] of new URLSearchParams(text.startsWith('?') ? `&${text}` : text)) {
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
