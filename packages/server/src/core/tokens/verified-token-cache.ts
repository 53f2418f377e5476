/**
 * Tokens seen before, remembered after full verification so that a client reusing its token for
 * minutes costs a map lookup instead of a signature check (issue 5 item 9). The cache itself is
 * the one the SDK's verifier uses (`@gatehouse/sdk/jwt`): bounded, never answering past the
 * token's `exp`. Here entries also go when their token is revoked or their key is deleted, and
 * revocation is still checked on every hit, so revocations synced from other instances apply to
 * cached tokens too.
 */
import { VerifiedTokenCache as TokenCache } from '@gatehouse/sdk/jwt';
import type { Identity } from '../pipeline/types.js';

export interface CachedVerification {
  readonly identity: Identity;
  /** `exp` in milliseconds. */
  readonly expiresAt: number;
  readonly kid: string;
}

export type VerifiedTokenCache = TokenCache<CachedVerification>;

export const createVerifiedTokenCache = (limit: number): VerifiedTokenCache =>
  new TokenCache<CachedVerification>(limit);
