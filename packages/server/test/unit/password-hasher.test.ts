/** argon2id storage, parameters recorded in the hash, rehash detection, pepper (docs/security.md #30). */
import { hash as argon2Hash } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { verifyBcrypt } from '../../src/core/passwords/bcrypt.js';
import { ARGON2_FLOOR, createPasswordHasher, PasswordHashError } from '../../src/core/passwords/password-hasher.js';

const pepper = Buffer.alloc(32, 7);

describe('password hasher', () => {
  const hasher = createPasswordHasher({ argon2: ARGON2_FLOOR });

  it('makes argon2id PHC strings at the OWASP parameters with a unique salt', async () => {
    const first = await hasher.hash('correct horse');
    const second = await hasher.hash('correct horse');
    expect(first.hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(first.hash).not.toBe(second.hash);
    expect(first.pepperId).toBeNull();
    expect(await hasher.verify(first, 'correct horse')).toBe(true);
    expect(await hasher.verify(first, 'correct horsE')).toBe(false);
  });

  it('verifies a password typed decomposed against one stored composed (RFC 8265 OpaqueString)', async () => {
    const stored = await hasher.hash('café au lait');
    expect(await hasher.verify(stored, 'cafe\u0301 au lait')).toBe(true);
  });

  it('refuses parameters below the OWASP floor', () => {
    expect(() => createPasswordHasher({ argon2: { memoryKib: 4096, iterations: 2, parallelism: 1 } })).toThrow(
      RangeError,
    );
    expect(() => createPasswordHasher({ argon2: { memoryKib: 19456, iterations: 1, parallelism: 1 } })).toThrow(
      RangeError,
    );
  });

  it('asks for a rehash when a hash is weaker than the current setting, a bcrypt import, or lacks the pepper', async () => {
    const stronger = createPasswordHasher({ argon2: { memoryKib: 20_480, iterations: 3, parallelism: 1 } });
    const current = await hasher.hash('password-one');
    expect(hasher.needsRehash(current)).toBe(false);
    expect(stronger.needsRehash(current)).toBe(true);
    expect(hasher.needsRehash(await stronger.hash('password-one'))).toBe(false);
    const weak = await argon2Hash('password-one', { memoryCost: 19_456, timeCost: 2, parallelism: 1, algorithm: 1 });
    expect(hasher.needsRehash({ hash: weak, pepperId: null })).toBe(true); // argon2i
    expect(hasher.needsRehash({ hash: bcrypt.hashSync('password-one', 5), pepperId: null })).toBe(true);
    const peppered = createPasswordHasher({ argon2: ARGON2_FLOOR, pepper });
    expect(peppered.needsRehash(current)).toBe(true);
    expect(await peppered.verify(current, 'password-one')).toBe(true);
  });

  it('mixes the pepper in, and never accepts a peppered hash without it (fail closed)', async () => {
    const peppered = createPasswordHasher({ argon2: ARGON2_FLOOR, pepper });
    const stored = await peppered.hash('password-two');
    expect(stored.pepperId).toMatch(/^[0-9a-f]{16}$/);
    expect(await peppered.verify(stored, 'password-two')).toBe(true);
    // The same PHC string without the secret does not verify: the pepper really is an input.
    await expect(hasher.verify({ hash: stored.hash, pepperId: null }, 'password-two')).resolves.toBe(false);
    await expect(hasher.verify(stored, 'password-two')).rejects.toBeInstanceOf(PasswordHashError);
    const other = createPasswordHasher({ argon2: ARGON2_FLOOR, pepper: Buffer.alloc(32, 8) });
    await expect(other.verify(stored, 'password-two')).rejects.toBeInstanceOf(PasswordHashError);
  });

  it('verifies bcrypt imports and refuses unknown or corrupt hashes with an error, never a match', async () => {
    const imported = { hash: bcrypt.hashSync('password-three', 5).replace(/^\$2b\$/, '$2y$'), pepperId: null };
    expect(await hasher.verify(imported, 'password-three')).toBe(true);
    expect(await hasher.verify(imported, 'password-thre')).toBe(false);
    await expect(hasher.verify({ hash: '$apr1$abc$def', pepperId: null }, 'x')).rejects.toBeInstanceOf(
      PasswordHashError,
    );
    await expect(
      hasher.verify({ hash: '$argon2id$v=19$m=19456,t=2,p=1$!!!$!!!', pepperId: null }, 'x'),
    ).rejects.toBeInstanceOf(PasswordHashError);
  });

  it('the dummy verification runs argon2id and never matches', async () => {
    expect(await hasher.verifyDummy('anything')).toBe(false);
    expect(await hasher.verifyDummy('')).toBe(false);
  });
});

describe('bcrypt verification', () => {
  it('does not truncate: a password longer than 72 bytes never matches, even when its prefix does', async () => {
    const long = 'x'.repeat(72);
    const hash = bcrypt.hashSync(long, 4);
    expect(await verifyBcrypt(hash, long)).toBe(true);
    expect(await verifyBcrypt(hash, `${long}tail`)).toBe(false);
  });

  it('refuses costs outside 4..12 without computing them', async () => {
    const hash = bcrypt.hashSync('password', 4).replace('$04$', '$13$');
    expect(await verifyBcrypt(hash, 'password')).toBe(false);
  });
});
