/**
 * Decoding the parts of a compact JWS strictly: base64url without padding in its canonical form
 * (RFC 7515 §2, §C), UTF-8 only (RFC 8725 §3.7), JSON objects whose member names are unique
 * (RFC 7515 §4, RFC 7519 §4). `JSON.parse` silently keeps the last of two equal names, which would
 * let a token say one thing to us and another to a different parser, so duplicates are counted.
 */
import { isUtf8 } from 'node:buffer';

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
function topLevelMemberCount(text: string): number {
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

/** Decodes one base64url segment into a JSON object with unique member names. */
export function decodeJsonSegment(segment: string): DecodedObject {
  const bytes = Buffer.from(segment, 'base64url');
  const text = bytes.toString('utf8');
  // Invalid UTF-8 decodes to U+FFFD; only then is the full check worth its pass over the bytes
  // (a genuine U+FFFD in the text is valid UTF-8 and passes it).
  if (text.includes('\uFFFD') && !isUtf8(bytes)) return { ok: false, problem: 'is not UTF-8' };
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
