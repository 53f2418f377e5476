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
 * the hot path, so it is made cheap: the JSON is built here, in the shape pino writes (level
 * label, ISO time, the logger's bindings, `msg`), and the lines of one turn of the event
 * loop go to the logger's destination in one write (below, with the measurement).
 */
import pino, { type Logger } from 'pino';
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
  const write = lineWriter(logger);
  // What pino would put before the fields: the level label, then (after the time) the logger's
  // bindings (`service`, `listener`…) and the event name. Made once.
  const head = `{"level":${JSON.stringify(level)},"time":"`;
  const bindings = JSON.stringify({ ...logger.bindings(), event: 'auth.decision' }).slice(1, -1);
  return (record) => {
    if (!logger.isLevelEnabled(level)) return;
    const identity = record.identity ?? undefined;
    let line = `${head}${isoNow()}",${bindings},"surface":"${record.surface}","request_id":${text(record.requestId)}`;
    line += `,"outcome":"${record.outcome}"`;
    if (record.status !== undefined) line += `,"status":${record.status}`;
    line += `,"method":${nullable(record.method)},"subject":${nullable(identity?.subject)}`;
    if (record.target !== undefined) line += `,"target":${text(record.target)}`;
    if (identity?.credentialId !== undefined) line += `,"credential_id":${text(identity.credentialId)}`;
    // Microsecond resolution is plenty, and keeps the line short.
    line += `,"route":${nullable(record.route)},"reason":${text(record.reason)},"latency_ms":${Math.round(record.latencyMs * 1000) / 1000}`;
    line += `,"ip":${text(record.ip)}`;
    if (record.door !== undefined) line += `,"door":${text(record.door)}`;
    write(`${line},"msg":"${record.outcome === 'allowed' ? 'allowed' : 'denied'}"}\n`);
  };
}

/*
 * Why this line is not `logger.info(fields)`: on the hot path, pino's generic serialisation (and
 * its redaction, which the process logger applies to wildcard paths) cost ~20× the line itself,
 * and one write(2) per request about as much again (plus a wake-up of whoever reads the pipe).
 * `bench/decision-log.mjs` measured `/auth/verify` at 71 % of `log.decisions: off` with
 * `logger.info` and a write per line; the figures of this writer are in docs/security.md
 * ("Decision log"). Every value is a string the
 * decision made or a number, escaped by JSON.stringify; none can hold a credential (above).
 */

const text = (value: string): string => JSON.stringify(value);
const nullable = (value: string | null | undefined): string => (value == null ? 'null' : JSON.stringify(value));

/** `new Date().toISOString()`, made at most once per millisecond (pino's `isoTime`, cached). */
let isoMs = 0;
let isoText = '';
function isoNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

interface LineStream {
  write(chunk: string): unknown;
}

/**
 * Writes lines to the logger's own destination (so they interleave with its other lines, whole),
 * gathered per turn of the event loop: the lines of one turn go out in one write at the end of
 * the turn (setImmediate), before a client can read any reply of that turn, or as soon as 16 KiB
 * wait, and at exit.
 */
const FLUSH_BYTES = 16_384;

const exitFlushes = new Set<() => void>();
function atExit(flush: () => void): void {
  if (exitFlushes.size === 0) {
    process.once('exit', () => {
      for (const each of exitFlushes) each();
    });
  }
  exitFlushes.add(flush);
}

function lineWriter(logger: Logger): (line: string) => void {
  const stream = (logger as unknown as Record<symbol, LineStream>)[pino.symbols.streamSym];
  if (stream === undefined) throw new Error('decision log: the logger has no destination stream');
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending === '') return;
    const chunk = pending;
    pending = '';
    stream.write(chunk);
  };
  atExit(flush);
  return (line) => {
    pending += line;
    if (pending.length >= FLUSH_BYTES) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}
