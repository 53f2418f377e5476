/**
 * Audit events: who did what, when, to what, with which outcome. Management actions are recorded
 * one by one; authentication failures are aggregated so that an attacker hammering the server
 * cannot turn each attempt into a stored row (a few samples per window are kept in full, the
 * rest are counted into one summary event).
 */

export interface AuditEvent {
  readonly id: string;
  /** ISO 8601 UTC time. */
  readonly at: string;
  /** Who acted: `admin:<credential id>`, a user id, `system`, or `anonymous`. */
  readonly actor: string;
  /** Dotted verb, e.g. `admin_key.created`, `apikey.revoked`, `auth.failed`. */
  readonly action: string;
  /** The id of what was acted upon, when there is one. */
  readonly target: string | null;
  readonly outcome: 'success' | 'failure';
  readonly ip: string | null;
  /** Non-secret details (reason, changed fields, counts). Never a secret, password or token. */
  readonly details: Readonly<Record<string, unknown>>;
}

export type NewAuditEvent = Omit<AuditEvent, 'id' | 'at' | 'target' | 'ip' | 'details' | 'outcome'> &
  Partial<Pick<AuditEvent, 'target' | 'ip' | 'details' | 'outcome'>>;

export interface AuditQuery {
  readonly action?: string | undefined;
  readonly actor?: string | undefined;
  readonly target?: string | undefined;
  readonly outcome?: 'success' | 'failure' | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

/** Where audit events are kept (implemented in store/). */
export interface AuditStore {
  append(events: readonly AuditEvent[]): Promise<void>;
  list(query: AuditQuery): Promise<{ events: AuditEvent[]; nextCursor: string | null }>;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface AuditLog {
  /** Records a management event; written in the background, in order, in batches. */
  record(event: NewAuditEvent): void;
  /**
   * Records an authentication failure. Per (method, reason) and window, the first
   * `samplesPerWindow` are kept in full and the rest are counted into one `auth.failed.summary`.
   */
  recordFailure(event: { method: string; reason: string; ip: string | null; target?: string | null }): void;
  /** Writes what is buffered (called on a timer and at shutdown). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface AuditLogOptions {
  readonly store: AuditStore;
  readonly clock?: Clock;
  readonly newId: () => string;
  /** Called when a batch cannot be written (the store is down): events are kept and retried. */
  readonly onError?: (error: unknown, pending: number) => void;
  readonly flushIntervalMs?: number;
  readonly failureWindowMs?: number;
  readonly samplesPerWindow?: number;
  /** Upper bound on buffered events while the store is unreachable; the oldest are dropped. */
  readonly maxBuffered?: number;
}

export function createAuditLog(options: AuditLogOptions): AuditLog {
  const clock = options.clock ?? systemClock;
  const windowMs = options.failureWindowMs ?? 60_000;
  const samples = options.samplesPerWindow ?? 20;
  const maxBuffered = options.maxBuffered ?? 10_000;
  let buffer: AuditEvent[] = [];
  let dropped = 0;
  const failureWindows = new Map<string, { start: number; count: number; suppressed: number }>();
  let flushing: Promise<void> | null = null;

  const push = (event: NewAuditEvent): void => {
    buffer.push({
      id: options.newId(),
      at: new Date(clock.now()).toISOString(),
      target: null,
      ip: null,
      outcome: 'success',
      details: {},
      ...event,
    });
    if (buffer.length > maxBuffered) {
      dropped += buffer.length - maxBuffered;
      buffer = buffer.slice(buffer.length - maxBuffered);
    }
  };

  const summarise = (now: number, force: boolean): void => {
    for (const [key, window] of failureWindows) {
      if (!force && now - window.start < windowMs) continue;
      if (window.suppressed > 0) {
        const [method, reason] = key.split('\u0000');
        push({
          actor: 'anonymous',
          action: 'auth.failed.summary',
          outcome: 'failure',
          details: { method, reason, count: window.count, suppressed: window.suppressed, window_ms: windowMs },
        });
      }
      failureWindows.delete(key);
    }
  };

  const flush = async (): Promise<void> => {
    if (flushing) return flushing;
    summarise(clock.now(), false);
    if (buffer.length === 0) return;
    const batch = buffer;
    buffer = [];
    flushing = (async () => {
      try {
        await options.store.append(batch);
      } catch (error) {
        buffer = batch.concat(buffer).slice(-maxBuffered);
        options.onError?.(error, buffer.length);
      } finally {
        flushing = null;
      }
    })();
    return flushing;
  };

  const timer = setInterval(() => void flush(), options.flushIntervalMs ?? 1000);
  timer.unref();

  return {
    record: push,
    recordFailure({ method, reason, ip, target }) {
      const now = clock.now();
      const key = `${method}\u0000${reason}`;
      let window = failureWindows.get(key);
      if (!window || now - window.start >= windowMs) {
        if (window) summarise(now, false);
        window = { start: now, count: 0, suppressed: 0 };
        failureWindows.set(key, window);
      }
      window.count++;
      if (window.count <= samples) {
        push({
          actor: 'anonymous',
          action: 'auth.failed',
          outcome: 'failure',
          ip,
          target: target ?? null,
          details: { method, reason },
        });
      } else {
        window.suppressed++;
      }
    },
    flush,
    async close() {
      clearInterval(timer);
      summarise(clock.now(), true);
      await flush();
      if (dropped > 0) options.onError?.(new Error(`${dropped} audit events were dropped`), 0);
    },
  };
}
