/**
 * Table types for Kysely. Portable across SQLite and PostgreSQL: ids and times are text (times
 * are ISO 8601 UTC, which sorts correctly as text), JSON is text, booleans are integers 0/1.
 * Each feature's migration adds its tables here.
 */

export interface MetaTable {
  key: string;
  value: string;
}

export interface AdminCredentialTable {
  id: string;
  name: string;
  /** SHA-256 of the key, hex. The key itself is never stored. */
  key_hash: string;
  /** First characters of the key, for display. */
  key_hint: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface AuditEventTable {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  ip: string | null;
  /** JSON object. */
  details: string;
}

export interface UserTable {
  id: string;
  /** Canonical form (RFC 8265 UsernameCaseMapped-like, see core/users/username.ts); unique. */
  username: string;
  /** PHC string (argon2id) or an imported bcrypt hash; never the password. */
  password_hash: string;
  /** Fingerprint of the pepper mixed into the hash, or null. */
  password_pepper_id: string | null;
  password_changed_at: string;
  /** JSON array of scope strings. */
  scopes: string;
  /** JSON object. */
  metadata: string;
  /** 0 or 1. */
  disabled: number;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
}

export interface Database {
  gatehouse_meta: MetaTable;
  admin_credentials: AdminCredentialTable;
  audit_events: AuditEventTable;
  users: UserTable;
}
