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

/** Each base64url character's value (0–63), by character code; 64 marks every other character. */
const NOT_BASE64URL = 64;
const SEXTETS = new Uint8Array(128).fill(NOT_BASE64URL);
for (let value = 0; value < 64; value++) {
  SEXTETS['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.charCodeAt(value)] = value;
}

/** How many bytes `length` characters of unpadded base64url decode to. */
export const base64urlByteLength = (length: number): number => (length * 3) >>> 2;

/**
 * Decodes `text.slice(start, end)`, canonical unpadded base64url (see `isCanonicalBase64url`),
 * into the first `base64urlByteLength(end - start)` bytes of `out`; answers false, with `out` in
 * an unspecified state, when it is not canonical. Reads `text` in place: a JWT's segments are
 * decoded without slicing them out first.
 *
 * Written here rather than left to `Buffer.from(text, 'base64url')` because Node's native decoder
 * (simdutf) runs AVX-512 code on CPUs that have it, and when that code runs once between long
 * stretches of other work — one token among HTTP parsing and a signature check — the vector units'
 * wake-up costs far more than the decoding: on this project's Xeon, 2 µs per call around an RS256
 * check and 5 µs around an ES256 one, against well under a microsecond for this loop
 * (bench/jwt-verify.mjs; `SIMDUTF_FORCE_IMPLEMENTATION=haswell` makes the difference vanish).
 */
export function decodeBase64urlInto(text: string, start: number, end: number, out: Uint8Array): boolean {
  const remainder = (end - start) % 4;
  if (remainder === 1) return false;
  // `codes` collects every character code (a code above 127 is not base64url), `values` every
  // sextet (NOT_BASE64URL sets its bit 6): one test after the loop instead of one per character.
  let codes = 0;
  let values = 0;
  let o = 0;
  let i = start;
  for (const whole = end - remainder; i < whole; i += 4) {
    const c0 = text.charCodeAt(i);
    const c1 = text.charCodeAt(i + 1);
    const c2 = text.charCodeAt(i + 2);
    const c3 = text.charCodeAt(i + 3);
    codes |= c0 | c1 | c2 | c3;
    const s0 = SEXTETS[c0 & 127] as number;
    const s1 = SEXTETS[c1 & 127] as number;
    const s2 = SEXTETS[c2 & 127] as number;
    const s3 = SEXTETS[c3 & 127] as number;
    values |= s0 | s1 | s2 | s3;
    const group = (s0 << 18) | (s1 << 12) | (s2 << 6) | s3;
    out[o] = group >> 16;
    out[o + 1] = group >> 8;
    out[o + 2] = group;
    o += 3;
  }
  if (remainder !== 0) {
    const c0 = text.charCodeAt(i);
    const c1 = text.charCodeAt(i + 1);
    const c2 = remainder === 3 ? text.charCodeAt(i + 2) : 65; // 'A', a zero sextet
    codes |= c0 | c1 | c2;
    const s0 = SEXTETS[c0 & 127] as number;
    const s1 = SEXTETS[c1 & 127] as number;
    const s2 = SEXTETS[c2 & 127] as number;
    values |= s0 | s1 | s2;
    const group = (s0 << 18) | (s1 << 12) | (s2 << 6);
    out[o] = group >> 16;
    if (remainder === 3) out[o + 1] = group >> 8;
    // RFC 7515 §C: the bits past the last whole byte are zero in the canonical encoding.
    if ((remainder === 2 ? s1 & 0x0f : s2 & 0x03) !== 0) return false;
  }
  return codes < 128 && (values & NOT_BASE64URL) === 0;
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
