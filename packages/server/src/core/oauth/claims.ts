/**
 * OpenID Connect standard claims (OIDC Core §5.1) from a user, by scope (§5.4):
 * `profile`, `email`, `address`, `phone`. `preferred_username` is the username; every other claim
 * is read from the user's metadata under its standard name, so operators fill claims simply by
 * setting metadata (`{"name": "Alice Liddell", "email": "alice@example.com"}`).
 */
import type { LoginUser } from './ports.js';

export const CLAIMS_BY_SCOPE: Readonly<Record<string, readonly string[]>> = {
  profile: [
    'name',
    'family_name',
    'given_name',
    'middle_name',
    'nickname',
    'preferred_username',
    'profile',
    'picture',
    'website',
    'gender',
    'birthdate',
    'zoneinfo',
    'locale',
    'updated_at',
  ],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
};

/** The user's own fields first (`username`, `name`, `email`), then metadata under the claim's name. */
function read(user: LoginUser, claim: string): unknown {
  const fromMetadata = user.metadata?.[claim];
  if (claim === 'preferred_username') return fromMetadata ?? user.username;
  if (claim === 'name') return user.name ?? fromMetadata;
  if (claim === 'email') return user.email ?? fromMetadata;
  return fromMetadata;
}

export function standardClaims(user: LoginUser, scopes: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const scope of scopes) {
    for (const claim of CLAIMS_BY_SCOPE[scope] ?? []) {
      const value = read(user, claim);
      if (value !== undefined && value !== null) claims[claim] = value;
    }
  }
  return claims;
}
