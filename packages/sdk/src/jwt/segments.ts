/**
 * Decoding the parts of a compact JWS strictly: base64url without padding in its canonical form
 * (RFC 7515 §2, §C), UTF-8 only (RFC 8725 §3.7), JSON objects whose member names are unique
 * (RFC 7515 §4, RFC 7519 §4). `JSON.parse` silently keeps the last of two equal names, which would
 * let a token say one thing to us and another to a different parser, so duplicates are counted.
 */
import { isUtf8 } from 'node:buffer';
import { isCanonicalBase64url, topLevelMemberCount } from './syntax.js';

export { isCanonicalBase64url };

export type DecodedObject = { ok: true; value: Record<string, unknown> } | { ok: false; problem: string };

/** Decodes one base64url segment into a JSON object with unique member names. */
export function decodeJsonSegment(segment: string): DecodedObject {
  const bytes = Buffer.from(segment, 'base64url');
  if (!isUtf8(bytes)) return { ok: false, problem: 'is not UTF-8' };
  const text = bytes.toString('utf8');
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
