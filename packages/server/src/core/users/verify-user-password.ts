/**
 * Checking a username and password: the one path every password login takes (HTTP Basic, and
 * `POST /auth/login`). Framework-free; the steps, in order:
 *
 * 1. the throttle: refuse at once while the username or client IP must wait (no hashing);
 * 2. a username that cannot be canonical, an empty password or one longer than any stored one
 *    cannot match, and is refused without hashing (this reveals nothing: the rules are public);
 * 3. find the user by canonical username; store failures throw (the caller answers 503);
 * 4. `verifyHash`: argon2id (or an imported bcrypt hash); for an unknown username, the same
 *    argon2id work against a dummy hash, and a disabled account is verified all the same, so
 *    unknown user, wrong password and disabled account take the same time and give the same
 *    answer (ASVS 6.3.8, docs/security.md #33);
 * 5. on failure, count it (and audit a lockout); on success, clear the counter, rehash when the
 *    stored hash is weaker than the current settings (docs/security.md #30), note the login time and
 *    audit it.
 *
 * `throttleAdmitsRemembered` is step 1 alone, for a credential the Basic cache remembers.
 *
 * Failures are answered as values; the caller records them with `AuditLog.recordFailure` (the
 * `/auth/verify` route does so for every denial), passing `userId` as the target.
 */
import { createHash } from 'node:crypto';
import type { AuditLog, Clock } from '../audit/audit.js';
import { PasswordHashError, type PasswordHasher, passwordScheme } from '../passwords/password-hasher.js';
import { normalisePassword, PASSWORD_MAX_BYTES } from '../passwords/password-policy.js';
import type { LoginThrottle } from '../throttle/login-throttle.js';
import type { User, UserStore } from './user.js';
import { normaliseUsername } from './username.js';

export interface PasswordAttempt {
  /** As presented (it is normalised here). */
  readonly username: string;
  readonly password: string;
  /** The client's address, after trusted-proxy resolution. */
  readonly clientIp: string;
  /** Which mechanism is asking (`basic`, `login`), for audit. */
  readonly method: string;
}

/** Why a login failed; for logs and audit only, never for the caller's response body. */
export type PasswordFailureReason =
  | 'unknown_user'
  | 'wrong_password'
  | 'disabled'
  | 'malformed_username'
  | 'empty_password'
  | 'password_too_long'
  | 'unverifiable_hash';

export type PasswordVerification =
  | { readonly ok: true; readonly user: User }
  | {
      readonly ok: false;
      readonly error: 'invalid_credentials';
      readonly reason: PasswordFailureReason;
      /** The account the username names, when it exists (audit target). */
      readonly userId: string | null;
    }
  | {
      readonly ok: false;
      readonly error: 'throttled';
      readonly reason: 'throttled';
      readonly scope: 'user' | 'ip';
      /** Whole seconds, at least 1: the `Retry-After` value (RFC 9110 §10.2.3). */
      readonly retryAfterSeconds: number;
      readonly userId: null;
    };

export interface UserPasswordVerifier {
  verifyUserPassword(attempt: PasswordAttempt): Promise<PasswordVerification>;
  /**
   * For credentials verified a moment ago (the Basic verification cache): whether the throttle
   * lets this client through, answered from memory without I/O. When it does not, the caller
   * must take the full path (`verifyUserPassword`), which answers 429 exactly as it does for a
   * wrong password: a remembered success must never answer a client the throttle holds back.
   */
  throttleAdmitsRemembered(attempt: { readonly username: string; readonly clientIp: string }): boolean;
}

export interface UserPasswordVerifierOptions {
  readonly users: UserStore;
  readonly hasher: PasswordHasher;
  readonly throttle: LoginThrottle;
  readonly audit: AuditLog;
  readonly clock: Clock;
  /** Reports problems that deny a login but are the operator's to fix (a corrupt hash, a failed rehash). */
  readonly warn: (message: string, details: Record<string, unknown>) => void;
}

export function createUserPasswordVerifier(options: UserPasswordVerifierOptions): UserPasswordVerifier {
  const { users, hasher, throttle, audit, clock, warn } = options;

  const fail = async (
    attempt: { username: string; ip: string },
    reason: PasswordFailureReason,
    user: User | undefined,
  ): Promise<PasswordVerification> => {
    const now = clock.now();
    const locks = await throttle.recordFailure(attempt, now);
    for (const lock of locks) {
      audit.record({
        actor: 'system',
        action: 'auth.locked',
        target: lock.scope === 'user' ? (user?.id ?? null) : null,
        outcome: 'failure',
        ip: attempt.ip,
        details: { scope: lock.scope, failures: lock.failures, until: new Date(lock.until).toISOString() },
      });
    }
    return { ok: false, error: 'invalid_credentials', reason, userId: user?.id ?? null };
  };

  const verifyHash = async (
    user: User | undefined,
    password: string,
  ): Promise<'match' | 'mismatch' | 'unverifiable'> => {
    if (!user) return (await hasher.verifyDummy(password)) ? 'match' : 'mismatch';
    try {
      return (await hasher.verify(user.password, password)) ? 'match' : 'mismatch';
    } catch (error) {
      if (!(error instanceof PasswordHashError)) throw error;
      warn('a stored password hash cannot be checked; the login is refused', { user: user.id, problem: error.message });
      return 'unverifiable';
    }
  };

  const upgradeHash = async (user: User, password: string): Promise<void> => {
    if (!hasher.needsRehash(user.password)) return;
    try {
      const replacement = await hasher.hash(password);
      if (await users.replacePasswordHash(user.id, user.password.hash, replacement)) {
        audit.record({
          actor: 'system',
          action: 'user.password_rehashed',
          target: user.id,
          details: { from: passwordScheme(user.password.hash), to: 'argon2id' },
        });
      }
    } catch (error) {
      // The login itself succeeded; the rehash is retried at the next one.
      warn('rehashing a password at login failed', { user: user.id, problem: (error as Error).message });
    }
  };

  return {
    throttleAdmitsRemembered(attempt) {
      // `username` is the canonical name of the user the cache remembers.
      return throttle.checkRemembered({ username: attempt.username, ip: attempt.clientIp }, clock.now()).allowed;
    },

    async verifyUserPassword(attempt) {
      const canonical = normaliseUsername(attempt.username);
      // A name that cannot be canonical is counted under a digest: throttle keys stay small however
      // long the garbage an attacker sends (the counters are kept in memory).
      const key = {
        username: canonical.ok
          ? canonical.username
          : `\u0000${createHash('sha256').update(attempt.username).digest('base64')}`,
        ip: attempt.clientIp,
      };

      const gate = await throttle.check(key, clock.now());
      if (!gate.allowed) {
        return {
          ok: false,
          error: 'throttled',
          reason: 'throttled',
          scope: gate.scope,
          retryAfterSeconds: Math.max(1, Math.ceil(gate.retryAfterMs / 1000)),
          userId: null,
        };
      }

      if (!canonical.ok) return fail(key, 'malformed_username', undefined);
      // No policy ever allowed an empty password (htpasswd does; those are never accepted).
      if (attempt.password.length === 0) return fail(key, 'empty_password', undefined);
      if (Buffer.byteLength(normalisePassword(attempt.password), 'utf8') > PASSWORD_MAX_BYTES) {
        // No stored password is this long: nothing to hash.
        return fail(key, 'password_too_long', undefined);
      }

      const user = await users.findByUsername(canonical.username);
      const outcome = await verifyHash(user, attempt.password);
      if (!user) return fail(key, 'unknown_user', undefined);
      if (outcome === 'unverifiable') return fail(key, 'unverifiable_hash', user);
      if (outcome === 'mismatch') return fail(key, 'wrong_password', user);
      if (user.disabled) return fail(key, 'disabled', user);

      const now = clock.now();
      await throttle.recordSuccess(key, now);
      await upgradeHash(user, attempt.password);
      await users.recordLogin(user.id, new Date(now).toISOString());
      audit.record({
        actor: user.id,
        action: 'user.login',
        target: user.id,
        ip: attempt.clientIp,
        details: { method: attempt.method },
      });
      return { ok: true, user };
    },
  };
}
