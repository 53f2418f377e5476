/**
 * The `Bearer` scheme of an `Authorization` header (RFC 6750 §2.1: `"Bearer" 1*SP b64token`; the
 * scheme name is case-insensitive, RFC 9110 §11.1), read without a regular expression: it runs
 * for every request that carries the header, and a regex over a whole JWT costs more than the
 * verified-token cache lookup that follows.
 */

const SPACE = 32;
const SCHEME = 'bearer';

/**
 * The text after `Bearer` and the spaces that follow it, unchanged to its end; undefined when the
 * header is absent, of another scheme, or carries nothing after the scheme.
 *
 * @example
 * afterBearerScheme('Bearer  abc'); // 'abc'
 * afterBearerScheme('Basic abc');   // undefined
 */
export function afterBearerScheme(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.length <= SCHEME.length + 1) return undefined;
  if (authorization.charCodeAt(SCHEME.length) !== SPACE) return undefined;
  for (let i = 0; i < SCHEME.length; i++) {
    // ASCII case folding: for a lower-case letter, only it and its upper case give it with 0x20 set.
    if ((authorization.charCodeAt(i) | 0x20) !== SCHEME.charCodeAt(i)) return undefined;
  }
  let start = SCHEME.length + 1;
  while (authorization.charCodeAt(start) === SPACE) start++;
  return start < authorization.length ? authorization.slice(start) : undefined;
}
