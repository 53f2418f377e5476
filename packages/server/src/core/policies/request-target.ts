/**
 * Canonical request targets, so that a route's policy cannot be dodged by spelling a path
 * differently (`/data/../admin`, `//admin`, `/%61dmin`, `/%2e%2e/admin`). The gateway matches
 * and forwards the canonical path — the upstream receives exactly the path that was authorised —
 * and forward auth matches the canonical form of the URI the proxy reports.
 *
 * The canonical form of a path (RFC 3986 §6.2.2):
 * - percent-encodings of unreserved characters are decoded, other percent-encodings keep
 *   upper-case hex digits (§6.2.2.1, §6.2.2.2), characters outside `pchar` are encoded;
 * - empty segments are merged (`//data` → `/data`, as nginx's `merge_slashes` does);
 * - dot segments are removed (§5.2.4 "remove_dot_segments"), also when spelled `%2e%2e`.
 *
 * Refused outright, because servers disagree on what they mean and a disagreement between
 * the gateway and an upstream is exactly what a policy bypass needs:
 * - an encoded slash or backslash (`%2f`, `%5c`) and a raw backslash;
 * - control characters (raw or encoded, `%00`), spaces, bytes outside printable ASCII,
 *   invalid percent-encoding or UTF-8;
 * - a fragment (`#`, never part of a request target: RFC 9112 §3.2) and any form other than
 *   origin-form (`/path?query`): absolute-form and asterisk-form are not routed.
 *
 * Paths are case-sensitive (RFC 3986 §6.2.2.1); a route may opt into case-insensitive matching.
 */

export type TargetRejection =
  | 'not_origin_form'
  | 'bad_character'
  | 'encoded_slash'
  | 'bad_encoding'
  | 'fragment'
  | 'too_long';

export interface TargetFailure {
  readonly ok: false;
  readonly reason: TargetRejection;
  /** A sentence for the 400 answer. */
  readonly detail: string;
}

export type CanonicalTarget =
  | {
      readonly ok: true;
      /** The canonical path, always starting with `/`. */
      readonly path: string;
      /** The query without `?`, as the client sent it ('' when absent). */
      readonly query: string;
    }
  | TargetFailure;

/** Longer targets are refused before any work (Node's own limit is the 16 KiB header block). */
export const MAX_TARGET_LENGTH = 8192;

/** A path that is already canonical: pchar only, no `%`, no `//`, no dot segments. */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9\-._~!$&'()*+,;=:@]*)+$/;
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;
/** RFC 3986 §2.3 unreserved characters. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
/** RFC 3986 §3.3 pchar, minus pct-encoded (handled separately). */
const PCHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]$/;
/** What may appear raw in a query: printable ASCII without `#`. */
const QUERY = /^[\x21\x22\x24-\x7e]*$/;

const reject = (reason: TargetRejection, detail: string): TargetFailure => ({ ok: false, reason, detail });

/** Canonicalises a request target in origin-form (`/path?query`). */
export function canonicalTarget(target: string): CanonicalTarget {
  if (target.length > MAX_TARGET_LENGTH) {
    return reject('too_long', `The request target is longer than ${MAX_TARGET_LENGTH} characters`);
  }
  if (target.charCodeAt(0) !== 0x2f /* / */) {
    return reject('not_origin_form', 'The request target must be a path starting with "/"');
  }
  const queryStart = target.indexOf('?');
  const rawPath = queryStart === -1 ? target : target.slice(0, queryStart);
  const query = queryStart === -1 ? '' : target.slice(queryStart + 1);
  if (query.length > 0 && !QUERY.test(query)) {
    return query.includes('#')
      ? reject('fragment', 'The request target must not contain a fragment ("#")')
      : reject('bad_character', 'The query contains a character that is not allowed');
  }
  if (PLAIN_PATH.test(rawPath) && !rawPath.includes('//') && !DOT_SEGMENT.test(rawPath)) {
    return { ok: true, path: rawPath, query };
  }
  const path = canonicalPath(rawPath);
  return typeof path === 'string' ? { ok: true, path, query } : path;
}

/** The canonical form of a path, or the reason it is refused. */
export function canonicalPath(rawPath: string): string | TargetFailure {
  let encoded = '';
  let hasNonAscii = false;
  for (let i = 0; i < rawPath.length; i++) {
    const char = rawPath[i] as string;
    const code = rawPath.charCodeAt(i);
    if (char === '%') {
      const hex = rawPath.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
        return reject('bad_encoding', 'The path contains an invalid percent-encoding');
      }
      const byte = Number.parseInt(hex, 16);
      if (byte === 0x2f || byte === 0x5c) {
        return reject('encoded_slash', 'The path contains an encoded slash or backslash (%2F, %5C)');
      }
      if (byte < 0x20 || byte === 0x7f) {
        return reject('bad_character', 'The path contains an encoded control character');
      }
      if (byte >= 0x80) hasNonAscii = true;
      const decoded = String.fromCharCode(byte);
      encoded += UNRESERVED.test(decoded) ? decoded : `%${hex.toUpperCase()}`;
      i += 2;
      continue;
    }
    if (char === '#') return reject('fragment', 'The request target must not contain a fragment ("#")');
    if (char === '\\') return reject('encoded_slash', 'The path contains a backslash');
    if (code <= 0x20 || code >= 0x7f) {
      return reject('bad_character', 'The path contains a space, a control character or a non-ASCII byte');
    }
    encoded += char === '/' || PCHAR.test(char) ? char : `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  if (hasNonAscii) {
    try {
      decodeURIComponent(encoded);
    } catch {
      return reject('bad_encoding', 'The path is not valid UTF-8 once percent-decoded');
    }
  }
  return removeDotSegments(encoded);
}

/**
 * RFC 3986 §5.2.4 on an absolute path, also merging empty segments. A trailing `/`, `/.` or
 * `/..` leaves a trailing slash, as the RFC's algorithm does; `..` above the root stays at the root.
 */
function removeDotSegments(path: string): string {
  const input = path.split('/');
  const output: string[] = [];
  let trailingSlash = false;
  for (let i = 1; i < input.length; i++) {
    const segment = input[i] as string;
    const last = i === input.length - 1;
    if (segment === '' || segment === '.') {
      trailingSlash = last;
      continue;
    }
    if (segment === '..') {
      output.pop();
      trailingSlash = last;
      continue;
    }
    output.push(segment);
    trailingSlash = false;
  }
  const joined = `/${output.join('/')}`;
  return trailingSlash && output.length > 0 ? `${joined}/` : joined;
}

/**
 * The query without the parameters named in `names` (credentials the upstream must not see).
 * Names are compared after percent-decoding, so `api%5Fkey` is removed like `api_key`.
 */
export function withoutQueryParameters(query: string, names: readonly string[]): string {
  if (query.length === 0 || names.length === 0) return query;
  let changed = false;
  const kept: string[] = [];
  for (const pair of query.split('&')) {
    const equals = pair.indexOf('=');
    const rawName = equals === -1 ? pair : pair.slice(0, equals);
    let name = rawName;
    if (rawName.includes('%') || rawName.includes('+')) {
      try {
        name = decodeURIComponent(rawName.replaceAll('+', ' '));
      } catch {
        name = rawName;
      }
    }
    if (names.includes(name)) changed = true;
    else kept.push(pair);
  }
  return changed ? kept.join('&') : query;
}
