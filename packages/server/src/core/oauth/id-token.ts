/**
 * ID tokens (OIDC Core §2, §3.1.3.6): `iss sub aud exp iat auth_time`, `nonce` when the request
 * had one, `at_hash` (the left half of the SHA-256 of the access token, base64url, for RS256 and
 * ES256), and the standard claims the scopes grant. Signed with the active signing key, so with
 * the algorithm of `keys.algorithm` (set RS256 where relying parties accept nothing else).
 */
import { createHash } from 'node:crypto';
import { standardClaims } from './claims.js';
import type { OAuthClient } from './clients.js';
import type { LoginUser, TokenIssuer } from './ports.js';

export const ID_TOKEN_LIFETIME_SECONDS = 3600;

/** OIDC Core §3.1.3.6: at_hash for an algorithm using SHA-256. */
export const atHash = (accessToken: string): string =>
  createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');

export async function createIdToken(input: {
  readonly issuer: TokenIssuer;
  readonly client: OAuthClient;
  readonly subject: string;
  readonly user: LoginUser | undefined;
  readonly scopes: readonly string[];
  readonly nonce: string | undefined;
  readonly authTime: number;
  readonly accessToken: string;
  readonly now: number;
}): Promise<string> {
  const iat = Math.floor(input.now / 1000);
  return input.issuer.signIdToken({
    ...(input.user ? standardClaims(input.user, input.scopes) : {}),
    iss: input.issuer.issuer,
    sub: input.subject,
    aud: input.client.id,
    iat,
    exp: iat + ID_TOKEN_LIFETIME_SECONDS,
    auth_time: input.authTime,
    ...(input.nonce !== undefined ? { nonce: input.nonce } : {}),
    at_hash: atHash(input.accessToken),
    azp: input.client.id,
  });
}
