/**
 * RFC 7617 `Basic` credentials, parsed strictly. Anything that is not exactly
 * `Basic <base64(user-id ":" password)>` with a well-formed value is refused, so that we never
 * read a credential differently from the client, a proxy or an upstream service.
 */

export type BasicCredentials = { readonly username: string; readonly password: string };

/** Why a `Basic` value is refused; for logs and audit. */
export type BasicParseProblem =
  | 'missing_value'
  | 'too_long'
  | 'invalid_base64'
  | 'invalid_utf8'
  | 'missing_colon'
  | 'empty_username'
  | 'control_character';

export type BasicHeader =
  /** The Authorization header is absent or carries another scheme. */
  | { readonly kind: 'absent' }
  | { readonly kind: 'malformed'; readonly problem: BasicParseProblem }
  /** `token68` is the base64 text exactly as sent (the verification cache keys on it). */
  | { readonly kind: 'credentials'; readonly credentials: BasicCredentials; readonly token68: string };

/**
 * Longest accepted base64 value: a 128-character username and a 1024-byte password need at
 * most ~2 KB; the cap bounds work before any decoding (RFC 9110 §11.6.2 leaves limits to us).
 */
export const BASIC_TOKEN_MAX_LENGTH = 4096;

// RFC 9110 §11.4: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]; the auth-scheme
// is a case-insensitive token (RFC 9110 §11.1, RFC 7617 §2: "Basic" is matched case-insensitively).
const SCHEME = /^basic(?: +|$)/i;
// RFC 4648 §4 base64 with padding, the alphabet RFC 7617 §2 names; no whitespace, no base64url.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// RFC 7617 §2: "The user-id and password MUST NOT contain any control characters".
const CONTROL = /\p{Cc}/u;

/** Decodes UTF-8 strictly: invalid sequences are errors, and a BOM is kept (and later refused). */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The credential text after `Basic ` exactly as sent, or undefined when the header is absent or
 * names another scheme. Cheap: the verification cache looks this up before anything is decoded.
 */
export function basicToken68(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const scheme = SCHEME.exec(header);
  return scheme ? header.slice(scheme[0].length) : undefined;
}

export function parseBasicAuthorization(header: string | undefined): BasicHeader {
  const token68 = basicToken68(header);
  if (token68 === undefined) return { kind: 'absent' };
  if (token68.length === 0) return { kind: 'malformed', problem: 'missing_value' };
  if (token68.length > BASIC_TOKEN_MAX_LENGTH) return { kind: 'malformed', problem: 'too_long' };
  if (!BASE64.test(token68)) return { kind: 'malformed', problem: 'invalid_base64' };
  const bytes = Buffer.from(token68, 'base64');
  // Canonical encoding only: unused trailing bits must be zero (RFC 4648 §3.5), so one credential
  // has exactly one spelling.
  if (bytes.toString('base64') !== token68) return { kind: 'malformed', problem: 'invalid_base64' };
  let text: string;
  try {
    // RFC 7617 §2.1: with charset="UTF-8" advertised, credentials are UTF-8; other bytes are refused.
    text = utf8.decode(bytes);
  } catch {
    return { kind: 'malformed', problem: 'invalid_utf8' };
  }
  // RFC 7617 §2: the user-id ends at the first colon; the password may contain colons.
  const colon = text.indexOf(':');
  if (colon === -1) return { kind: 'malformed', problem: 'missing_colon' };
  const username = text.slice(0, colon);
  const password = text.slice(colon + 1);
  if (username.length === 0) return { kind: 'malformed', problem: 'empty_username' };
  if (CONTROL.test(text)) return { kind: 'malformed', problem: 'control_character' };
  return { kind: 'credentials', credentials: { username, password }, token68 };
}
