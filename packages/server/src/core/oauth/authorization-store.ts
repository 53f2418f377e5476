/**
 * What the authorization server keeps between requests (implemented in store/). Every secret
 * (code, session id, interaction id) is handed to the store as its SHA-256 only.
 */
import { createHash } from 'node:crypto';

export const sha256 = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

export interface AuthorizationCode {
  readonly codeHash: string;
  readonly clientId: string;
  readonly subject: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly codeChallenge: string;
  readonly nonce: string | undefined;
  /** Seconds since the epoch, when the user authenticated (OIDC `auth_time`). */
  readonly authTime: number;
  readonly audience: readonly string[] | undefined;
  /** Whether the authorization request named the redirect URI (RFC 6749 §4.1.3 then requires it again). */
  readonly redirectUriGiven: boolean;
  readonly grantId: string;
  readonly createdAt: string;
  readonly expiresAt: string;
}

export interface StoredCode extends AuthorizationCode {
  /** When it was redeemed; a second redemption is a replay (RFC 6749 §4.1.2, docs/security.md #15). */
  readonly usedAt: string | null;
}

export interface CodeStore {
  insert(code: AuthorizationCode): Promise<void>;
  find(codeHash: string): Promise<StoredCode | undefined>;
  /** Marks the code used, atomically: of two concurrent redemptions exactly one gets true. */
  markUsed(codeHash: string, now: string): Promise<boolean>;
}

/** A grant: one user's authorization of one client, and the access tokens issued under it. */
export interface GrantRecord {
  readonly id: string;
  readonly clientId: string;
  readonly subject: string;
  readonly familyId: string | null;
  /** Seconds since the epoch, when the user authenticated (carried into refreshed tokens). */
  readonly authTime: number;
  readonly audience: readonly string[] | undefined;
  readonly expiresAt: string;
  readonly revokedAt: string | null;
}

export interface GrantStore {
  create(grant: Omit<GrantRecord, 'revokedAt'> & { createdAt: string }): Promise<void>;
  setFamily(grantId: string, familyId: string): Promise<void>;
  find(grantId: string): Promise<GrantRecord | undefined>;
  findByFamily(familyId: string): Promise<GrantRecord | undefined>;
  addAccessToken(grantId: string, jti: string, expiresAt: string): Promise<void>;
  /** The access tokens of the grant that have not expired at `now`. */
  accessTokens(grantId: string, now: string): Promise<Array<{ jti: string; expiresAt: string }>>;
  markRevoked(grantId: string, at: string): Promise<void>;
}

export interface ConsentStore {
  /** The scopes the user has consented to for this client, or undefined. */
  find(subject: string, clientId: string): Promise<readonly string[] | undefined>;
  save(subject: string, clientId: string, scopes: readonly string[], at: string): Promise<void>;
}

export interface LoginSession {
  readonly idHash: string;
  readonly subject: string;
  readonly authTime: number;
  readonly expiresAt: string;
}

export interface SessionStore {
  create(session: LoginSession & { createdAt: string }): Promise<void>;
  find(idHash: string, now: string): Promise<LoginSession | undefined>;
  delete(idHash: string): Promise<void>;
}

/** A pending authorization request waiting for the user to log in and/or consent. */
export interface Interaction {
  readonly idHash: string;
  /** SHA-256 of the browser-binding cookie: only the browser that started it may complete it. */
  readonly browserHash: string;
  readonly csrfToken: string;
  readonly request: Readonly<Record<string, unknown>>;
  readonly subject: string | null;
  readonly authTime: number | null;
  readonly expiresAt: string;
}

export interface InteractionStore {
  create(interaction: Interaction & { createdAt: string }): Promise<void>;
  find(idHash: string, now: string): Promise<Interaction | undefined>;
  setSubject(idHash: string, subject: string, authTime: number): Promise<void>;
  /** Deletes; false when it was already gone (so completing one is single-use). */
  delete(idHash: string): Promise<boolean>;
}

/** Removes rows past their expiry. */
export interface Pruner {
  prune(now: string): Promise<number>;
}
