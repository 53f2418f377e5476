/**
 * HTTP Basic authentication (RFC 7617) as a pipeline authenticator, in order:
 * 1. `parseBasicAuthorization`: absent or another scheme → let the next mechanism look;
 * 2. HTTPS only: credentials that crossed the network in clear text are refused (and not checked)
 *    unless the connection was HTTPS (our TLS, or a trusted proxy's `X-Forwarded-Proto`), the
 *    server runs in dev mode, or loopback clients are allowed;
 * 3. a malformed value → 401 naming what is wrong (RFC 7617 §2, SECURITY.md #27);
 * 4. the verification cache (./verification-cache.ts): a hit answers without hashing;
 * 5. `verifyUserPassword` (throttle, argon2id, timing equalisation, rehash, audit): success is
 *    remembered; wrong credentials → one 401 for every reason; throttled → 429 + Retry-After.
 */
import { BlockList, isIPv4 } from 'node:net';
import type { Authenticator, AuthOutcome, Identity, Rejection } from '../pipeline/types.js';
import type { UserPasswordVerifier } from '../users/verify-user-password.js';
import { type BasicParseProblem, parseBasicAuthorization } from './parse-basic-credentials.js';
import type { VerificationCache } from './verification-cache.js';

export interface BasicAuthenticatorOptions {
  /** `WWW-Authenticate` realm (RFC 7617 §2). */
  readonly realm: string;
  readonly verifier: UserPasswordVerifier;
  readonly cache: VerificationCache<Identity>;
  /** Accept Basic over plain HTTP from anywhere (development only). */
  readonly dev: boolean;
  /** Accept Basic over plain HTTP from loopback clients. */
  readonly allowInsecureLoopback: boolean;
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

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

export function isLoopbackAddress(ip: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  const address = mapped ?? ip;
  return isIPv4(address) ? loopback.check(address, 'ipv4') : loopback.check(address, 'ipv6');
}

const rejected = (rejection: Rejection): AuthOutcome => ({ kind: 'rejected', rejection });

export function createBasicAuthenticator(options: BasicAuthenticatorOptions): Authenticator {
  const { verifier, cache } = options;
  // RFC 7617 §2.1: the charset parameter announces that credentials are UTF-8 encoded.
  const challenge = `Basic realm="${options.realm}", charset="UTF-8"`;

  const transportAllowed = (secure: boolean, clientIp: string) =>
    secure || options.dev || (options.allowInsecureLoopback && isLoopbackAddress(clientIp));

  return {
    name: 'basic',
    // RFC 7617 defines no error parameters: the challenge is the same with or without an error.
    challenge: () => challenge,

    async authenticate(request) {
      const parsed = parseBasicAuthorization(request.header('authorization'));
      if (parsed.kind === 'absent') return { kind: 'absent' };

      if (!transportAllowed(request.secure, request.clientIp)) {
        return rejected({
          status: 401,
          error: 'https_required',
          description:
            'Basic credentials are only accepted over HTTPS: they travel in clear text otherwise. Use https://, ' +
            'or have a trusted proxy (trust_proxy) terminate TLS and send X-Forwarded-Proto: https. ' +
            'These credentials were sent unencrypted and should be considered exposed.',
          reason: 'https_required',
        });
      }

      if (parsed.kind === 'malformed') {
        return rejected({
          status: 401,
          error: 'invalid_request',
          description: MALFORMED[parsed.problem],
          reason: `malformed_${parsed.problem}`,
        });
      }

      const key = cache.enabled ? cache.keyOf(parsed.token68) : '';
      const hit = cache.enabled ? cache.get(key) : undefined;
      if (hit) return { kind: 'authenticated', identity: hit.value };

      const stamp = cache.generation();
      const result = await verifier.verifyUserPassword({
        username: parsed.credentials.username,
        password: parsed.credentials.password,
        clientIp: request.clientIp,
        method: 'basic',
      });
      if (result.ok) {
        const identity: Identity = {
          subject: result.user.id,
          method: 'basic',
          scopes: result.user.scopes,
          claims: { username: result.user.username },
        };
        if (cache.enabled) cache.set(key, { userId: result.user.id, value: identity }, stamp);
        return { kind: 'authenticated', identity };
      }
      if (result.error === 'throttled') {
        return rejected({
          status: 429,
          error: 'too_many_attempts',
          description: `Too many failed attempts; retry after ${result.retryAfterSeconds} seconds`,
          reason: `throttled_${result.scope}`,
          // RFC 6585 §4, RFC 9110 §10.2.3
          headers: { 'retry-after': String(result.retryAfterSeconds) },
        });
      }
      // One answer for unknown user, wrong password and disabled account (SECURITY.md #33).
      return rejected({
        status: 401,
        error: 'invalid_credentials',
        description: 'The username or password is incorrect',
        reason: result.reason,
        ...(result.userId ? { target: result.userId } : {}),
      });
    },
  };
}
