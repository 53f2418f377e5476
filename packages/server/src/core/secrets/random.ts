/**
 * Random identifiers and secrets, all from the operating system's CSPRNG (`crypto.randomBytes`).
 * Every secret Gatehouse hands out carries at least 128 bits of entropy (RFC 6749 §10.10,
 * ASVS 11.5.1); the defaults here carry 256.
 */
import { randomBytes, randomInt } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `bytes` random bytes as base64url (no padding). */
export function randomBase64url(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * A uniformly random base62 string carrying at least `bytes` × 8 bits: each character is drawn
 * with `randomInt`, which rejects out-of-range samples, so there is no modulo bias.
 */
export function randomBase62(bytes = 32): string {
  const length = Math.ceil((bytes * 8) / Math.log2(62));
  let out = '';
  for (let i = 0; i < length; i++) out += BASE62[randomInt(62)];
  return out;
}

/**
 * A typed, prefixed identifier such as `key_3hK…` or `usr_9aB…` (the Stripe/Unkey convention:
 * the prefix tells a reader what the id names). 16 random bytes: unguessable and collision-free.
 */
export function newId(prefix: string): string {
  return `${prefix}_${randomBase62(16)}`;
}
