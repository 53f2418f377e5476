/**
 * Rate-limit rules as people write them: `100/minute`, `10/s`, `5000/hour`, `1000/day`, or with a
 * window length, `300/15m`. This is the one parser for every rate in Gatehouse (API keys, gateway
 * routes), so the same text means the same thing everywhere.
 */

/** At most `limit` requests per `windowMs`. */
export interface RateLimitRule {
  readonly limit: number;
  readonly windowMs: number;
}

export type ParsedRate = { ok: true; rule: RateLimitRule } | { ok: false; problem: string };

/** Bounds that keep a rule meaningful: a window from one second to one day, a limit up to 10⁹. */
export const RATE_BOUNDS = { minWindowMs: 1000, maxWindowMs: 86_400_000, maxLimit: 1_000_000_000 } as const;

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  sec: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
};

const RATE = /^(\d{1,12})\s*\/\s*(\d{1,6})?\s*([a-z]+)$/i;

export function parseRate(text: string): ParsedRate {
  const match = RATE.exec(text.trim());
  const unit = match ? UNIT_MS[(match[3] as string).toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    return { ok: false, problem: 'must be a rate such as 100/minute, 10/s, 5000/hour or 300/15m' };
  }
  const limit = Number(match[1]);
  const windowMs = Number(match[2] ?? 1) * unit;
  if (limit < 1 || limit > RATE_BOUNDS.maxLimit) {
    return { ok: false, problem: `the limit must be from 1 to ${RATE_BOUNDS.maxLimit}` };
  }
  if (windowMs < RATE_BOUNDS.minWindowMs || windowMs > RATE_BOUNDS.maxWindowMs) {
    return { ok: false, problem: 'the window must be from 1 second to 1 day' };
  }
  return { ok: true, rule: { limit, windowMs } };
}

const NAMED = [
  [86_400_000, 'day'],
  [3_600_000, 'hour'],
  [60_000, 'minute'],
  [1000, 'second'],
] as const;

/** The canonical text of a rule: `100/minute`, or `300/15m` for multi-unit windows. */
export function formatRate(rule: RateLimitRule): string {
  for (const [ms, name] of NAMED) {
    if (rule.windowMs === ms) return `${rule.limit}/${name}`;
  }
  for (const [ms, name] of NAMED) {
    if (rule.windowMs % ms === 0) return `${rule.limit}/${rule.windowMs / ms}${name[0]}`;
  }
  return `${rule.limit}/${rule.windowMs / 1000}s`;
}
