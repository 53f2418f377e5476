/**
 * Failed-login throttling per username and per client IP (ASVS 6.1.1, 6.3.1, 2.4.1;
 * docs/security.md #32). For each counter, after `freeAttempts` failures every further attempt must
 * wait an exponentially growing delay (`backoffBase` × 2^(failures − freeAttempts), at most
 * `backoffMax`); from `lockAfter` failures on, the wait is `lockDuration`. Attempts made while
 * waiting are refused without checking the password (429 + Retry-After) and do not count.
 *
 * So that an attacker cannot lock a victim out (docs/security.md #32), the username counter has two
 * halves: failures from clients the user has recently logged in from ("familiar": same username
 * and IP, within `familiarTtl`) count against that pair only, and failures from anywhere else
 * against the username. An attacker hammering `alice` locks `alice` for strangers, not for
 * Alice at her usual address. Locks end by themselves; a success clears the counter it used.
 *
 * Unknown usernames are throttled exactly like known ones: a 429 says nothing about existence
 * (docs/security.md #33).
 *
 * `checkRemembered` is the same decision for a credential the Basic verification cache already
 * knows to be right, answered from memory: the cache may only answer a client this throttle lets
 * through, or a 429 for every wrong guess and a 200 for the right one would tell an attacker the
 * password (issue 15, finding 1). A client it lets through has logged in successfully, so it
 * becomes familiar, as after a checked login; a remembered success neither counts nor clears.
 */
import type { FailureRecord, ThrottleStore } from './throttle-store.js';

export interface ThrottleLimits {
  readonly freeAttempts: number;
  readonly lockAfter: number;
}

export interface ThrottlePolicy {
  readonly user: ThrottleLimits;
  readonly ip: ThrottleLimits;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly lockDurationMs: number;
  readonly resetAfterMs: number;
  readonly familiarTtlMs: number;
}

export type ThrottleScope = 'user' | 'ip';

/** Who is attempting: the canonical username (or the raw text when it has none) and the IP. */
export interface LoginAttempt {
  readonly username: string;
  readonly ip: string;
}

export type ThrottleCheck =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly scope: ThrottleScope; readonly retryAfterMs: number };

export interface LockEvent {
  readonly scope: ThrottleScope;
  readonly failures: number;
  readonly until: number;
}

export interface LoginThrottle {
  check(attempt: LoginAttempt, now: number): Promise<ThrottleCheck>;
  /** `check` from memory, synchronously, for a remembered success; an allowed client becomes familiar. */
  checkRemembered(attempt: LoginAttempt, now: number): ThrottleCheck;
  /** Counts a failure; answers the counters that just reached their lock threshold. */
  recordFailure(attempt: LoginAttempt, now: number): Promise<LockEvent[]>;
  recordSuccess(attempt: LoginAttempt, now: number): Promise<void>;
}

/** How long to wait after the `failures`-th failure before the next attempt (0: no wait). */
export function waitAfter(failures: number, limits: ThrottleLimits, policy: ThrottlePolicy): number {
  if (failures >= limits.lockAfter) return policy.lockDurationMs;
  if (failures < limits.freeAttempts) return 0;
  const exponent = Math.min(failures - limits.freeAttempts, 40);
  return Math.min(policy.backoffBaseMs * 2 ** exponent, policy.backoffMaxMs);
}

export function createLoginThrottle(store: ThrottleStore, policy: ThrottlePolicy): LoginThrottle {
  // A NUL cannot occur in a canonical username or an IP, so keys cannot collide.
  const familiarKey = (attempt: LoginAttempt) => `familiar\u0000${attempt.username}\u0000${attempt.ip}`;
  const ipKey = (attempt: LoginAttempt) => `ip\u0000${attempt.ip}`;
  const userKeyFor = (attempt: LoginAttempt, familiar: boolean) =>
    familiar ? `pair\u0000${attempt.username}\u0000${attempt.ip}` : `user\u0000${attempt.username}`;
  const userKey = async (attempt: LoginAttempt, now: number) =>
    userKeyFor(attempt, await store.recalls(familiarKey(attempt), now));

  /** The longest wait any of the two counters imposes. */
  const decide = (user: FailureRecord | undefined, ip: FailureRecord | undefined, now: number): ThrottleCheck => {
    let blocked: ThrottleCheck = { allowed: true };
    for (const [scope, record] of [
      ['user', user],
      ['ip', ip],
    ] as const) {
      if (!record) continue;
      const until = record.lastFailureAt + waitAfter(record.failures, policy[scope], policy);
      const retryAfterMs = until - now;
      if (retryAfterMs > 0 && (blocked.allowed || retryAfterMs > blocked.retryAfterMs)) {
        blocked = { allowed: false, scope, retryAfterMs };
      }
    }
    return blocked;
  };

  return {
    async check(attempt, now) {
      const [user, ip] = await store.read([await userKey(attempt, now), ipKey(attempt)], now);
      return decide(user, ip, now);
    },

    checkRemembered(attempt, now) {
      const familiar = store.recallsNow(familiarKey(attempt), now);
      const [user, ip] = store.readNow([userKeyFor(attempt, familiar), ipKey(attempt)], now);
      const decision = decide(user, ip, now);
      // Only the first remembered success from a client writes; later ones only read.
      if (decision.allowed && !familiar) {
        store.remember(familiarKey(attempt), now, policy.familiarTtlMs).catch(() => {
          // Familiarity is a convenience for the user; failing to note it denies nothing.
        });
      }
      return decision;
    },

    async recordFailure(attempt, now) {
      const keys = [await userKey(attempt, now), ipKey(attempt)];
      const [user, ip] = await store.addFailure(keys, now, policy.resetAfterMs);
      const locks: LockEvent[] = [];
      if (user?.failures === policy.user.lockAfter) {
        locks.push({ scope: 'user', failures: user.failures, until: now + policy.lockDurationMs });
      }
      if (ip?.failures === policy.ip.lockAfter) {
        locks.push({ scope: 'ip', failures: ip.failures, until: now + policy.lockDurationMs });
      }
      return locks;
    },

    async recordSuccess(attempt, now) {
      await store.clear([await userKey(attempt, now)]);
      await store.remember(familiarKey(attempt), now, policy.familiarTtlMs);
    },
  };
}
