/**
 * The key format (docs/api-keys.md): `<prefix>_<43 base62 secret><6 base62 CRC-32>`. These checks
 * are what lets the verifier refuse garbage before any store lookup (docs/security.md #29).
 */
import { describe, expect, it } from 'vitest';
import {
  checksumOf,
  createKeyParser,
  generateApiKey,
  MAX_PRESENTED_LENGTH,
  prefixProblem,
} from '../../../src/core/apikeys/key-format.js';

/** The secret-scanning pattern documented in docs/api-keys.md, for prefix `gk`. */
const SCANNER = /\bgk(?:_[a-z0-9]+)?_[0-9A-Za-z]{49}\b/;

describe('API key format', () => {
  it('computes the checksum as CRC-32 of prefix and secret in 6 base62 digits (vectors from Python zlib)', () => {
    expect(checksumOf(`gk_${'A'.repeat(43)}`)).toBe('0o6gws');
    expect(checksumOf('gk_live_0123456789abcdefghijABCDEFGHIJ0123456789abc')).toBe('3PwDsF');
  });

  it('generates keys of ≥256 random bits with a valid checksum, matching the scanner pattern', () => {
    const parser = createKeyParser('gk');
    const keys = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const key = generateApiKey('gk');
      expect(key).toMatch(/^gk_[0-9A-Za-z]{49}$/);
      expect(parser.check(key)).toBeUndefined();
      expect(SCANNER.exec(`token: ${key}.`)?.[0]).toBe(key);
      keys.add(key);
    }
    expect(keys.size).toBe(200);
    // 43 base62 characters: 43 × log2(62) ≥ 256 bits (docs/security.md #20).
    expect(43 * Math.log2(62)).toBeGreaterThanOrEqual(256);
  });

  it('supports prefixes with an environment tag', () => {
    const key = generateApiKey('gk_live');
    expect(key).toMatch(/^gk_live_[0-9A-Za-z]{49}$/);
    expect(createKeyParser('gk_live').check(key)).toBeUndefined();
    expect(SCANNER.test(key)).toBe(true);
  });

  it('rejects, with a precise reason, everything that is not exactly a key of ours', () => {
    const parser = createKeyParser('gk');
    const key = generateApiKey('gk');
    const secretChar = key[10] as string;
    const flipped = `${key.slice(0, 10)}${secretChar === 'a' ? 'b' : 'a'}${key.slice(11)}`;
    const lastChar = key.at(-1) as string;
    const badChecksum = `${key.slice(0, -1)}${lastChar === 'a' ? 'b' : 'a'}`;
    const cases: Array<[string, string]> = [
      ['', 'empty'],
      ['x'.repeat(MAX_PRESENTED_LENGTH + 1), 'too_long'],
      ['x'.repeat(8000), 'too_long'],
      [` ${key}`, 'malformed'],
      [`${key} `, 'malformed'],
      [`${key}\t`, 'malformed'],
      [`${key.slice(0, 20)}é${key.slice(21)}`, 'malformed'],
      [`${key.slice(0, 20)}\u0000${key.slice(21)}`, 'malformed'],
      [key.slice(0, -1), 'malformed'],
      [`${key}A`, 'malformed'],
      [key.toUpperCase(), 'malformed'],
      ['gk_', 'malformed'],
      ['Bearer', 'malformed'],
      [`sk_${key.slice(3)}`, 'wrong_prefix'],
      [`gk_test_${key.slice(3)}`, 'wrong_prefix'],
      [flipped, 'bad_checksum'],
      [badChecksum, 'bad_checksum'],
    ];
    for (const [text, reason] of cases) expect(parser.check(text), JSON.stringify(text)).toBe(reason);
  });

  it('refuses a key re-labelled with another prefix even when that prefix is configured (checksum covers it)', () => {
    const key = generateApiKey('gk_test');
    const relabelled = `gk_live_${key.slice('gk_test_'.length)}`;
    expect(createKeyParser('gk_live').check(relabelled)).toBe('bad_checksum');
  });

  it('validates configured prefixes', () => {
    for (const good of ['gk', 'gk_live', 'acme2_prod_eu']) expect(prefixProblem(good), good).toBeUndefined();
    for (const bad of ['', 'GK', '1gk', 'gk_', '_gk', 'gk__live', 'gk-live', 'g'.repeat(33)]) {
      expect(prefixProblem(bad), bad).toBeTypeOf('string');
    }
    expect(() => createKeyParser('GK')).toThrow(RangeError);
  });
});
