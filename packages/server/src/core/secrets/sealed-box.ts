/**
 * Authenticated encryption of stored secrets (signing keys and anything else that must be
 * recoverable) under the master key: AES-256-GCM with a random 96-bit IV per message (NIST SP
 * 800-38D §8.2.2), and a purpose string as additional data so that a value sealed for one use
 * cannot be replayed as another.
 *
 * Sealed format: `v1.<iv base64url>.<ciphertext+tag base64url>`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Raised when a sealed value does not open: wrong master key, or a corrupted value. */
export class SealedBoxError extends Error {
  readonly code = 'ERR_SEALED_BOX';
  constructor(message: string) {
    super(message);
    this.name = 'SealedBoxError';
  }
}

export interface SealedBox {
  seal(plaintext: Buffer | string, purpose: string): string;
  open(sealed: string, purpose: string): Buffer;
}

/** Decodes a master key given as 64 hex or 43 base64url characters into 32 bytes. */
export function decodeMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed.replace(/=$/, ''), 'base64url');
  if (key.length !== 32) throw new SealedBoxError('the master key must be exactly 32 bytes');
  return key;
}

export function createSealedBox(key: Buffer): SealedBox {
  if (key.length !== 32) throw new SealedBoxError('the master key must be exactly 32 bytes');
  const secret = Buffer.from(key);
  return {
    seal(plaintext, purpose) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', secret, iv);
      cipher.setAAD(Buffer.from(purpose, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
      return `${VERSION}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    open(sealed, purpose) {
      const [version, ivText, bodyText, extra] = sealed.split('.');
      if (version !== VERSION || !ivText || !bodyText || extra !== undefined) {
        throw new SealedBoxError('not a sealed value of a known version');
      }
      const iv = Buffer.from(ivText, 'base64url');
      const body = Buffer.from(bodyText, 'base64url');
      if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new SealedBoxError('truncated sealed value');
      const decipher = createDecipheriv('aes-256-gcm', secret, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(purpose, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      try {
        return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new SealedBoxError('the value does not open with this master key (wrong key or corrupted data)');
      }
    },
  };
}
