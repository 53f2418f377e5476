/** Username canonicalisation (RFC 8265 §3.3-like) and the password policy (docs/security.md #31). */
import { describe, expect, it } from 'vitest';
import {
  checkNewPassword,
  normalisePassword,
  parsePasswordBlocklist,
} from '../../src/core/passwords/password-policy.js';
import { normaliseUsername } from '../../src/core/users/username.js';

describe('normaliseUsername', () => {
  it.each([
    ['alice', 'alice'],
    ['Alice', 'alice'],
    ['ALICE', 'alice'],
    ['Ａｌｉｃｅ', 'alice'], // fullwidth: the width-mapping rule (RFC 8265 §3.3.1 rule 1)
    ['ﬁona', 'fiona'], // ligature: NFKC
    ['Zoë', 'zoë'],
    ['Zoe\u0308', 'zoë'], // decomposed → composed
    ['bob@example.com', 'bob@example.com'],
    ['ΣΊΣΥΦΟΣ', 'σίσυφος'], // Unicode toLowerCase (final sigma and all), as RFC 8265 §3.3.1 rule 3 specifies
  ])('%s → %s', (input, expected) => {
    expect(normaliseUsername(input)).toEqual({ ok: true, username: expected });
  });

  it.each([
    ['', 'must not be empty'],
    ['al ice', 'spaces'],
    ['alice\u0000', 'control'],
    ['al\u200bice', 'invisible'], // zero-width space (Cf)
    ['\ufeffalice', 'invisible'],
    ['ali:ce', 'colon'],
    ['a'.repeat(129), 'at most 128'],
  ])('refuses %j', (input, problem) => {
    const result = normaliseUsername(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toContain(problem);
  });
});

describe('checkNewPassword', () => {
  const policy = { minLength: 8 };

  it('accepts any characters, spaces and all, with no composition rules (NIST SP 800-63B §3.1.1.2)', () => {
    for (const password of ['aaaaaaaa', 'correct horse battery staple', '😀😀😀😀😀😀😀😀', 'pässwörd']) {
      expect(checkNewPassword(password, policy)).toMatchObject({ ok: true });
    }
  });

  it('counts characters, not bytes or UTF-16 units, for the minimum', () => {
    expect(checkNewPassword('😀😀😀😀😀😀😀', policy)).toEqual({ ok: false, problem: 'must be at least 8 characters' });
    expect(checkNewPassword('aaaaaaa', { minLength: 8 }).ok).toBe(false);
    expect(checkNewPassword('a'.repeat(14), { minLength: 15 }).ok).toBe(false);
  });

  it('allows 1024 bytes and refuses 1025: never truncates', () => {
    expect(checkNewPassword('a'.repeat(1024), policy)).toEqual({ ok: true, password: 'a'.repeat(1024) });
    expect(checkNewPassword('a'.repeat(1025), policy)).toEqual({
      ok: false,
      problem: 'must be at most 1024 bytes (UTF-8)',
    });
    expect(checkNewPassword('é'.repeat(513), policy).ok).toBe(false); // 1026 bytes
  });

  it('refuses control characters (RFC 7617 §2: Basic could never send them) and the username', () => {
    expect(checkNewPassword('password\u0007x', policy)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/control/),
    });
    expect(checkNewPassword('Alice-Smith', policy, 'alice-smith')).toMatchObject({
      ok: false,
      problem: 'must not be the username',
    });
  });

  it('refuses blocklisted passwords case-insensitively', () => {
    const blocklist = parsePasswordBlocklist('password1\nQwertyuiop\r\n\n');
    expect(checkNewPassword('PASSWORD1', { minLength: 8, blocklist })).toMatchObject({ ok: false });
    expect(checkNewPassword('qwertyuiop', { minLength: 8, blocklist })).toMatchObject({ ok: false });
    expect(checkNewPassword('qwertyuiop!', { minLength: 8, blocklist })).toMatchObject({ ok: true });
  });

  it('normalises as RFC 8265 OpaqueString: NFC, non-ASCII spaces to U+0020', () => {
    expect(normalisePassword('cafe\u0301\u00a0bar')).toBe('café bar');
  });
});
