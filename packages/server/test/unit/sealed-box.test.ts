/** Secrets at rest: AES-256-GCM under the master key, bound to a purpose. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSealedBox, decodeMasterKey, SealedBoxError } from '../../src/core/secrets/sealed-box.js';

describe('sealed box', () => {
  const box = createSealedBox(randomBytes(32));

  it('round-trips and uses a fresh IV each time', () => {
    const a = box.seal('signing key material', 'signing-key:k1');
    const b = box.seal('signing key material', 'signing-key:k1');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(box.open(a, 'signing-key:k1').toString()).toBe('signing key material');
  });

  it('refuses another key, another purpose, and any tampering (never garbage)', () => {
    const sealed = box.seal('secret', 'purpose-a');
    expect(() => createSealedBox(randomBytes(32)).open(sealed, 'purpose-a')).toThrow(SealedBoxError);
    expect(() => box.open(sealed, 'purpose-b')).toThrow(SealedBoxError);
    const [version, iv, body] = sealed.split('.') as [string, string, string];
    const flipped = Buffer.from(body, 'base64url');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => box.open(`${version}.${iv}.${flipped.toString('base64url')}`, 'purpose-a')).toThrow(SealedBoxError);
    for (const broken of ['', 'v2.a.b', 'v1.abc', `${version}.${iv}.AAAA`, `${sealed}.extra`]) {
      expect(() => box.open(broken, 'purpose-a'), broken).toThrow(SealedBoxError);
    }
  });

  it('decodes master keys given as hex or base64url, and only 32 bytes', () => {
    const key = randomBytes(32);
    expect(decodeMasterKey(key.toString('hex'))).toEqual(key);
    expect(decodeMasterKey(key.toString('base64url'))).toEqual(key);
    expect(() => decodeMasterKey('abcd')).toThrow(SealedBoxError);
  });
});
