/**
 * A small user directory for token tests, implementing the narrow `UserDirectory` interface that
 * /auth/login uses. It stands in for the users feature (issue 4) until that lands; it keeps the
 * properties login relies on: one answer for unknown user and wrong password, constant-time
 * comparison, and throttling after repeated failures.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { LoginUser, UserDirectory } from '../../src/core/tokens/login.js';

export interface TestUser extends LoginUser {
  readonly password: string;
  active?: boolean;
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

export function testUserDirectory(
  users: readonly TestUser[],
  options: { maxFailures?: number } = {},
): UserDirectory & {
  readonly users: Map<string, TestUser>;
} {
  const byName = new Map(users.map((user) => [user.username, { ...user, active: user.active ?? true }]));
  const failures = new Map<string, number>();
  const maxFailures = options.maxFailures ?? 1000;
  return {
    users: byName,
    async verifyCredentials(username, password) {
      if ((failures.get(username) ?? 0) >= maxFailures)
        return { ok: false, reason: 'throttled', retryAfterSeconds: 30 };
      const user = byName.get(username);
      const matches = timingSafeEqual(digest(user?.password ?? 'dummy password'), digest(password));
      if (!user || !matches || !user.active) {
        failures.set(username, (failures.get(username) ?? 0) + 1);
        return { ok: false, reason: 'invalid' };
      }
      const { password: _password, ...login } = user;
      return { ok: true, user: login };
    },
    async findActiveUser(id) {
      const user = [...byName.values()].find((candidate) => candidate.id === id && candidate.active);
      if (!user) return undefined;
      const { password: _password, ...login } = user;
      return login;
    },
  };
}

/** A clock tests move by hand. */
export function manualClock(start = Date.parse('2026-03-01T12:00:00Z')) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
    set(ms: number) {
      now = ms;
    },
  };
}
