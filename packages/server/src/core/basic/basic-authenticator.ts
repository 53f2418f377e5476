/**
 * HTTP Basic authentication (RFC 7617) as a pipeline authenticator, in order:
 * 1. no `Basic` Authorization header → let the next mechanism look;
 * 2. HTTPS only: credentials that crossed the network in clear text are refused (and not checked)
 *    by the rule every secret of the public listener follows (../transport/secret-transport.ts):
 *    HTTPS (our TLS, or a trusted proxy's `X-Forwarded-Proto`), dev mode, or loopback allowed;
 * 3. the verification cache (./verification-cache.ts): a hit answers without decoding or hashing,
 *    but only once the throttle, from memory, lets this client through. A hit for a client the
 *    throttle holds back takes the full path like any other guess and gets the same 429: the
 *    right password must not get a different answer than the wrong ones (issue 15, finding 1);
 * 4. `parseBasicAuthorization`: a malformed value → 401 naming what is wrong (RFC 7617 §2,
 *    docs/security.md #27);
 * 5. `verifyUserPassword` (throttle, argon2id, timing equalisation, rehash, audit): success is
 *    remembered; wrong credentials → one 401 for every reason; throttled → 429 + Retry-After.
 */
import type { Authenticator, AuthOutcome, Identity, Rejection } from '../pipeline/types.js';
import {
  HTTPS_REQUIRED,
  HTTPS_REQUIRED_DESCRIPTION,
  type SecretTransportPolicy,
  secretTransportAllowed,
} from '../transport/secret-transport.js';
import type { PasswordVerification, UserPasswordVerifier } from '../users/verify-user-password.js';
import { type BasicParseProblem, basicToken68, parseBasicAuthorization } from './parse-basic-credentials.js';
import type { VerificationCache } from './verification-cache.js';

export interface BasicAuthenticatorOptions {
  /** `WWW-Authenticate` realm (RFC 7617 §2). */
  readonly realm: string;
  readonly verifier: UserPasswordVerifier;
  readonly cache: VerificationCache<Identity>;
  /** When plain HTTP is acceptable (dev mode, loopback allowance). */
  readonly transport: SecretTransportPolicy;
}

const MALFORMED: Record<BasicParseProblem, string> = {
  missing_value: 'The Basic scheme carries no credentials',
  too_long: 'The Basic credentials are too long',
  invalid_base64: 'The Basic credentials are not valid base64 (RFC 4648 §4, with padding)',
  invalid_utf8: 'The Basic credentials are not valid UTF-8 (RFC 7617 §2.1)',
  missing_colon: 'The Basic credentials have no colon between user-id and password (RFC 7617 §2)',
  empty_username: 'The Basic credentials have an empty user-id',
  control_character: 'The Basic credentials contain a control character (RFC 7617 §2)',
};

export { isLoopbackAddress } from '../transport/secret-transport.js';

const rejected = (rejection: Rejection): AuthOutcome => ({ kind: 'rejected', rejection });

export function createBasicAuthenticator(options: BasicAuthenticatorOptions): Authenticator {
  const { verifier, cache } = options;
  // RFC 7617 §2.1: the charset parameter announces that credentials are UTF-8 encoded.
  const challenge = `Basic realm="${options.realm}", charset="UTF-8"`;

  return {
    name: 'basic',
    // RFC 7617 defines no error parameters: the challenge is the same with or without an error.
    challenge: () => challenge,

    // Synchronous up to the password check: a credential verified a moment ago (the cache) is
    // answered without a promise; only the argon2id verification is asynchronous.
    authenticate(request) {
      const header = request.header('authorization');
      const token68 = basicToken68(header);
      if (token68 === undefined) return { kind: 'absent' };

      if (!secretTransportAllowed(options.transport, request)) {
        return rejected({
          status: 401,
          error: HTTPS_REQUIRED,
          description: HTTPS_REQUIRED_DESCRIPTION,
          reason: HTTPS_REQUIRED,
        });
      }

      // The hot path: a credential verified a moment ago is recognised before any decoding. Only
      // canonical, successfully verified tokens are ever stored, so a hit implies a valid parse.
      // The throttle decides first (in memory): a client it holds back is not answered from the
      // cache but goes the way of every guess below, to the same 429.
      const key = cache.enabled ? cache.keyOf(token68) : '';
      const hit = cache.enabled ? cache.get(key) : undefined;
      if (hit && verifier.throttleAdmitsRemembered({ username: hit.username, clientIp: request.clientIp })) {
        return { kind: 'authenticated', identity: hit.value };
      }

      const parsed = parseBasicAuthorization(header);
      if (parsed.kind === 'absent') return { kind: 'absent' };
      if (parsed.kind === 'malformed') {
        return rejected({
          status: 401,
          error: 'invalid_request',
          description: MALFORMED[parsed.problem],
          reason: `malformed_${parsed.problem}`,
        });
      }

      const stamp = cache.generation();
      return verifier
        .verifyUserPassword({
          username: parsed.credentials.username,
          password: parsed.credentials.password,
          clientIp: request.clientIp,
          method: 'basic',
        })
        .then((result) => concludePassword(result, key, stamp));
    },
  };

  function concludePassword(result: PasswordVerification, key: string, stamp: number): AuthOutcome {
    if (result.ok) {
      const identity: Identity = {
        subject: result.user.id,
        method: 'basic',
        scopes: result.user.scopes,
        claims: { username: result.user.username },
      };
      if (cache.enabled) {
        cache.set(key, { userId: result.user.id, username: result.user.username, value: identity }, stamp);
      }
      return { kind: 'authenticated', identity };
    }
    if (result.error === 'throttled') {
      return rejected({
        status: 429,
        error: 'too_many_attempts',
        description: `Too many failed attempts; retry after ${result.retryAfterSeconds} second${result.retryAfterSeconds === 1 ? '' : 's'}`,
        reason: `throttled_${result.scope}`,
        // RFC 6585 §4, RFC 9110 §10.2.3
        headers: { 'retry-after': String(result.retryAfterSeconds) },
      });
    }
    // One answer for unknown user, wrong password and disabled account (docs/security.md #33).
    return rejected({
      status: 401,
      error: 'invalid_credentials',
      description: 'The username or password is incorrect',
      reason: result.reason,
      ...(result.userId ? { target: result.userId } : {}),
    });
  }
}
