/**
 * One HTTPS rule for every secret the public listener receives: Basic credentials, the password
 * of `POST /auth/login` and the login page, refresh tokens, OAuth client secrets (RFC 6749
 * §2.3.1: "MUST require the use of TLS" for client passwords; §3.1 and §3.2: the authorization
 * and token endpoints MUST require TLS; RFC 7617 §4: Basic sends the password in clear text).
 *
 * A request may carry a secret when it arrived over HTTPS (our own TLS, or a trusted proxy's
 * `X-Forwarded-Proto: https`), when the server runs in development mode, or when loopback
 * clients are allowed (`security.allow_insecure_loopback`) and this one is on loopback. Anything
 * else is refused before the secret is looked at: it crossed the network in clear text.
 */

export interface SecretTransportPolicy {
  /** `--dev`: plain HTTP from anywhere (never in production). */
  readonly dev: boolean;
  /** Plain HTTP from loopback clients (a sidecar on the same host). */
  readonly allowInsecureLoopback: boolean;
}

/** How the request arrived, after trusted-proxy resolution. */
export interface TransportFacts {
  readonly secure: boolean;
  readonly clientIp: string;
}

/** The stable code of the refusal, in every surface's error shape. */
export const HTTPS_REQUIRED = 'https_required';

/** The one sentence every refusal carries. */
export const HTTPS_REQUIRED_DESCRIPTION =
  'Passwords, client secrets and tokens are only accepted over HTTPS: they travel in clear text otherwise. ' +
  'Use https://, or have a trusted proxy (trust_proxy) terminate TLS and send X-Forwarded-Proto: https; ' +
  'for clients on this host only, the server may allow plain HTTP from loopback (security.allow_insecure_loopback). ' +
  'What this request carried was sent unencrypted and should be considered exposed.';

/**
 * 127.0.0.0/8, ::1 and IPv4-mapped 127.x, in the canonical spelling Node gives socket addresses
 * (and proxy-addr passes through); any other spelling is treated as not loopback (fail closed).
 */
export function isLoopbackAddress(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}

export function secretTransportAllowed(policy: SecretTransportPolicy, facts: TransportFacts): boolean {
  return facts.secure || policy.dev || (policy.allowInsecureLoopback && isLoopbackAddress(facts.clientIp));
}
