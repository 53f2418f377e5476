/**
 * One request to the token endpoint (RFC 6749 §3.2): form-encoded parameters, client
 * authentication, and either a token response (§5.1) or an OAuth error (§5.2), thrown as an
 * {@link OAuthError} named after its `error` code.
 */
import { openExchange } from '../http/fetch-json.js';
import type { ClientAuthenticator } from './client-auth.js';

/** A successful token response (RFC 6749 §5.1, RFC 8693 §2.2.1). */
export interface TokenResponse {
  readonly accessToken: string;
  readonly tokenType: string;
  /** Lifetime in seconds, as the server said (undefined when it did not). */
  readonly expiresIn: number | undefined;
  /** The granted scope, when the server said (RFC 6749 §5.1: REQUIRED if it differs from the request). */
  readonly scope: string | undefined;
  /** RFC 8693 §2.2.1 `issued_token_type`, for token exchange. */
  readonly issuedTokenType: string | undefined;
  /** Every member of the response, as sent. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/**
 * The token endpoint refused: `error` is the RFC 6749 §5.2 code (`invalid_client`,
 * `invalid_scope`, `unauthorized_client`, `invalid_grant`…).
 *
 * @example
 * ```ts
 * try { await client.getToken(); } catch (error) {
 *   if (error instanceof OAuthError && error.error === 'invalid_client') console.error('check the client secret');
 * }
 * ```
 */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string | undefined,
    readonly status: number,
  ) {
    super(`The token endpoint answered ${status} ${error}${description ? `: ${description}` : ''}`);
    this.name = 'OAuthError';
  }
}

export interface TokenRequestOptions {
  readonly endpoint: string;
  readonly issuer: string;
  readonly client: ClientAuthenticator;
  readonly fetch: typeof globalThis.fetch;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** POSTs `params` to the token endpoint with the client's credentials. */
export async function requestToken(params: URLSearchParams, options: TokenRequestOptions): Promise<TokenResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  await options.client.apply(params, headers, options.issuer);
  const exchange = await openExchange(options.endpoint, {
    what: 'token endpoint',
    fetch: options.fetch,
    timeoutMs: options.timeoutMs,
    maxBytes: 64 * 1024,
    method: 'POST',
    headers,
    body: params.toString(),
    signal: options.signal,
  });
  const { status } = exchange.response;
  if (status !== 200 && (status < 400 || status >= 500)) {
    exchange.discard();
    throw exchange.fail('ERR_REMOTE_STATUS', `answered HTTP ${status}`, undefined);
  }
  const body = await exchange.readJson();
  const fields = (body !== null && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  if (status !== 200) {
    // RFC 6749 §5.2: an error response names the error in `error`.
    const error = typeof fields.error === 'string' ? fields.error : 'invalid_request';
    const description = typeof fields.error_description === 'string' ? fields.error_description : undefined;
    throw new OAuthError(error, description, status);
  }
  const { access_token, token_type, expires_in, scope, issued_token_type } = fields;
  if (typeof access_token !== 'string' || access_token.length === 0) {
    throw exchange.fail('ERR_TOKEN_RESPONSE_INVALID', 'answered without an access_token', undefined);
  }
  // RFC 6749 §7.1: we only know how to use Bearer tokens (RFC 6750); token_type is case-insensitive.
  if (typeof token_type !== 'string' || token_type.toLowerCase() !== 'bearer') {
    throw exchange.fail(
      'ERR_TOKEN_RESPONSE_INVALID',
      `answered token_type ${JSON.stringify(token_type)}; only Bearer is supported`,
      undefined,
    );
  }
  return {
    accessToken: access_token,
    tokenType: token_type,
    expiresIn: typeof expires_in === 'number' && Number.isFinite(expires_in) && expires_in > 0 ? expires_in : undefined,
    scope: typeof scope === 'string' ? scope : undefined,
    issuedTokenType: typeof issued_token_type === 'string' ? issued_token_type : undefined,
    raw: fields,
  };
}
