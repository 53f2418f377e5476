/**
 * The user account and what the users domain needs of the store (implemented in
 * store/user-repository.ts).
 */
import type { StoredPassword } from '../passwords/password-hasher.js';

export interface User {
  /** `usr_…` */
  readonly id: string;
  /** Canonical form (./username.ts); unique. */
  readonly username: string;
  readonly password: StoredPassword;
  readonly passwordChangedAt: string;
  /** RFC 6749 §3.3 scope tokens the user holds. */
  readonly scopes: readonly string[];
  /** Free-form JSON object set by the operator; never secret. */
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly disabled: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Last full password verification (Basic cache hits do not count). */
  readonly lastLoginAt: string | null;
}

export interface UserListQuery {
  readonly limit: number;
  readonly cursor?: string | undefined;
  readonly username?: string | undefined;
  readonly disabled?: boolean | undefined;
}

export type UserPatch = Partial<Pick<User, 'username' | 'scopes' | 'metadata' | 'disabled'>> & {
  readonly updatedAt: string;
};

export interface UserStore {
  /** Throws `UsernameTakenError` when the username exists. */
  insert(user: User): Promise<void>;
  /** All or nothing, in one transaction; throws `UsernameTakenError` naming the first clash. */
  insertMany(users: readonly User[]): Promise<void>;
  findById(id: string): Promise<User | undefined>;
  findByUsername(username: string): Promise<User | undefined>;
  /** Which of these usernames exist already. */
  existingUsernames(usernames: readonly string[]): Promise<Set<string>>;
  /** Oldest first; throws `InvalidCursorError` for a cursor it did not make. */
  list(query: UserListQuery): Promise<{ users: User[]; nextCursor: string | null }>;
  /** The updated user, or undefined when it does not exist; `UsernameTakenError` on a clash. */
  update(id: string, patch: UserPatch): Promise<User | undefined>;
  setPassword(id: string, password: StoredPassword, changedAt: string): Promise<User | undefined>;
  /**
   * Replaces the hash only if it is still `expected` (a rehash at login must not overwrite a
   * password changed meanwhile). True when replaced.
   */
  replacePasswordHash(id: string, expected: string, replacement: StoredPassword): Promise<boolean>;
  recordLogin(id: string, at: string): Promise<void>;
  /** True when a user was deleted. */
  delete(id: string): Promise<boolean>;
}

export class UsernameTakenError extends Error {
  readonly code = 'ERR_USERNAME_TAKEN';
  constructor(readonly username: string) {
    super(`the username "${username}" is taken`);
    this.name = 'UsernameTakenError';
  }
}
