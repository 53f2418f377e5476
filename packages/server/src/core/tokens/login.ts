/**
 * What token issuance needs from the user directory (issue 4 provides it): checking a username
 * and password (with its throttling and constant-time answers, docs/security.md #32–33), and finding a
 * user again at refresh time (a deleted or disabled user can no longer refresh).
 */

import type { User } from '../users/user.js';
import type { UserService } from '../users/user-service.js';
import type { UserPasswordVerifier } from '../users/verify-user-password.js';
import type { ClaimSourceUser } from './claim-mapping.js';

export interface LoginUser extends ClaimSourceUser {
  readonly id: string;
  /** Every scope the user may hold; a login may ask for a subset. */
  readonly scopes: readonly string[];
}

export type CredentialCheck =
  | { readonly ok: true; readonly user: LoginUser }
  | {
      readonly ok: false;
      /** `invalid` (unknown user and wrong password alike) or `throttled`. */
      readonly reason: 'invalid' | 'throttled';
      readonly retryAfterSeconds?: number;
      /** The precise reason and the account concerned, for audit only. */
      readonly detail?: string;
      readonly userId?: string | null;
    };

export interface UserDirectory {
  verifyCredentials(username: string, password: string, context: { readonly ip: string }): Promise<CredentialCheck>;
  /** The user, when they exist and may still hold tokens. */
  findActiveUser(id: string): Promise<LoginUser | undefined>;
}

const loginUser = (user: User): LoginUser => {
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    id: user.id,
    username: user.username,
    scopes: user.scopes,
    metadata: user.metadata,
    // `email` and `name` claim sources read the metadata fields of those names.
    email: text(user.metadata.email),
    name: text(user.metadata.name),
  };
};

/**
 * The user directory over the users feature: its password verifier (throttled, timing-equalised,
 * rehashing, audited; docs/security.md #30–#33) and its user service (a disabled or deleted user is
 * not active).
 */
export function userDirectory(verifier: UserPasswordVerifier, users: Pick<UserService, 'get'>): UserDirectory {
  return {
    async verifyCredentials(username, password, context) {
      const checked = await verifier.verifyUserPassword({ username, password, clientIp: context.ip, method: 'login' });
      if (checked.ok) return { ok: true, user: loginUser(checked.user) };
      return checked.error === 'throttled'
        ? { ok: false, reason: 'throttled', retryAfterSeconds: checked.retryAfterSeconds, detail: 'throttled' }
        : { ok: false, reason: 'invalid', detail: checked.reason, userId: checked.userId };
    },
    async findActiveUser(id) {
      const found = await users.get(id);
      return found.ok && !found.value.disabled ? loginUser(found.value) : undefined;
    },
  };
}
