/**
 * Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3,
 * RFC 7523 §2.2, docs/security.md #18). Exactly one method per request: HTTP Basic
 * (`client_secret_basic`), `client_id` + `client_secret` in the body (`client_secret_post`), a
 * signed assertion (`private_key_jwt`), or `client_id` alone for public clients (`none`). The
 * method used must be the one the client registered.
 *
 * Answers a value: the authenticated client, or an `InvalidClient`/`InvalidRequest` to send.
 */
import { createLocalJWKSet, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from 'jose';
import type { Clock } from '../audit/audit.js';
import { type ClientKeySets, KeySetUnavailable } from './client-key-sets.js';
import {
  ASSERTION_ALGS,
  type ClientAuthMethod,
  type ClientStore,
  type OAuthClient,
  verifyClientSecret,
} from './clients.js';
import { InvalidClient, InvalidRequest, type OAuthError } from './errors.js';
import type { OAuthParams } from './params.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Single use of `client_assertion` jti values (RFC 7523 §3 item 7, docs/security.md #18). */
export interface AssertionReplayStore {
  /** Records the jti; false when it was seen before (a replay). */
  remember(clientId: string, jti: string, expiresAt: string): Promise<boolean>;
}

export interface ClientAuthRequest {
  /** The raw `Authorization` header. */
  readonly authorization: string | undefined;
  /** The request's form parameters (duplicates already refused). */
  readonly params: OAuthParams;
}

export type ClientAuthOutcome =
  | { readonly ok: true; readonly client: OAuthClient; readonly method: ClientAuthMethod }
  | { readonly ok: false; readonly error: OAuthError };

export interface ClientAuthenticatorOptions {
  readonly clients: ClientStore;
  readonly replay: AssertionReplayStore;
  readonly clock: Clock;
  /** Values a client assertion's `aud` may hold: the issuer and the endpoint URLs (RFC 7523 §3 item 3). */
  readonly assertionAudiences: () => readonly string[];
  /** Keys of clients registered with a `jwks_uri`, fetched under the outbound fetch policy. */
  readonly remoteKeys: ClientKeySets;
  /** Upper bound on an assertion's lifetime, so the replay store stays small. */
  readonly maxAssertionLifetimeSeconds?: number;
}

export interface ClientAuthenticator {
  authenticate(request: ClientAuthRequest): Promise<ClientAuthOutcome>;
}

const fail = (error: OAuthError): ClientAuthOutcome => ({ ok: false, error });
const BASIC = /^Basic +([A-Za-z0-9+/]+=*) *$/i;

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64. */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

type BasicCredentials = { id: string; secret: string } | 'malformed';

function parseBasic(header: string): BasicCredentials {
  const match = BASIC.exec(header);
  if (!match?.[1]) return 'malformed';
  const decoded = Buffer.from(match[1], 'base64');
  const text = new TextDecoder('utf-8', { fatal: false }).decode(decoded);
  // RFC 7617 §2: the user-id cannot contain a colon; split on the first one.
  const colon = text.indexOf(':');
  if (colon <= 0 || /[\x00-\x1f\x7f]/.test(text) || text.includes('\ufffd')) return 'malformed';
  const id = formDecode(text.slice(0, colon));
  const secret = formDecode(text.slice(colon + 1));
  if (!id || secret === undefined) return 'malformed';
  return { id, secret };
}

export function createClientAuthenticator(options: ClientAuthenticatorOptions): ClientAuthenticator {
  const { clients, clock } = options;
  const maxLifetime = options.maxAssertionLifetimeSeconds ?? 600;

  const keySetFor = (client: OAuthClient): JWTVerifyGetKey | undefined => {
    if (client.jwks) return createLocalJWKSet(client.jwks as Parameters<typeof createLocalJWKSet>[0]);
    if (!client.jwksUri) return undefined;
    return options.remoteKeys.keysFor(client.id, client.jwksUri);
  };

  /** RFC 7523 §3: the assertion's iss and sub are the client id, aud names us, exp bounds it, jti once. */
  async function verifyAssertion(assertion: string, claimedId: string | undefined): Promise<ClientAuthOutcome> {
    let unverifiedSub: unknown;
    try {
      const payload = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8'));
      unverifiedSub = payload?.sub;
    } catch {
      return fail(new InvalidClient('client_assertion is not a JWT', false, 'malformed_assertion'));
    }
    const clientId = claimedId ?? (typeof unverifiedSub === 'string' ? unverifiedSub : undefined);
    if (!clientId) return fail(new InvalidClient('client_assertion names no client', false, 'malformed_assertion'));
    if (claimedId !== undefined && unverifiedSub !== claimedId) {
      return fail(new InvalidClient('client_assertion sub does not match client_id', false, 'assertion_mismatch'));
    }
    const client = await clients.find(clientId);
    if (!client) return fail(new InvalidClient('Client authentication failed', false, 'unknown_client'));
    if (client.authMethod !== 'private_key_jwt') {
      return fail(new InvalidClient('Client authentication failed', false, 'wrong_method'));
    }
    const keys = keySetFor(client);
    if (!keys) return fail(new InvalidClient('Client authentication failed', false, 'no_keys'));
    const now = Math.floor(clock.now() / 1000);
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(assertion, keys, {
        algorithms: [...ASSERTION_ALGS],
        issuer: client.id,
        subject: client.id,
        audience: [...options.assertionAudiences()],
        requiredClaims: ['exp', 'jti'],
        currentDate: new Date(now * 1000),
        clockTolerance: 30,
      }));
    } catch (error) {
      // The registered jwks_uri was refused by the outbound fetch policy or failed: 401, never 500.
      if (error instanceof KeySetUnavailable) {
        return fail(
          new InvalidClient('The client’s keys (jwks_uri) could not be fetched', false, `jwks_${error.reason}`),
        );
      }
      const reason = error instanceof joseErrors.JOSEError ? error.code : 'assertion_error';
      return fail(new InvalidClient('client_assertion is not valid', false, reason));
    }
    const exp = payload.exp as number;
    if (exp - now > maxLifetime) {
      return fail(
        new InvalidClient(`client_assertion must expire within ${maxLifetime} seconds`, false, 'assertion_too_long'),
      );
    }
    const jti = String(payload.jti);
    if (!(await options.replay.remember(client.id, jti, new Date(exp * 1000).toISOString()))) {
      return fail(new InvalidClient('client_assertion was already used', false, 'assertion_replayed'));
    }
    return { ok: true, client, method: 'private_key_jwt' };
  }

  async function checkSecret(
    id: string,
    secret: string,
    method: 'client_secret_basic' | 'client_secret_post',
  ): Promise<ClientAuthOutcome> {
    const usedBasic = method === 'client_secret_basic';
    const client = await clients.find(id);
    // Compared even for an unknown client, against a dummy digest: timing does not tell.
    const secretOk = verifyClientSecret(client, secret, clock.now());
    if (!client) return fail(new InvalidClient('Client authentication failed', usedBasic, 'unknown_client'));
    if (!secretOk) return fail(new InvalidClient('Client authentication failed', usedBasic, 'bad_secret'));
    if (client.authMethod !== method) {
      return fail(
        new InvalidClient(
          `This client authenticates with ${client.authMethod}, not ${method}`,
          usedBasic,
          'wrong_method',
        ),
      );
    }
    return { ok: true, client, method };
  }

  return {
    async authenticate({ authorization, params }) {
      const bodyId = params.get('client_id');
      const bodySecret = params.get('client_secret');
      const assertionType = params.get('client_assertion_type');
      const assertion = params.get('client_assertion');
      const usesBasic = authorization !== undefined;
      const usesPost = bodySecret !== undefined;
      const usesAssertion = assertion !== undefined || assertionType !== undefined;
      // RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
      if ([usesBasic, usesPost, usesAssertion].filter(Boolean).length > 1) {
        return fail(new InvalidRequest('The client used more than one authentication method (RFC 6749 §2.3)'));
      }
      if (usesBasic) {
        const credentials = parseBasic(authorization);
        if (credentials === 'malformed') {
          return fail(
            new InvalidClient('The Authorization header is not valid Basic credentials', true, 'malformed_basic'),
          );
        }
        if (bodyId !== undefined && bodyId !== credentials.id) {
          return fail(new InvalidRequest('client_id in the body differs from the authenticated client'));
        }
        return checkSecret(credentials.id, credentials.secret, 'client_secret_basic');
      }
      if (usesAssertion) {
        if (assertionType !== JWT_BEARER_ASSERTION) {
          return fail(new InvalidRequest(`client_assertion_type must be ${JWT_BEARER_ASSERTION}`));
        }
        if (!assertion) return fail(new InvalidRequest('client_assertion is missing'));
        return verifyAssertion(assertion, bodyId);
      }
      if (bodyId === undefined) {
        return fail(new InvalidClient('Client authentication is required', false, 'no_credentials'));
      }
      if (usesPost) return checkSecret(bodyId, bodySecret, 'client_secret_post');
      const client = await clients.find(bodyId);
      if (!client) return fail(new InvalidClient('Client authentication failed', false, 'unknown_client'));
      // A confidential client that sends no credential is refused, not treated as public.
      if (client.authMethod !== 'none') {
        return fail(new InvalidClient('Client authentication is required', false, 'no_credentials'));
      }
      return { ok: true, client, method: 'none' };
    },
  };
}
