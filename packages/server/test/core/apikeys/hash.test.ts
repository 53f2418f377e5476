/**
 * How API keys are hashed and compared (docs/security.md #29): the stored hex, the cache's Latin-1
 * digest, and the constant-time comparison between a stored digest and a presented one.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { apiKeyDigest, digestToHex, hashApiKey, hexToDigest, sameDigest } from '../../../src/core/apikeys/hash.js';
import { generateApiKey } from '../../../src/core/apikeys/key-format.js';

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

describe('API key hashing', () => {
  it('stores SHA-256 of the key as hex, and the cache digest is the same bytes as Latin-1', () => {
    for (let i = 0; i < 50; i++) {
      const plaintext = generateApiKey('gk');
      const bytes = sha256(plaintext);
      expect(hashApiKey(plaintext)).toBe(bytes.toString('hex'));
      const digest = apiKeyDigest(plaintext);
      expect(digest).toHaveLength(32);
      expect(Buffer.from(digest, 'latin1').equals(bytes)).toBe(true);
      expect(digestToHex(digest)).toBe(hashApiKey(plaintext));
      expect(hexToDigest(hashApiKey(plaintext))).toBe(digest);
    }
  });

  it('accepts the same digest and refuses any other, byte by byte', () => {
    const plaintext = generateApiKey('gk');
    const stored = sha256(plaintext);
    const digest = apiKeyDigest(plaintext);
    expect(sameDigest(stored, digest)).toBe(true);
    expect(sameDigest(new Uint8Array(stored), digest)).toBe(true);
    for (let i = 0; i < 32; i++) {
      for (const bit of [0x01, 0x80]) {
        const altered = digest.slice(0, i) + String.fromCharCode(digest.charCodeAt(i) ^ bit) + digest.slice(i + 1);
        expect(sameDigest(stored, altered)).toBe(false);
      }
    }
    expect(sameDigest(stored, apiKeyDigest(generateApiKey('gk')))).toBe(false);
  });

  it('refuses wrong lengths and characters wider than a byte whose low byte matches', () => {
    const plaintext = generateApiKey('gk');
    const stored = sha256(plaintext);
    const digest = apiKeyDigest(plaintext);
    expect(sameDigest(stored, digest.slice(0, 31))).toBe(false);
    expect(sameDigest(stored, `${digest}x`)).toBe(false);
    expect(sameDigest(stored, '')).toBe(false);
    for (const i of [0, 17, 31]) {
      const wide = digest.slice(0, i) + String.fromCharCode(0x100 | digest.charCodeAt(i)) + digest.slice(i + 1);
      expect(sameDigest(stored, wide)).toBe(false);
    }
    // The comparison after a refusal is unaffected (the scratch array holds nothing over).
    expect(sameDigest(stored, digest)).toBe(true);
  });
});
