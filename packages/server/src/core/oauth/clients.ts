/**
 * OAuth clients: the registered metadata (RFC 7591 §2 names), their secrets, and the rules a
 * registration must satisfy. Secrets are 256 random bits, shown once and stored as SHA-256: a
 * secret that cannot be guessed needs no slow hash (the same reasoning as API keys), and the check
 * is a constant-time comparison of digests (docs/security.md #18, #20).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { newId, randomBase62 } from '../secrets/random.js';
import { checkRedirectUriRegistration } from './redirect-uri.js';
import { SCOPE_TOKEN } from './scopes.js';

export const GRANT_TYPES = {
  authorizationCode: 'authorization_code',
  clientCredentials: 'client_credentials',
  refreshToken: 'refresh_token',
  tokenExchange: 'urn:ietf:params:oauth:grant-type:token-exchange',
} as const;
export type GrantType = (typeof GRANT_TYPES)[keyof typeof GRANT_TYPES];
export const SUPPORTED_GRANT_TYPES: readonly GrantType[] = Object.values(GRANT_TYPES);

/** RFC 7591 §2 `token_endpoint_auth_method` values we support. */
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
export type ClientAuthMethod = (typeof AUTH_METHODS)[number];

/** Algorithms accepted for `private_key_jwt` assertions and offered for ID tokens: asymmetric only. */
export const ASSERTION_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;

export interface ClientSecretRecord {
  /** SHA-256 of the secret, hex. */
  readonly hash: string;
  /** Set on the previous secret after a rotation: accepted until then (the grace period). */
  readonly expiresAt: string | null;
}

export interface OAuthClient {
  readonly id: string;
  readonly name: string;
  readonly grantTypes: readonly GrantType[];
  /** The scopes this client may ever receive. */
  readonly scopes: readonly string[];
  readonly redirectUris: readonly string[];
  /** Audiences the client may ask for (`resource`/`audience`); the first is the default `aud`. */
  readonly audience: readonly string[];
  readonly authMethod: ClientAuthMethod;
  /** The current secret and, during a rotation's grace period, the previous one. */
  readonly secrets: readonly ClientSecretRecord[];
  /** RFC 7591 `jwks` (a JWK Set) for private_key_jwt. */
  readonly jwks: { keys: Record<string, unknown>[] } | null;
  readonly jwksUri: string | null;
  readonly accessTokenLifetime: number | null;
  readonly refreshTokenLifetime: number | null;
  /** First-party clients may skip the consent page. */
  readonly skipConsent: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What client management needs of the store (implemented in store/). */
export interface ClientStore {
  find(id: string): Promise<OAuthClient | undefined>;
  /** Inserts; false when the id is taken. */
  insert(client: OAuthClient): Promise<boolean>;
  update(client: OAuthClient): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  list(query: {
    limit: number;
    cursor?: string | undefined;
  }): Promise<{ clients: OAuthClient[]; nextCursor: string | null }>;
}

export const CLIENT_SECRET_PREFIX = 'ghcs_';

export const generateClientSecret = (): string => `${CLIENT_SECRET_PREFIX}${randomBase62(32)}`;
export const newClientId = (): string => newId('cli');
export const hashClientSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

/** A digest compared against when the client is unknown, so that timing does not tell. */
const DUMMY_HASH = hashClientSecret('gatehouse-no-such-client');

/**
 * Whether `presented` is one of the client's live secrets. Every live secret is compared, in
 * constant time, so the answer takes the same time whichever matched (docs/security.md #18).
 */
export function verifyClientSecret(client: OAuthClient | undefined, presented: string, now: number): boolean {
  const digest = Buffer.from(hashClientSecret(presented), 'hex');
  const records = client?.secrets ?? [{ hash: DUMMY_HASH, expiresAt: null }];
  let matched = false;
  for (const record of records) {
    const live = record.expiresAt === null || Date.parse(record.expiresAt) > now;
    const equal = timingSafeEqual(digest, Buffer.from(record.hash, 'hex'));
    matched = (equal && live && client !== undefined) || matched;
  }
  return matched;
}

/** Ids a client may not choose: they look like ids of other kinds (docs/security.md #21). */
const RESERVED_PREFIX = /^(usr|key|adm|evt|tok|grt|ses)_/;
const CLIENT_ID = /^[A-Za-z0-9._~-]{3,64}$/;

export interface ClientFieldProblem {
  readonly field: string;
  readonly message: string;
}

/** The registration fields as the admin API receives them (RFC 7591 names). */
export interface ClientRegistration {
  readonly client_id?: string;
  readonly client_name?: string;
  readonly grant_types?: readonly string[];
  readonly scope?: string;
  readonly redirect_uris?: readonly string[];
  readonly audience?: readonly string[];
  readonly token_endpoint_auth_method?: string;
  readonly jwks?: { keys: Record<string, unknown>[] } | null;
  readonly jwks_uri?: string | null;
  readonly access_token_lifetime?: number | null;
  readonly refresh_token_lifetime?: number | null;
  readonly skip_consent?: boolean;
}

/** Checks of registration fields that depend on the deployment (the outbound fetch policy). */
export interface RegistrationChecks {
  /** A problem with a `jwks_uri` before it is ever fetched, or undefined. */
  readonly checkJwksUri?: (uri: string) => string | undefined;
}

/** Without a fetch policy at hand: an absolute https URL. */
const httpsOnly = (uri: string): string | undefined => {
  try {
    return new URL(uri).protocol === 'https:' ? undefined : 'must be an https URL';
  } catch {
    return 'must be an absolute https URL';
  }
};

/** Checks a client id chosen by the operator. Generated ids (`cli_…`) need no check. */
export function checkClientId(id: string): ClientFieldProblem | undefined {
  if (!CLIENT_ID.test(id)) {
    return { field: 'client_id', message: 'must be 3-64 characters of A-Z a-z 0-9 . _ ~ -' };
  }
  if (RESERVED_PREFIX.test(id)) {
    return { field: 'client_id', message: 'must not start with a prefix reserved for other ids (usr_, key_, …)' };
  }
  return undefined;
}

/**
 * Builds a client from a registration, or from an existing client plus changed fields. Answers
 * every problem found, each naming its field.
 */
export function applyRegistration(
  base: OAuthClient,
  changes: ClientRegistration,
  checks: RegistrationChecks = {},
): { ok: true; client: OAuthClient } | { ok: false; problems: ClientFieldProblem[] } {
  const problems: ClientFieldProblem[] = [];
  const client: Mutable<OAuthClient> = { ...base };
  if (changes.client_name !== undefined) client.name = changes.client_name;
  if (changes.grant_types !== undefined) {
    const unknown = changes.grant_types.filter(
      (grant) => !(SUPPORTED_GRANT_TYPES as readonly string[]).includes(grant),
    );
    if (unknown.length > 0) {
      problems.push({
        field: 'grant_types',
        message: `unsupported: ${unknown.join(', ')} (the implicit and password grants are not offered, RFC 9700 §2.1.2, §2.4)`,
      });
    }
    client.grantTypes = [...new Set(changes.grant_types)] as GrantType[];
  }
  if (changes.scope !== undefined) {
    const scopes = changes.scope.split(' ').filter((scope) => scope !== '');
    if (scopes.some((scope) => !SCOPE_TOKEN.test(scope))) {
      problems.push({ field: 'scope', message: 'holds a character RFC 6749 §3.3 does not allow' });
    }
    client.scopes = [...new Set(scopes)];
  }
  if (changes.redirect_uris !== undefined) {
    changes.redirect_uris.forEach((uri, index) => {
      const check = checkRedirectUriRegistration(uri);
      if (!check.ok) problems.push({ field: `redirect_uris.${index}`, message: check.problem });
    });
    client.redirectUris = [...new Set(changes.redirect_uris)];
  }
  if (changes.audience !== undefined) client.audience = [...new Set(changes.audience)];
  if (changes.token_endpoint_auth_method !== undefined) {
    if (!(AUTH_METHODS as readonly string[]).includes(changes.token_endpoint_auth_method)) {
      problems.push({ field: 'token_endpoint_auth_method', message: `must be one of ${AUTH_METHODS.join(', ')}` });
    } else {
      client.authMethod = changes.token_endpoint_auth_method as ClientAuthMethod;
    }
  }
  if (changes.jwks !== undefined) client.jwks = changes.jwks;
  if (changes.jwks_uri !== undefined) {
    // The outbound fetch policy judges what it can before any fetch: the scheme, credentials in
    // the URL, an internal IP literal. A host name is judged when it resolves, at use.
    const problem = changes.jwks_uri === null ? undefined : (checks.checkJwksUri ?? httpsOnly)(changes.jwks_uri);
    if (problem) problems.push({ field: 'jwks_uri', message: problem });
    client.jwksUri = changes.jwks_uri;
  }
  if (changes.access_token_lifetime !== undefined) client.accessTokenLifetime = changes.access_token_lifetime;
  if (changes.refresh_token_lifetime !== undefined) client.refreshTokenLifetime = changes.refresh_token_lifetime;
  if (changes.skip_consent !== undefined) client.skipConsent = changes.skip_consent;
  problems.push(...consistencyProblems(client));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, client };
}

/** Rules across fields, checked after every change. */
function consistencyProblems(client: OAuthClient): ClientFieldProblem[] {
  const problems: ClientFieldProblem[] = [];
  const usesCode = client.grantTypes.includes(GRANT_TYPES.authorizationCode);
  if (usesCode && client.redirectUris.length === 0) {
    problems.push({ field: 'redirect_uris', message: 'the authorization_code grant needs at least one redirect URI' });
  }
  if (client.authMethod === 'none') {
    // A public client cannot keep a secret: only user-facing grants make sense (RFC 6749 §2.1, §4.4).
    const confidentialOnly = client.grantTypes.filter(
      (grant) => grant === GRANT_TYPES.clientCredentials || grant === GRANT_TYPES.tokenExchange,
    );
    if (confidentialOnly.length > 0) {
      problems.push({
        field: 'grant_types',
        message: `${confidentialOnly.join(', ')} needs an authenticated client; token_endpoint_auth_method is none`,
      });
    }
  }
  if (client.authMethod === 'private_key_jwt') {
    if (!client.jwks && !client.jwksUri) {
      problems.push({ field: 'jwks', message: 'private_key_jwt needs the client’s public keys: jwks or jwks_uri' });
    }
    if (client.jwks && client.jwksUri) {
      // RFC 7591 §2: "The jwks_uri and jwks parameters MUST NOT both be present".
      problems.push({ field: 'jwks', message: 'give jwks or jwks_uri, not both (RFC 7591 §2)' });
    }
    for (const [index, key] of (client.jwks?.keys ?? []).entries()) {
      if ('d' in key || key.kty === 'oct') {
        problems.push({ field: `jwks.keys.${index}`, message: 'must be a public key (no private or symmetric keys)' });
      }
    }
  }
  return problems;
}

/** The defaults a new client starts from. */
export function blankClient(id: string, now: string): OAuthClient {
  return {
    id,
    name: id,
    grantTypes: [GRANT_TYPES.clientCredentials],
    scopes: [],
    redirectUris: [],
    audience: [],
    authMethod: 'client_secret_basic',
    secrets: [],
    jwks: null,
    jwksUri: null,
    accessTokenLifetime: null,
    refreshTokenLifetime: null,
    skipConsent: false,
    createdAt: now,
    updatedAt: now,
  };
}

/** Whether the client authenticates with a shared secret. */
export const usesSecret = (client: Pick<OAuthClient, 'authMethod'>): boolean =>
  client.authMethod === 'client_secret_basic' || client.authMethod === 'client_secret_post';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
