/**
 * Password hashing: argon2id (via @node-rs/argon2, running on libuv's thread pool) at or above
 * the OWASP Password Storage Cheat Sheet parameters (m=19 MiB, t=2, p=1; docs/security.md #30). Each
 * hash is a PHC string that records its own algorithm, version, parameters and unique random
 * salt, so the parameters can be raised later: `needsRehash` tells the login path to rehash a
 * hash made with weaker settings, a bcrypt import, or without the configured pepper.
 */
import { createHash } from 'node:crypto';
import { type Algorithm, hash as argon2Hash, verify as argon2Verify, parseOptions } from '@node-rs/argon2';
import { randomBase64url } from '../secrets/random.js';
import { isBcryptHash, verifyBcrypt } from './bcrypt.js';
import { normalisePassword } from './password-policy.js';

/** OWASP Password Storage Cheat Sheet, argon2id: the minimum Gatehouse accepts in config. */
export const ARGON2_FLOOR = Object.freeze({ memoryKib: 19_456, iterations: 2, parallelism: 1 });

// `Algorithm` is a const enum in the binding's types; isolatedModules cannot inline it.
const ARGON2ID = 2 as Algorithm.Argon2id;
/** Argon2 version 0x13 as the binding numbers it (`Version.V0x13`). */
const ARGON2_V13 = 1;

export interface Argon2Parameters {
  readonly memoryKib: number;
  readonly iterations: number;
  readonly parallelism: number;
}

/** A password hash as stored: the hash text and which pepper (if any) was mixed in. */
export interface StoredPassword {
  /** A PHC string (`$argon2id$v=19$m=…`) or, for htpasswd imports, a bcrypt hash. */
  readonly hash: string;
  /** Identifies the pepper used (not the pepper itself); null when none was. */
  readonly pepperId: string | null;
}

export type PasswordScheme = 'argon2id' | 'bcrypt' | 'unknown';

export interface PasswordHasher {
  readonly parameters: Argon2Parameters;
  hash(password: string): Promise<StoredPassword>;
  /**
   * True when `password` matches. Throws `PasswordHashError` for a stored value it cannot check
   * (corrupt, or made with a pepper that is not configured): callers deny and report it.
   */
  verify(stored: StoredPassword, password: string): Promise<boolean>;
  /**
   * Spends the same work as verifying a real argon2id hash at the current parameters and
   * answers false: for unknown usernames, so that their response time matches a wrong password
   * for a real user (docs/security.md #33).
   */
  verifyDummy(password: string): Promise<false>;
  /** True when the stored hash is weaker than the current settings and should be replaced. */
  needsRehash(stored: StoredPassword): boolean;
}

export class PasswordHashError extends Error {
  readonly code = 'ERR_PASSWORD_HASH';
  constructor(message: string) {
    super(message);
    this.name = 'PasswordHashError';
  }
}

export function passwordScheme(hash: string): PasswordScheme {
  if (hash.startsWith('$argon2id$')) return 'argon2id';
  if (isBcryptHash(hash)) return 'bcrypt';
  return 'unknown';
}

/** A short public fingerprint of the pepper, stored beside each hash made with it. */
export const pepperIdOf = (pepper: Uint8Array): string =>
  createHash('sha256').update('gatehouse password pepper id\u0000').update(pepper).digest('hex').slice(0, 16);

export interface PasswordHasherOptions {
  readonly argon2: Argon2Parameters;
  /** Optional pepper: the argon2 secret input (RFC 9106 §3.1 "K"), kept outside the database. */
  readonly pepper?: Uint8Array | undefined;
}

export function createPasswordHasher(options: PasswordHasherOptions): PasswordHasher {
  const { argon2 } = options;
  if (
    argon2.memoryKib < ARGON2_FLOOR.memoryKib ||
    argon2.iterations < ARGON2_FLOOR.iterations ||
    argon2.parallelism < ARGON2_FLOOR.parallelism
  ) {
    throw new RangeError('argon2id parameters below the OWASP floor (m=19456 KiB, t=2, p=1)');
  }
  const pepper = options.pepper;
  const pepperId = pepper ? pepperIdOf(pepper) : null;
  const hashOptions = {
    algorithm: ARGON2ID,
    memoryCost: argon2.memoryKib,
    timeCost: argon2.iterations,
    parallelism: argon2.parallelism,
    ...(pepper ? { secret: pepper } : {}),
  };

  const hash = async (password: string): Promise<StoredPassword> => ({
    // The binding draws a fresh 16-byte salt from the OS CSPRNG for every hash.
    hash: await argon2Hash(normalisePassword(password), hashOptions),
    pepperId,
  });

  // Made on first use, at the current parameters, for a password nobody knows.
  let dummy: Promise<string> | undefined;
  const dummyHash = () => {
    dummy ??= argon2Hash(randomBase64url(32), hashOptions);
    return dummy;
  };

  const verifyArgon2 = async (stored: StoredPassword, password: string): Promise<boolean> => {
    if (stored.pepperId !== null && stored.pepperId !== pepperId) {
      throw new PasswordHashError(
        'the hash was made with a pepper that is not configured (passwords.pepper changed or missing)',
      );
    }
    try {
      return await argon2Verify(
        stored.hash,
        normalisePassword(password),
        stored.pepperId !== null && pepper ? { secret: pepper } : {},
      );
    } catch (error) {
      throw new PasswordHashError(`the stored argon2 hash cannot be checked: ${(error as Error).message}`);
    }
  };

  const verifyDummy = async (password: string): Promise<false> => {
    await argon2Verify(await dummyHash(), normalisePassword(password), pepper ? { secret: pepper } : {});
    return false;
  };

  return {
    parameters: argon2,
    hash,
    verifyDummy,
    async verify(stored, password) {
      switch (passwordScheme(stored.hash)) {
        case 'argon2id':
          return verifyArgon2(stored, password);
        case 'bcrypt': {
          // An imported bcrypt hash (often cost 5) is much cheaper than argon2id: do the dummy
          // argon2id work alongside it, so these accounts do not answer faster than unknown ones.
          // htpasswd hashed the bytes as typed, so bcrypt gets the password unnormalised.
          const [, matches] = await Promise.all([verifyDummy(password), verifyBcrypt(stored.hash, password)]);
          return matches;
        }
        default:
          throw new PasswordHashError('the stored password hash has an unknown format');
      }
    },
    needsRehash(stored) {
      if (passwordScheme(stored.hash) !== 'argon2id') return true;
      if (stored.pepperId !== pepperId) return true;
      try {
        const parsed = parseOptions(stored.hash);
        return (
          parsed.version !== ARGON2_V13 ||
          parsed.memoryCost < argon2.memoryKib ||
          parsed.timeCost < argon2.iterations ||
          parsed.parallelism < argon2.parallelism ||
          parsed.saltLen < 16 ||
          parsed.outputLen < 32
        );
      } catch {
        return true;
      }
    },
  };
}
