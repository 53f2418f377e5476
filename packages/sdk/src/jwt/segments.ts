/**
 * Decoding the parts of a compact JWS strictly: base64url without padding in its canonical form
 * (RFC 7515 §2, §C), UTF-8 only (RFC 8725 §3.7), JSON objects whose member names are unique
 * (RFC 7515 §4, RFC 7519 §4). `JSON.parse` silently keeps the last of two equal names, which would
 * let a token say one thing to us and another to a different parser, so duplicates are counted.
 */
import { isUtf8 } from 'node:buffer';
import {
  base64urlByteLength,
  type DecodedObject,
  decodeBase64urlInto,
  isCanonicalBase64url,
  parseJsonObject,
} from './syntax.js';

export { type DecodedObject, isCanonicalBase64url };

/**
 * The bytes of `text.slice(start, end)` (by default all of `text`), or undefined when it is not
 * canonical base64url.
 */
export function decodeSegment(text: string, start = 0, end = text.length): Buffer | undefined {
  const bytes = Buffer.allocUnsafe(base64urlByteLength(end - start));
  return decodeBase64urlInto(text, start, end, bytes) ? bytes : undefined;
}

/** Decodes one base64url segment into a JSON object with unique member names. */
export function decodeJsonSegment(segment: string): DecodedObject {
  const bytes = decodeSegment(segment);
  if (bytes === undefined) return { ok: false, problem: 'is not canonical base64url' };
  return parseJsonBytes(bytes);
}

/** UTF-8 bytes (RFC 8725 §3.7) → a JSON object with unique member names. */
export function parseJsonBytes(bytes: Buffer): DecodedObject {
  const text = bytes.toString('utf8');
  // Invalid UTF-8 decodes to U+FFFD; only then is the full check worth its pass over the bytes
  // (a genuine U+FFFD in the text is valid UTF-8 and passes it).
  if (text.includes('\uFFFD') && !isUtf8(bytes)) return { ok: false, problem: 'is not UTF-8' };
  return parseJsonObject(text);
}
