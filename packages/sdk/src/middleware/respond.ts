/**
 * What every middleware shares: authenticate a request through the verifier, and turn a refusal
 * into the answer a resource server owes (RFC 6750 §3, docs/security.md #11):
 * - no credential → 401 with a challenge per accepted scheme and no error code (§3.1);
 * - invalid credential → 401 `Bearer error="invalid_token"`;
 * - malformed request → 400 `invalid_request`;
 * - missing scope → 403 `insufficient_scope` with the `scope` attribute;
 * - the issuer throttled → 429 with `Retry-After`; keys unavailable → 503 with `Retry-After`
 *   (fail closed, docs/security.md #35).
 * Bodies are `{"error", "error_description"}` like Gatehouse's `/auth/verify`, never cached.
 */
import {
  GatehouseAuthError,
  InvalidRequestError,
  MissingCredentialsError,
  RateLimitedError,
  VerifierUnavailableError,
} from '../errors.js';
import type { Identity } from '../identity.js';
import { findRepeatedHeader, type HeaderSource } from '../verifier/credentials.js';
import type { Verifier } from '../verifier/verifier.js';

/** Options every middleware takes. */
export interface AuthOptions {
  /** Scopes the route requires, all of them (403 `insufficient_scope` otherwise). */
  readonly scopes?: readonly string[];
  /** Let requests without any credential through, with no identity (a bad credential is still refused). */
  readonly optional?: boolean;
  /** The `realm` of the challenges (RFC 6750 §3); default none. */
  readonly realm?: string;
  /** Answer refusals here (default true); false hands the {@link GatehouseAuthError} to the framework's error path. */
  readonly respond?: boolean;
}

export type AuthResult =
  | { readonly ok: true; readonly identity: Identity | undefined }
  | { readonly ok: false; readonly error: GatehouseAuthError };

/**
 * Authenticates the request's headers. `rawHeaders` (Node) lets a repeated credential header be
 * seen, which `req.headers` hides (docs/security.md #28). Throws only for errors that are not
 * authentication outcomes (a bug): refusals are values.
 */
export async function authenticateHeaders(
  verifier: Verifier,
  headers: HeaderSource,
  options: AuthOptions | undefined,
  rawHeaders?: readonly string[],
): Promise<AuthResult> {
  try {
    if (rawHeaders) {
      const repeated = findRepeatedHeader(rawHeaders, ['authorization', verifier.apiKeyHeader]);
      if (repeated) {
        return {
          ok: false,
          error: new InvalidRequestError('ERR_DUPLICATE_HEADER', `The ${repeated} header appears more than once`),
        };
      }
    }
    const identity = await verifier.verifyRequest(headers, options?.scopes ? { scopes: options.scopes } : undefined);
    return { ok: true, identity };
  } catch (error) {
    if (!(error instanceof GatehouseAuthError)) throw error;
    if (options?.optional && error instanceof MissingCredentialsError) return { ok: true, identity: undefined };
    return { ok: false, error };
  }
}

export interface Refusal {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** `WWW-Authenticate` challenges, one header line each (RFC 9110 §11.6.1). */
  readonly challenges: readonly string[];
  readonly body: { readonly error: string; readonly error_description: string };
}

/** RFC 6750 §3: error, error_description and realm values exclude `"` and `\` and control characters. */
const quotable = (value: string): string => value.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, ' ');

/**
 * The response for a refusal: status, challenges and body. The Bearer challenge is always there
 * (it carries the error); API keys' and Basic's (RFC 7617 §2) are added on a 401 when accepted.
 */
export function refusal(error: GatehouseAuthError, verifier: Verifier, options: AuthOptions | undefined): Refusal {
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  const body = { error: error.error, error_description: error.description };
  if (error instanceof VerifierUnavailableError || error instanceof RateLimitedError) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfter ?? 1)));
    return { status: error.status, headers, challenges: [], body };
  }
  const realm = options?.realm === undefined ? [] : [`realm="${quotable(options.realm)}"`];
  // RFC 6750 §3.1: no error code when the request carried no credential at all.
  const described =
    error.error === 'unauthorized'
      ? []
      : [`error="${error.error}"`, `error_description="${quotable(error.description)}"`];
  // RFC 6750 §3: the scope attribute lists the scopes needed.
  const scopes = error.error === 'insufficient_scope' ? (options?.scopes ?? []) : [];
  const scope = scopes.length > 0 ? [`scope="${quotable(scopes.join(' '))}"`] : [];
  const bearer = [...realm, ...described, ...scope];
  const challenges = [bearer.length > 0 ? `Bearer ${bearer.join(', ')}` : 'Bearer'];
  if (error.status === 401 && verifier.accepts.has('apikey')) {
    // No registered scheme exists for API keys; Gatehouse's names where the key goes (RFC 9110 §11.6.1).
    challenges.push(`ApiKey realm="${quotable(options?.realm ?? 'gatehouse')}", header="${verifier.apiKeyHeader}"`);
  }
  if (error.status === 401 && verifier.accepts.has('basic')) {
    // RFC 7617 §2: realm is required; §2.1: charset says credentials are UTF-8.
    challenges.push(`Basic realm="${quotable(options?.realm ?? 'gatehouse')}", charset="UTF-8"`);
  }
  return { status: error.status, headers, challenges, body };
}
