/**
 * The `apikey` mechanism of the authentication pipeline. A key is accepted from
 *
 * - the configured header (`X-API-Key` by default);
 * - `Authorization: Bearer <key>` when the token carries our key prefix (other bearer tokens are
 *   left to the next mechanism, such as JWT);
 * - the `api_key` query parameter, only when the operator enables it (URLs end up in logs and
 *   browser history: docs/security.md #26, RFC 6750 §2.3).
 *
 * A key sent in more than one of these places is a 400 `invalid_request` (RFC 6750 §2: "Clients
 * MUST NOT use more than one method to transmit the token in each request"). Every bad key gets
 * one uniform 401: the precise reason goes to the log and the audit, not to the caller.
 */
import { afterBearerScheme } from '../pipeline/bearer.js';
import { singleQueryParameter } from '../pipeline/query.js';
import type {
  AccessPolicy,
  AuthenticateOptions,
  Authenticator,
  AuthOutcome,
  AuthRequest,
  Rejection,
} from '../pipeline/types.js';
import type { ApiKeyVerifier, Verdict } from './verify.js';

export interface ApiKeyAuthenticatorOptions {
  readonly verifier: ApiKeyVerifier;
  /** Keys carry `<prefix>_`; a bearer token without it is not ours. */
  readonly prefix: string;
  /** Lower-case header name. */
  readonly header: string;
  /** Accept `?api_key=` (off by default). */
  readonly queryParam: boolean;
}

export const QUERY_PARAMETER = 'api_key';

const INVALID: Omit<Rejection, 'reason'> = {
  status: 401,
  // RFC 6750 §3.1: "The access token provided is expired, revoked, malformed, or invalid".
  error: 'invalid_token',
  description: 'The API key is not valid',
};
const THROTTLED: Omit<Rejection, 'reason'> = {
  status: 429,
  error: 'rate_limited',
  description: 'Too many requests with this API key; retry after the time in Retry-After',
};
const SENT_TWICE: Rejection = {
  status: 400,
  error: 'invalid_request',
  description: 'The API key was sent in more than one place; send it once',
  reason: 'api_key_sent_twice',
};

const UNCACHED: AuthOutcome = { kind: 'uncached' };

type Presented = { readonly key: string } | { readonly conflict: true } | undefined;

export function createApiKeyAuthenticator(options: ApiKeyAuthenticatorOptions): Authenticator {
  const { verifier, header, queryParam } = options;
  const head = `${options.prefix}_`;
  const rejections = new Map<string, Rejection>();

  const fromBearer = (authorization: string | undefined): string | undefined => {
    const token = afterBearerScheme(authorization);
    return token?.startsWith(head) ? token : undefined;
  };

  const present = (request: AuthRequest): Presented => {
    const fromHeader = request.header(header);
    const bearer = fromBearer(request.header('authorization'));
    const query = queryParam ? singleQueryParameter(request.url, QUERY_PARAMETER) : undefined;
    if (query === null) return { conflict: true };
    const sent = (fromHeader === undefined ? 0 : 1) + (bearer === undefined ? 0 : 1) + (query === undefined ? 0 : 1);
    if (sent > 1) return { conflict: true };
    const key = fromHeader ?? bearer ?? query;
    return key === undefined ? undefined : { key };
  };

  const toOutcome = (verdict: Verdict): AuthOutcome => {
    if (verdict.ok) {
      return verdict.headers
        ? { kind: 'authenticated', identity: verdict.key.identity, headers: verdict.headers }
        : { kind: 'authenticated', identity: verdict.key.identity };
    }
    if (verdict.reason === 'uncached') return UNCACHED;
    const base = verdict.reason === 'rate_limited' ? THROTTLED : INVALID;
    if (verdict.keyId === undefined && verdict.headers === undefined) {
      let rejection = rejections.get(verdict.reason);
      if (!rejection) {
        rejection = { ...base, reason: verdict.reason };
        rejections.set(verdict.reason, rejection);
      }
      return { kind: 'rejected', rejection };
    }
    return {
      kind: 'rejected',
      rejection: {
        ...base,
        reason: verdict.reason,
        ...(verdict.keyId === undefined ? {} : { target: verdict.keyId }),
        ...(verdict.headers === undefined ? {} : { headers: verdict.headers }),
      },
    };
  };

  return {
    name: 'apikey',
    headers: [header],
    budgeted: true,
    challenge(error) {
      // No registered scheme exists for API keys; this one names where the key goes (RFC 9110 §11.6.1).
      const base = `ApiKey realm="gatehouse", header="${header}"`;
      return error ? `${base}, error="${error.error}", error_description="${error.description}"` : base;
    },
    authenticate(request: AuthRequest, policy?: AccessPolicy, options?: AuthenticateOptions) {
      const presented = present(request);
      if (presented === undefined) return { kind: 'absent' };
      if ('conflict' in presented) return { kind: 'rejected', rejection: SENT_TWICE };
      const verdict = verifier.verify(presented.key, policy?.scopes, options?.memoryOnly === true);
      return verdict instanceof Promise ? verdict.then(toOutcome) : toOutcome(verdict);
    },
  };
}
