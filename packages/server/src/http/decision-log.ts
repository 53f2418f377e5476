/**
 * The decision log: one structured line per authentication decision of `/auth/verify` and the
 * gateway, allowed or not (ASVS 16.3.1: log every authentication success and failure; ASVS
 * 16.2.1: who, when, where, what). The fields are built here from the decision, never from the
 * request, so a credential cannot reach the line (ASVS 16.2.5, docs/security.md #34): the subject and
 * the credential's own id (an API key's `key_…` id, a token's `jti`) name who, never the secret.
 *
 * ```json
 * {"level":30,"msg":"allowed","event":"auth.decision","surface":"verify","request_id":"…",
 *  "outcome":"allowed","status":200,"method":"apikey","subject":"billing","credential_id":"key_…",
 *  "route":"api","reason":"ok","latency_ms":0.041,"ip":"203.0.113.7","door":"fast_lane"}
 * ```
 *
 * `log.decisions` picks the level (`info` by default, `debug`, or `off`). The line is written on
 * the hot path, so it is made cheap: one logger made once (no per-request child, which costs
 * several microseconds with our redaction rules: ./request-logger.ts), the request id as a field,
 * and no wildcard redaction (below).
 */
import type { Logger } from 'pino';
import type { Identity } from '../core/pipeline/types.js';
import type { Outcome } from '../observability/metrics.js';

export type DecisionLogLevel = 'info' | 'debug' | 'off';

export interface DecisionRecord {
  readonly surface: 'verify' | 'gateway';
  readonly requestId: string;
  readonly outcome: Outcome;
  /** The status answered; absent for a gateway pass (the upstream answers). */
  readonly status: number | undefined;
  /** The mechanism that decided (`apikey`, `basic`, `jwt`, `anonymous`), when one did. */
  readonly method: string | undefined;
  /** Who was authenticated (also on a 403: authenticated, lacking a scope). */
  readonly identity: Identity | null | undefined;
  /** The account a refused credential named, when it exists (Basic: the user id). */
  readonly target?: string | undefined;
  readonly route: string | undefined;
  /** Why: `ok` for an allow, else the denial's precise reason (`unknown`, `expired`, `verify_budget`…). */
  readonly reason: string;
  readonly latencyMs: number;
  readonly ip: string;
  /** `/auth/verify` only: which door answered (`fast_lane` or `router`). */
  readonly door?: string;
}

/** Writes one decision line; absent (null) when `log.decisions` is off. */
export type DecisionLog = (record: DecisionRecord) => void;

export function createDecisionLog(logger: Logger, level: DecisionLogLevel): DecisionLog | null {
  if (level === 'off') return null;
  // The process logger's redaction (logging.ts) walks wildcard paths on every line: measured at
  // ~20× the cost of the line itself (bench/decision-log.mjs). Every field here is built from the
  // decision, none can hold a secret, so this child keeps only a guard for the names a future
  // field must never take.
  const log = logger.child(
    { event: 'auth.decision' },
    { redact: { paths: ['password', 'token', 'key', 'authorization'], censor: '[redacted]' } },
  );
  return (record) => {
    if (!log.isLevelEnabled(level)) return;
    const identity = record.identity ?? undefined;
    log[level](
      {
        surface: record.surface,
        request_id: record.requestId,
        outcome: record.outcome,
        status: record.status,
        method: record.method ?? null,
        subject: identity?.subject ?? null,
        target: record.target,
        credential_id: identity?.credentialId,
        route: record.route ?? null,
        reason: record.reason,
        // Microsecond resolution is plenty, and keeps the line short.
        latency_ms: Math.round(record.latencyMs * 1000) / 1000,
        ip: record.ip,
        door: record.door,
      },
      record.outcome === 'allowed' ? 'allowed' : 'denied',
    );
  };
}
