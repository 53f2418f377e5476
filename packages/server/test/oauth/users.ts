/**
 * Users for the OAuth tests, behind the OAuth ports (UserAuthenticator, UserDirectory), until the
 * users feature (feat/users) is merged and tests create users through its admin API instead.
 */
import type { OAuthUser, UserAuthenticator, UserDirectory } from '../../src/core/oauth/ports.js';

export interface TestUsers {
  readonly authenticator: UserAuthenticator;
  readonly directory: UserDirectory;
  add(user: OAuthUser & { password: string }): void;
}

export function testUsers(): TestUsers {
  const byName = new Map<string, OAuthUser & { password: string }>();
  return {
    add(user) {
      byName.set(user.username, user);
    },
    authenticator: {
      async verify(username, password) {
        const user = byName.get(username);
        if (!user) return { ok: false, reason: 'unknown_user' };
        return user.password === password ? { ok: true, user } : { ok: false, reason: 'wrong_password' };
      },
    },
    directory: {
      async findById(id) {
        return [...byName.values()].find((user) => user.id === id);
      },
      async isUserSubject(id) {
        return [...byName.values()].some((user) => user.id === id || user.username === id);
      },
    },
  };
}
