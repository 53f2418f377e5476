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
 * exactly one `:` outside strings at depth one.
 */
export function topLevelMemberCount(text: string): number {
  let depth = 0;
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 34 /* " */) {
      for (i++; i < text.length; i++) {
        const inner = text.charCodeAt(i);
        if (inner === 92 /* \ */) i++;
        else if (inner === 34) break;
      }
    } else if (code === 123 /* { */ || code === 91 /* [ */) depth++;
    else if (code === 125 /* } */ || code === 93 /* ] */) depth--;
    else if (code === 58 /* : */ && depth === 1) count++;
  }
  return count;
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
