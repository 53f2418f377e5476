/**
 * What a new password must satisfy, and the one normalisation applied to every password before
 * it is hashed or compared.
 *
 * The policy is NIST SP 800-63B §3.1.1.2 / ASVS 6.2 (docs/security.md #31): a minimum length (8 by
 * default, configurable upward), a maximum far above what anyone types (1024 bytes, so no one's
 * passphrase is refused and nothing is ever truncated), no composition rules, an optional list of
 * breached passwords, and the username itself refused.
 */

/** 1024 bytes of UTF-8: long enough for any passphrase, short enough to bound the work per login. */
export const PASSWORD_MAX_BYTES = 1024;

/**
 * RFC 8265 §4.2 OpaqueString profile: non-ASCII spaces become U+0020 (§4.2.1 additional mapping
 * rule) and the result is NFC-normalised (§4.2.1 normalization rule), so the same password typed
 * on a system that composes characters and on one that decomposes them hashes the same.
 */
export function normalisePassword(password: string): string {
  return password.replace(/[\p{Zs}\u2028\u2029]/gu, ' ').normalize('NFC');
}

/**
 * RFC 7617 §2: the user-id and password MUST NOT contain control characters; a password with one
 * could never be sent with Basic, so it is refused when set. (FreeformClass, RFC 8264 §4.3,
 * disallows them too.)
 */
const CONTROL = /\p{Cc}/u;

export interface PasswordPolicy {
  readonly minLength: number;
  /** Lower-cased passwords that may not be chosen (breached lists). */
  readonly blocklist?: ReadonlySet<string>;
}

export type PasswordCheck =
  | { readonly ok: true; readonly password: string }
  | { readonly ok: false; readonly problem: string };

/**
 * Checks a password being set (created, changed). Answers the normalised password to hash, or a
 * sentence saying what is wrong (for a 400 naming the field). `username` is the normalised
 * username of the account, which may not be its password.
 */
export function checkNewPassword(password: string, policy: PasswordPolicy, username?: string): PasswordCheck {
  const normalised = normalisePassword(password);
  if (Buffer.byteLength(normalised, 'utf8') > PASSWORD_MAX_BYTES) {
    return { ok: false, problem: `must be at most ${PASSWORD_MAX_BYTES} bytes (UTF-8)` };
  }
  // Length in characters (code points), not UTF-16 units or bytes: NIST SP 800-63B §3.1.1.2.
  const length = [...normalised].length;
  if (length < policy.minLength) return { ok: false, problem: `must be at least ${policy.minLength} characters` };
  if (CONTROL.test(normalised)) return { ok: false, problem: 'must not contain control characters' };
  const folded = normalised.toLowerCase();
  if (username !== undefined && folded === username.toLowerCase()) {
    return { ok: false, problem: 'must not be the username' };
  }
  if (policy.blocklist?.has(folded)) {
    return { ok: false, problem: 'is in the list of breached or common passwords; choose another' };
  }
  return { ok: true, password: normalised };
}

/** Parses a blocklist file: one password per line, blank lines ignored, compared case-insensitively. */
export function parsePasswordBlocklist(text: string): Set<string> {
  const entries = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    if (line.length > 0) entries.add(normalisePassword(line).toLowerCase());
  }
  return entries;
}
