/**
 * OpenID Connect standard claims (OIDC Core §5.1) from a user, by scope (§5.4):
 * `profile`, `email`, `address`, `phone`. `preferred_username` is the username; every other claim
 * is read from the user's metadata under its standard name, so operators fill claims simply by
 * setting metadata (`{"name": "Alice Liddell", "email": "alice@example.com"}`).
 */
import type { OAuthUser } from './ports.js';

const CLAIMS_BY_SCOPE: Readonly<Record<string, readonly string[]>> = {
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

export function standardClaims(user: OAuthUser, scopes: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const scope of scopes) {
    for (const claim of CLAIMS_BY_SCOPE[scope] ?? []) {
      const value = claim === 'preferred_username' ? (user.metadata[claim] ?? user.username) : user.metadata[claim];
      if (value !== undefined && value !== null) claims[claim] = value;
    }
  }
  return claims;
}
