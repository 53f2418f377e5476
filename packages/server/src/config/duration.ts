/**
 * Durations in config and on the command line: `500ms`, `30s`, `15m`, `1h`, `30d`, or a bare
 * number of seconds. Returned in milliseconds.
 */
const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/;

/** Parses a duration; returns `undefined` when the text is not one. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  }
  const match = DURATION.exec(value.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = UNITS[match[2] ?? 's'] ?? 1000;
  const ms = amount * unit;
  return Number.isSafeInteger(Math.round(ms)) ? Math.round(ms) : undefined;
}

/** Formats milliseconds back into the largest exact unit (`90000` → `90s`, `3600000` → `1h`). */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    const size = UNITS[unit] ?? 1;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
