/** RFC 7617 parsing, replaying the RFC's examples and every malformed shape (docs/security.md #27). */
import { describe, expect, it } from 'vitest';
import vectors from '../../../../test/vectors/rfc7617-basic.json' with { type: 'json' };
import { BASIC_TOKEN_MAX_LENGTH, parseBasicAuthorization } from '../../src/core/basic/parse-basic-credentials.js';

const basic = (text: string | Buffer) =>
  `Basic ${(Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8')).toString('base64')}`;

describe('parseBasicAuthorization', () => {
  it.each(vectors.valid)('decodes the RFC 7617 $section example', ({ header, username, password }) => {
    expect(parseBasicAuthorization(header)).toEqual({
      kind: 'credentials',
      credentials: { username, password },
      token68: header.slice('Basic '.length),
    });
  });

  it.each(vectors.invalid)('refuses $section', ({ header, problem }) => {
    expect(parseBasicAuthorization(header)).toEqual({ kind: 'malformed', problem });
  });

  it('matches the scheme case-insensitively (RFC 7617 §2, RFC 9110 §11.1) and allows several spaces', () => {
    for (const scheme of ['basic', 'BASIC', 'bAsIc']) {
      expect(parseBasicAuthorization(`${scheme} QWxhZGRpbjpvcGVuIHNlc2FtZQ==`).kind).toBe('credentials');
    }
    expect(parseBasicAuthorization('Basic   QWxhZGRpbjpvcGVuIHNlc2FtZQ==').kind).toBe('credentials');
  });

  it('leaves other schemes and no header to other mechanisms', () => {
    expect(parseBasicAuthorization(undefined)).toEqual({ kind: 'absent' });
    expect(parseBasicAuthorization('Bearer abc')).toEqual({ kind: 'absent' });
    expect(parseBasicAuthorization('Basicabc')).toEqual({ kind: 'absent' });
  });

  it('splits at the first colon: the password may contain colons, the user-id may not (RFC 7617 §2)', () => {
    expect(parseBasicAuthorization(basic('alice:pa:ss:word'))).toMatchObject({
      credentials: { username: 'alice', password: 'pa:ss:word' },
    });
    expect(parseBasicAuthorization(basic('alice:'))).toMatchObject({
      credentials: { username: 'alice', password: '' },
    });
  });

  it.each([
    ['Basic', 'missing_value'],
    ['Basic ', 'missing_value'],
    [basic('no colon here'), 'missing_colon'],
    [basic(':secret'), 'empty_username'],
    [basic('ali\u0000ce:secret'), 'control_character'],
    [basic('alice:sec\nret'), 'control_character'],
    [basic('alice:sec\u0085ret'), 'control_character'],
    [basic(Buffer.from([0x61, 0x3a, 0xff, 0xfe])), 'invalid_utf8'],
    [basic(Buffer.from([0x61, 0xc3, 0x3a, 0x62])), 'invalid_utf8'],
    ['Basic not base64!', 'invalid_base64'],
    ['Basic YWxpY2U6c2VjcmV0', 'credentials'],
    ['Basic YWxpY2U6c2VjcmV', 'invalid_base64'],
    ['Basic YWxpY2U6c2VjcmV0=', 'invalid_base64'],
    ['Basic YWxpY2U6c2VjcmV0 ', 'invalid_base64'],
    ['Basic YWxpY2U6c2VjcmV0\t', 'invalid_base64'],
    ['Basic YWxpY2U6c2VjcmV0+/_-', 'invalid_base64'],
    // Non-canonical: the last character carries non-zero unused bits (RFC 4648 §3.5).
    ['Basic YQ==', 'missing_colon'],
    ['Basic YR==', 'invalid_base64'],
    [`Basic ${'A'.repeat(BASIC_TOKEN_MAX_LENGTH + 4)}`, 'too_long'],
  ])('%s → %s', (header, expected) => {
    const parsed = parseBasicAuthorization(header);
    if (expected === 'credentials') expect(parsed.kind).toBe('credentials');
    else expect(parsed).toEqual({ kind: 'malformed', problem: expected });
  });

  it('keeps a byte-order mark instead of silently dropping it', () => {
    const parsed = parseBasicAuthorization(basic('\ufeffalice:secret'));
    expect(parsed).toMatchObject({ credentials: { username: '\ufeffalice' } });
  });
});
