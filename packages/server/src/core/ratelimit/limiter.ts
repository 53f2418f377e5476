/**
 * The rate limiter every feature shares (API keys, gateway routes). One instance keeps counters
 * in memory; a shared backend (Redis) implements the same interface, which is why `consume` may
 * answer a promise.
 */
import type { RateLimitRule } from './rate.js';

export interface RateLimitResult {
  readonly allowed: boolean;
  readonly limit: number;
  /** Requests left in the window after this one (0 when denied). */
  readonly remaining: number;
  /** Milliseconds until the current window ends. */
  readonly resetMs: number;
  /** When denied: milliseconds until one more request would be allowed; 0 when allowed. */
  readonly retryAfterMs: number;
}

export interface RateLimiter {
  /**
   * Counts one request (or `cost`) against `key` under `rule`, unless that would exceed the rule:
   * denied requests are not counted. Keys are namespaced by the caller (`apikey:key_…`).
   */
  consume(key: string, rule: RateLimitRule, cost?: number): RateLimitResult | Promise<RateLimitResult>;
}

/**
 * The response headers of draft-ietf-httpapi-ratelimit-headers-06 §3 (`RateLimit-Limit`,
 * `RateLimit-Remaining`, `RateLimit-Reset` in delta-seconds, `RateLimit-Policy` with `w` the
 * window in seconds), plus `Retry-After` (RFC 9110 §10.2.3) on a denial.
 */
export function rateLimitHeaders(result: RateLimitResult, rule: RateLimitRule): Record<string, string> {
  const headers: Record<string, string> = {
    'ratelimit-limit': String(result.limit),
    'ratelimit-remaining': String(result.remaining),
    'ratelimit-reset': String(Math.ceil(result.resetMs / 1000)),
    'ratelimit-policy': `${rule.limit};w=${Math.round(rule.windowMs / 1000)}`,
  };
  // RFC 9110 §10.2.3: delay-seconds, a non-negative integer; never 0 for a denial.
  if (!result.allowed) headers['retry-after'] = String(Math.max(1, Math.ceil(result.retryAfterMs / 1000)));
  return headers;
}
