/**
 * bcrypt, for verifying hashes imported from Apache htpasswd files (`htpasswd -B`) until their
 * owners' first login upgrades them to argon2id. Gatehouse never creates bcrypt hashes. The
 * implementation is bcryptjs (a maintained, dependency-free port), not ours.
 */
import bcrypt from 'bcryptjs';

/** `$2y$` (Apache/PHP), `$2b$` (OpenBSD) and `$2a$`: cost, then 22 salt and 31 hash characters. */
const BCRYPT = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;

/**
 * Highest accepted cost. bcryptjs runs on the main thread (in slices); cost 12 is already ~300 ms
 * of CPU per verification, and each step doubles it.
 */
export const BCRYPT_MAX_COST = 12;
export const BCRYPT_MIN_COST = 4;
/** bcrypt reads only the first 72 bytes of a password (OWASP PSCS). */
export const BCRYPT_MAX_PASSWORD_BYTES = 72;

export const isBcryptHash = (hash: string): boolean => BCRYPT.test(hash);

/** The cost of a bcrypt hash, or undefined when the text is not one. */
export function bcryptCost(hash: string): number | undefined {
  const match = BCRYPT.exec(hash);
  return match ? Number(match[1]) : undefined;
}

/**
 * True when `password` matches. A password longer than 72 bytes never matches: bcrypt would only
 * compare its first 72 bytes, and Gatehouse does not truncate passwords (docs/security.md #31). The
 * comparison still runs, so the time taken does not depend on the length.
 */
export async function verifyBcrypt(hash: string, password: string): Promise<boolean> {
  const cost = bcryptCost(hash);
  if (cost === undefined || cost < BCRYPT_MIN_COST || cost > BCRYPT_MAX_COST) return false;
  const matches = await bcrypt.compare(password, hash);
  return matches && Buffer.byteLength(password, 'utf8') <= BCRYPT_MAX_PASSWORD_BYTES;
}
