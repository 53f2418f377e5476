/**
 * Finding the credential in a request. RFC 6750 §2.1: `Authorization: Bearer <b64token>`, scheme
 * case-insensitive; RFC 7617 §2: `Basic`; an API key in its own header (`X-API-Key`). Never from
 * the query string (RFC 6750 §2.3 is a MUST NOT for us: docs/security.md #26). A request carrying a
 * credential header twice, or two credentials at once, is malformed (400 `invalid_request`,
 * RFC 6750 §3.1; docs/security.md #28): the issuer and we might otherwise read different ones.
 */
import { InvalidRequestError } from '../errors.js';

/** The kinds of credential a verifier can be told to accept. */
export type CredentialKind = 'jwt' | 'apikey' | 'basic' | 'opaque';

export interface PresentedCredential {
  readonly kind: CredentialKind;
  /** The token, the API key, or the Basic credentials (base64 part). */
  readonly value: string;
  /** The header it came in, and its whole value, to forward to `/auth/verify` as sent. */
  readonly header: string;
  readonly headerValue: string;
}

/** A request header by lower-case name: one value, several (repeated header), or none. */
export type HeaderLookup = (name: string) => string | readonly string[] | undefined;

/** Anything that holds request headers: a Fetch `Headers`, Node's `req.headers`, or a function. */
export type HeaderSource = Headers | Readonly<Record<string, string | readonly string[] | undefined>> | HeaderLookup;

export function toHeaderLookup(source: HeaderSource): HeaderLookup {
  if (typeof source === 'function') return source;
  if (typeof (source as Headers).get === 'function' && typeof (source as Headers).has === 'function') {
    const headers = source as Headers;
    return (name) => headers.get(name) ?? undefined;
  }
  const record = source as Readonly<Record<string, string | readonly string[] | undefined>>;
  return (name) => record[name];
}

/** RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** RFC 9110 §11.1: auth-scheme = token. */
const AUTH_SCHEME = /^[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*$/;

/** Three non-empty-headed dot-separated parts: a compact JWS (anything else is opaque or an API key). */
export function hasJwsShape(token: string): boolean {
  const first = token.indexOf('.');
  const second = first < 1 ? -1 : token.indexOf('.', first + 1);
  return second > first + 1 && token.indexOf('.', second + 1) === -1;
}

function single(lookup: HeaderLookup, name: string): string | undefined {
  const value = lookup(name);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    if (value.length > 1) {
      throw new InvalidRequestError('ERR_DUPLICATE_HEADER', `The ${name} header appears more than once`);
    }
    return value[0];
  }
  return value;
}

/**
 * The credential a request carries (`Bearer` tokens starting with `<apiKeyPrefix>_` are API keys,
 * as Gatehouse reads them), undefined when it carries none we recognise (another
 * `Authorization` scheme counts as none: it is not for us). Throws {@link InvalidRequestError}
 * for a malformed or ambiguous request.
 */
export function findCredential(
  lookup: HeaderLookup,
  apiKeyHeader: string,
  apiKeyPrefix: string,
): PresentedCredential | undefined {
  const authorization = single(lookup, 'authorization');
  const apiKey = single(lookup, apiKeyHeader);
  let found: PresentedCredential | undefined;
  if (authorization !== undefined && authorization !== '') {
    // RFC 9110 §11.4: credentials = auth-scheme [ 1*SP ( token68 / auth-param list ) ].
    const space = authorization.indexOf(' ');
    const scheme = space < 0 ? authorization : authorization.slice(0, space);
    if (!AUTH_SCHEME.test(scheme)) {
      throw new InvalidRequestError('ERR_MALFORMED_AUTHORIZATION', 'The Authorization header is malformed');
    }
    let start = space + 1;
    while (space >= 0 && authorization.charCodeAt(start) === 32) start++;
    const credentials = space < 0 ? '' : authorization.slice(start).trimEnd();
    const lowered = scheme.length === 6 || scheme.length === 5 ? scheme.toLowerCase() : '';
    if (lowered === 'bearer') {
      if (!B64TOKEN.test(credentials)) {
        throw new InvalidRequestError('ERR_MALFORMED_AUTHORIZATION', 'The Bearer credentials are malformed');
      }
      found = {
        // Gatehouse accepts its API keys as bearer tokens too: they are recognised by their prefix.
        kind: credentials.startsWith(`${apiKeyPrefix}_`) ? 'apikey' : hasJwsShape(credentials) ? 'jwt' : 'opaque',
        value: credentials,
        header: 'authorization',
        headerValue: authorization,
      };
    } else if (lowered === 'basic') {
      if (credentials === '') {
        throw new InvalidRequestError('ERR_MALFORMED_AUTHORIZATION', 'The Basic credentials are missing');
      }
      found = { kind: 'basic', value: credentials, header: 'authorization', headerValue: authorization };
    }
  }
  if (apiKey !== undefined && apiKey.trim() !== '') {
    // RFC 6750 §3.1 invalid_request: "uses more than one method for including an access token".
    if (found)
      throw new InvalidRequestError('ERR_MULTIPLE_CREDENTIALS', 'The request carries more than one credential');
    found = { kind: 'apikey', value: apiKey.trim(), header: apiKeyHeader, headerValue: apiKey.trim() };
  }
  return found;
}

/**
 * The names of the credential headers that appear more than once in Node's `rawHeaders` (Node
 * keeps only the first `Authorization` in `req.headers` and drops the rest, so the raw list is the
 * only place to see a second one). One pass, comparing lengths before case-folding.
 */
export function findRepeatedHeader(rawHeaders: readonly string[], names: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    for (const wanted of names) {
      if (name.length === wanted.length && name.toLowerCase() === wanted) {
        if (seen.has(wanted)) return wanted;
        seen.add(wanted);
      }
    }
  }
  return undefined;
}
