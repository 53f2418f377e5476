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

export interface ApiKeyTable {
  id: string;
  name: string;
  owner: string | null;
  prefix: string;
  last4: string;
  /** SHA-256 of the key, hex. The key itself is never stored. */
  key_hash: string;
  /** JSON array of strings. */
  scopes: string;
  /** JSON object. */
  metadata: string;
  rate_limit_max: number | null;
  rate_limit_window_ms: number | null;
  remaining_uses: number | null;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  replaced_by: string | null;
  grace_until: string | null;
  rotated_from: string | null;
}

export interface Database {
  gatehouse_meta: MetaTable;
  admin_credentials: AdminCredentialTable;
  audit_events: AuditEventTable;
  api_keys: ApiKeyTable;
}
