/**
 * The HS256 secret as configured: hex when the text is hex of even length, else base64url. One
 * decoder for the config check and for the key, so that what is validated is what is used.
 */
export function hs256SecretBytes(text: string): Buffer {
  const trimmed = text.trim();
  return /^[0-9a-fA-F]+$/.test(trimmed) && trimmed.length % 2 === 0
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed.replace(/=+$/, ''), 'base64url');
}
