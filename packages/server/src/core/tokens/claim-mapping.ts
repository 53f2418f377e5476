/**
 * Custom access-token claims from the user (issue 5 item 5): `tokens.claims` maps a claim name to
 * a source — `username`, `email`, `name` or `metadata.<key>[.<key>…]`. Registered claims can never
 * be set this way (the config parser refuses them), and a source the user lacks adds nothing.
 */

/** What a claim mapping reads from a user. */
export interface ClaimSourceUser {
  readonly username: string;
  readonly email?: string | null | undefined;
  readonly name?: string | null | undefined;
  readonly metadata?: Readonly<Record<string, unknown>> | undefined;
}

function read(user: ClaimSourceUser, source: string): unknown {
  if (source === 'username') return user.username;
  if (source === 'email') return user.email ?? undefined;
  if (source === 'name') return user.name ?? undefined;
  let value: unknown = user.metadata;
  for (const part of source.slice('metadata.'.length).split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, part)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

export function mapUserClaims(
  mapping: Readonly<Record<string, string>>,
  user: ClaimSourceUser,
): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const [claim, source] of Object.entries(mapping)) {
    const value = read(user, source);
    if (value !== undefined && value !== null) claims[claim] = value;
  }
  return claims;
}
