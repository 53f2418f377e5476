/**
 * What token issuance needs from the user directory (issue 4 provides it): checking a username
 * and password (with its throttling and constant-time answers, SECURITY.md #32–33), and finding a
 * user again at refresh time (a deleted or disabled user can no longer refresh).
 */
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
    };

export interface UserDirectory {
  verifyCredentials(username: string, password: string, context: { readonly ip: string }): Promise<CredentialCheck>;
  /** The user, when they exist and may still hold tokens. */
  findActiveUser(id: string): Promise<LoginUser | undefined>;
}
