/**
 * Redirect URIs: what may be registered, and how a requested one is matched (docs/security.md #13).
 *
 * - Registration: absolute URI without fragment (RFC 6749 §3.1.2); never `javascript:`, `data:`
 *   or `file:`; `http` only for loopback (RFC 9700 §2.6, RFC 8252 §8.3); custom schemes for native
 *   apps must contain a period (RFC 8252 §7.1, reverse domain name).
 * - Matching: exact string comparison (RFC 9700 §4.1.3, RFC 6749 §3.1.2.3). The one exception is
 *   the port of a loopback IP literal, which native apps pick at run time (RFC 8252 §7.3).
 */

const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'file:', 'vbscript:', 'blob:', 'about:', 'filesystem:']);
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
/** RFC 8252 §7.3: the port may vary only for loopback IP literals. */
const LOOPBACK_IP_LITERALS = new Set(['127.0.0.1', '[::1]']);

export type RedirectUriCheck = { ok: true } | { ok: false; problem: string };

export function checkRedirectUriRegistration(value: string): RedirectUriCheck {
  if (value.length > 2000) return { ok: false, problem: 'is longer than 2000 characters' };
  if (/[\s\x00-\x1f\x7f]/.test(value)) return { ok: false, problem: 'contains whitespace or control characters' };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, problem: 'is not an absolute URI (RFC 6749 §3.1.2)' };
  }
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return { ok: false, problem: `must not use the ${url.protocol} scheme` };
  // RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component."
  if (value.includes('#')) return { ok: false, problem: 'must not contain a fragment (RFC 6749 §3.1.2)' };
  if (url.username || url.password) return { ok: false, problem: 'must not contain credentials' };
  if (url.protocol === 'http:') {
    if (!LOOPBACK_HOSTS.has(url.hostname)) {
      return { ok: false, problem: 'may use http only for a loopback host (RFC 9700 §2.6); use https' };
    }
    return { ok: true };
  }
  if (url.protocol === 'https:') return { ok: true };
  // RFC 8252 §7.1: private-use schemes are reverse domain names, e.g. com.example.app:/callback.
  if (!url.protocol.slice(0, -1).includes('.')) {
    return { ok: false, problem: 'must be https, loopback http, or a reverse-domain private scheme (RFC 8252 §7.1)' };
  }
  return { ok: true };
}

/**
 * Whether `requested` matches one of `registered`: exact string equality, except that the port of
 * a registered loopback IP literal (http://127.0.0.1/cb, http://[::1]/cb) may differ (RFC 8252 §7.3).
 */
export function matchRedirectUri(requested: string, registered: readonly string[]): boolean {
  if (registered.includes(requested)) return true;
  let url: URL;
  try {
    url = new URL(requested);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' || !LOOPBACK_IP_LITERALS.has(url.hostname) || url.port === '') return false;
  // Compare with the port removed, as strings, so that nothing else is normalised away.
  const portless = requested.replace(`${url.hostname}:${url.port}`, url.hostname);
  if (portless === requested) return false;
  return registered.some((candidate) => {
    try {
      const registeredUrl = new URL(candidate);
      return registeredUrl.protocol === 'http:' && LOOPBACK_IP_LITERALS.has(registeredUrl.hostname)
        ? candidate.replace(`${registeredUrl.hostname}:${registeredUrl.port}`, registeredUrl.hostname) === portless
        : false;
    } catch {
      return false;
    }
  });
}
