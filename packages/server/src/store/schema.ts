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
  /** 1 for a key imported from another system (no prefix, no checksum), else 0. */
  legacy: number;
}

export interface OAuthClientTable {
  id: string;
  name: string;
  /** JSON arrays of strings. */
  grant_types: string;
  scopes: string;
  redirect_uris: string;
  audience: string;
  auth_method: string;
  /** JSON array of `{hash, expiresAt}`: SHA-256 digests only, never a secret. */
  secrets: string;
  /** JSON JWK Set (public keys), for private_key_jwt. */
  jwks: string | null;
  jwks_uri: string | null;
  access_token_lifetime: number | null;
  refresh_token_lifetime: number | null;
  skip_consent: number;
  created_at: string;
  updated_at: string;
}

export interface OAuthCodeTable {
  /** SHA-256 of the code, hex. */
  code_hash: string;
  client_id: string;
  subject: string;
  redirect_uri: string;
  scopes: string;
  code_challenge: string;
  /** JSON: nonce, auth_time, audience. */
  data: string;
  grant_id: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface OAuthGrantTable {
  id: string;
  client_id: string;
  subject: string;
  family_id: string | null;
  /** JSON: auth_time, audience. */
  data: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
}

export interface OAuthGrantTokenTable {
  jti: string;
  grant_id: string;
  expires_at: string;
}

export interface OAuthConsentTable {
  subject: string;
  client_id: string;
  scopes: string;
  granted_at: string;
}

export interface OAuthSessionTable {
  id_hash: string;
  subject: string;
  auth_time: number;
  created_at: string;
  expires_at: string;
}

export interface OAuthInteractionTable {
  id_hash: string;
  browser_hash: string;
  csrf_token: string;
  /** JSON: the validated authorization request. */
  request: string;
  subject: string | null;
  auth_time: number | null;
  created_at: string;
  expires_at: string;
}

export interface OAuthAssertionJtiTable {
  client_id: string;
  jti: string;
  expires_at: string;
}

export interface SigningKeyTable {
  kid: string;
  alg: string;
  /** `next` (published, not signing yet), `active` (signing), `retired` (published, verify only). */
  state: string;
  /** Public JWK, JSON. */
  public_jwk: string;
  /** Private JWK sealed under the master key (purpose `signing-key:<kid>`); null for imported public keys. */
  private_jwk_sealed: string | null;
  created_at: string;
  /** For `next`: when it starts signing. */
  activates_at: string | null;
  activated_at: string | null;
  retired_at: string | null;
  /** For `retired`: when every token it signed has expired and it can be deleted. */
  delete_after: string | null;
}

export interface RefreshTokenTable {
  id: string;
  /** Every token rotated from one login shares the family id (RFC 9700 §4.14.2). */
  family_id: string;
  /** SHA-256 of the token, hex. The token itself is never stored. */
  token_hash: string;
  subject: string;
  client_id: string;
  scope: string;
  audience: string;
  created_at: string;
  /** Absolute expiry of the family. */
  expires_at: string;
  idle_expires_at: string;
  /** Set when the token was exchanged for its successor; a second use is reuse. */
  used_at: string | null;
  revoked_at: string | null;
  /** The access token issued with this refresh token, denylisted when the family is revoked. */
  access_jti: string | null;
  access_expires_at: string | null;
}

export interface TokenRevocationTable {
  /** `jti`, `subject` or `client`. */
  kind: string;
  value: string;
  /** Tokens issued (iat) at or before this time are revoked (for jti: when it was revoked). */
  revoked_at: string;
  /** When every token concerned has expired and the entry can go. */
  expires_at: string;
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
  api_keys: ApiKeyTable;
  users: UserTable;
  oauth_clients: OAuthClientTable;
  oauth_codes: OAuthCodeTable;
  oauth_grants: OAuthGrantTable;
  oauth_grant_tokens: OAuthGrantTokenTable;
  oauth_consents: OAuthConsentTable;
  oauth_sessions: OAuthSessionTable;
  oauth_interactions: OAuthInteractionTable;
  oauth_assertion_jtis: OAuthAssertionJtiTable;
  signing_keys: SigningKeyTable;
  refresh_tokens: RefreshTokenTable;
  token_revocations: TokenRevocationTable;
}
