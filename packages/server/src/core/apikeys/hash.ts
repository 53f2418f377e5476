/**
 * How API keys are stored: SHA-256 of the whole key, hex. A fast, unsalted hash is the right tool
 * here, and a slow one (Argon2, bcrypt) would be the wrong one. Slow hashes exist to make
 * guessing low-entropy secrets (passwords) expensive; a key carries 256 bits from the CSPRNG, so
 * there is nothing to guess: inverting SHA-256 or searching 2²⁵⁶ keys is infeasible at any speed.
 * What a slow hash would cost is real: every uncached verification would take tens of
 * milliseconds of CPU, which turns the verify endpoint into a denial-of-service lever.
 *
 * Why not HMAC with a pepper derived from the master key? A pepper protects secrets that could be
 * guessed once the database leaks; these cannot. It would tie every stored hash to the master key
 * (rotating the master key would invalidate every API key), cost a second hash per verification,
 * and stop an operator from finding a leaked key's record by hashing it. docs/security.md #29 and ASVS
 * 11.2.4 ask for exactly this: a typed, checksummed key of ≥128 random bits stored as SHA-256.
 * The same reasoning covers admin keys (core/admin/admin-keys.ts).
 */
import { hash, timingSafeEqual } from 'node:crypto';

/**
 * SHA-256 of the key's bytes (the key is ASCII, so UTF-8 and Latin-1 agree), as lower-case hex:
 * the stored form and the store's lookup key.
 */
export const hashApiKey = (key: string): string => hash('sha256', key, 'hex');

/**
 * The same digest as 32 Latin-1 characters, one per byte: the verification cache's key. Every
 * verification hashes this string into a Map and copies it for the constant-time comparison, and
 * half the length of hex, copied rather than decoded, is measurably cheaper on that path. (A
 * string is also cheaper to ask for than a Buffer, whose allocation costs more than the hash.)
 */
export const apiKeyDigest = (key: string): string => hash('sha256', key, 'binary');

/** A Latin-1 digest (`apiKeyDigest`) as the stored hex, and back. */
export const digestToHex = (digest: string): string => Buffer.from(digest, 'latin1').toString('hex');
export const hexToDigest = (hex: string): string => Buffer.from(hex, 'hex').toString('latin1');

const DIGEST_BYTES = 32;

/**
 * Compares a stored digest with a presented one, as `apiKeyDigest` returns it, in constant time
 * (docs/security.md #29). Only `apiKeyDigest`'s output may be passed: its characters are bytes (a
 * wider one makes the comparison fail, never pass). The presented digest is copied into a
 * scratch array, not a new buffer: the comparison runs on every verification, and it is
 * synchronous, so one array serves every request. The copy is a plain loop rather than
 * `Buffer#write(…, 'latin1')`: between a request's network I/O, a call into Node's C++ costs
 * several times what it does in a tight loop, and this one showed in the verify profile.
 */
const scratch = new Uint8Array(DIGEST_BYTES);
export function sameDigest(stored: Uint8Array, presented: string): boolean {
  if (presented.length !== DIGEST_BYTES) return false;
  let wide = 0;
  for (let i = 0; i < DIGEST_BYTES; i++) {
    const code = presented.charCodeAt(i);
    wide |= code >>> 8;
    scratch[i] = code;
  }
  return timingSafeEqual(stored, scratch) && wide === 0;
}
