/**
 * Usernames are compared in one canonical form, so `Alice`, `ALICE` and `Ａｌｉｃｅ` (fullwidth) name
 * the same account and cannot be registered twice.
 *
 * The rules follow the RFC 8265 §3.3 UsernameCaseMapped profile, with one documented difference:
 * - width mapping (§3.3.1 rule 1) and normalisation (rule 4) are done together by NFKC, which maps
 *   fullwidth/halfwidth forms like the width-mapping rule does and also folds other compatibility
 *   forms (ligatures, superscripts) that would otherwise let two different-looking strings of
 *   the same letters coexist; RFC 8265 uses NFC here, so NFKC is the stricter choice;
 * - case mapping (rule 3) is Unicode `toLowerCase()`, as RFC 8265 §3.3.1 specifies, followed by
 *   NFKC again because lower-casing can produce unnormalised text;
 * - the IdentifierClass (RFC 8264 §4.2) is approximated by: letters, marks, numbers, punctuation
 *   and symbols only: no spaces, no control, format, private-use or unassigned code points;
 * - a colon is refused: RFC 7617 §2 says a user-id containing a colon cannot be used with Basic.
 * The bidi rule (rule 5) is not applied.
 */

/** Upper bound in code points after normalisation (long enough for e-mail addresses). */
export const USERNAME_MAX_LENGTH = 128;

const ALLOWED = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]+$/u;

export type UsernameCheck =
  | { readonly ok: true; readonly username: string }
  | { readonly ok: false; readonly problem: string };

/** The canonical form of a username, or why it cannot be one. */
export function normaliseUsername(input: string): UsernameCheck {
  if (input.length === 0) return { ok: false, problem: 'must not be empty' };
  // Bound the work before normalising untrusted input (NFKC can expand text up to 18×).
  if (input.length > USERNAME_MAX_LENGTH * 4) {
    return { ok: false, problem: `must be at most ${USERNAME_MAX_LENGTH} characters` };
  }
  const username = input.normalize('NFKC').toLowerCase().normalize('NFKC');
  if ([...username].length > USERNAME_MAX_LENGTH) {
    return { ok: false, problem: `must be at most ${USERNAME_MAX_LENGTH} characters` };
  }
  if (username.includes(':')) return { ok: false, problem: 'must not contain a colon (RFC 7617 §2)' };
  if (!ALLOWED.test(username)) {
    return { ok: false, problem: 'must not contain spaces, control characters or invisible formatting characters' };
  }
  return { ok: true, username };
}
