/**
 * `X-Gatehouse-Denied`: set on every denial Gatehouse itself answers — on the gateway (the
 * request never reached the upstream) and on `/auth/verify` — so that a client, a proxy or an
 * operator can tell Gatehouse's 401 from the upstream's own, even when a route's `responses:`
 * makes the two bodies identical (docs/existing-service.md).
 *
 * The value is the problem code of docs/errors.md that the status (or, for 400, 404 and 405, the
 * default body) already states: `unauthorized`, `forbidden`, `no-route`, `rate-limited`,
 * `invalid-request`… Never the precise reason (unknown key, expired token, bad checksum, missing
 * scope): that stays in the log and the audit, like the uniform 401 body (docs/security.md #34 by
 * analogy: the caller learns no more than the status says).
 *
 * The gateway removes the header from upstream responses, so its presence always means Gatehouse.
 */
import type { ProblemCode } from './problem.js';

export const DENIED_HEADER = 'x-gatehouse-denied';

/** The value for a denial answered by `/auth/verify` (status and reason of the pipeline's denial). */
export function verifyDeniedCode(status: number, reason: string): ProblemCode {
  switch (status) {
    case 400:
      return 'invalid-request';
    case 401:
      return 'unauthorized';
    case 403:
      // No route is never answered with a route's custom body: the default body says it already.
      return reason === 'no_route' ? 'no-route' : 'forbidden';
    case 429:
      return 'rate-limited';
    case 503:
      return 'store-unavailable';
    default:
      return 'forbidden';
  }
}
