/**
 * The runtime-neutral half of strict compact-JWS decoding (no `node:` imports, so the WebCrypto
 * verifier of `@gatehouse/sdk/fetch` shares it): canonical unpadded base64url (RFC 7515 §2, §C)
 * and JSON objects whose member names are unique (RFC 7515 §4, RFC 7519 §4), which `JSON.parse`
 * alone would not tell: it silently keeps the last of two equal names.
 */
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** The value (0–63) of a base64url character; the input is already known to be one. */
function sextet(code: number): number {
  if (code >= 65 && code <= 90) return code - 65; // A–Z
  if (code >= 97 && code <= 122) return code - 71; // a–z
  if (code >= 48 && code <= 57) return code + 4; // 0–9
  return code === 45 ? 62 : 63; // '-' or '_'
}

/**
 * True when `text` is canonical unpadded base64url: only the alphabet, a length that is not
 * 1 mod 4, and zero bits in the unused low bits of the last character. Non-canonical encodings
 * decode to the same bytes as canonical ones, which would let one signature appear under many
 * token strings (a cache or denylist keyed by the string would miss them).
 */
export function isCanonicalBase64url(text: string): boolean {
  const remainder = text.length % 4;
  if (remainder === 1 || !BASE64URL.test(text)) return false;
  if (remainder === 0) return true;
  const last = sextet(text.charCodeAt(text.length - 1));
  return remainder === 2 ? (last & 0x0f) === 0 : (last & 0x03) === 0;
}

/**
 * Counts the members of the outermost JSON object in already-valid JSON text: every member has
 * exactly one `:` outside strings at depth one. Strings are skipped with `indexOf` (their closing
 * quote is the first `"` not escaped by an odd run of backslashes), so the scan touches only the
 * few structural characters between them.
 */
export function topLevelMemberCount(text: string): number {
  let depth = 0;
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 34 /* " */) {
      let end = text.indexOf('"', i + 1);
      while (end > 0 && isEscaped(text, end)) end = text.indexOf('"', end + 1);
      if (end < 0) return -1; // not valid JSON text: cannot match any object's member count
      i = end;
    } else if (code === 123 /* { */ || code === 91 /* [ */) depth++;
    else if (code === 125 /* } */ || code === 93 /* ] */) depth--;
    else if (code === 58 /* : */ && depth === 1) count++;
  }
  return count;
}

/** True when the character at `position` is preceded by an odd number of backslashes. */
function isEscaped(text: string, position: number): boolean {
  let backslashes = 0;
  for (let i = position - 1; i >= 0 && text.charCodeAt(i) === 92; i--) backslashes++;
  return backslashes % 2 === 1;
}

export type DecodedObject = { ok: true; value: Record<string, unknown> } | { ok: false; problem: string };

/** Decoded JSON text → an object whose member names are unique (RFC 7515 §4, RFC 7519 §4). */
export function parseJsonObject(text: string): DecodedObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problem: 'is not a JSON object' };
  }
  const object = value as Record<string, unknown>;
  if (topLevelMemberCount(text) !== Object.keys(object).length) {
    return { ok: false, problem: 'repeats a member name' };
  }
  return { ok: true, value: object };
}
