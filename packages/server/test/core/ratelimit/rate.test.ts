import { describe, expect, it } from 'vitest';
import { formatRate, parseRate } from '../../../src/core/ratelimit/rate.js';

describe('rate-limit rules', () => {
  it('parses the forms people write', () => {
    const cases: Array<[string, number, number]> = [
      ['100/minute', 100, 60_000],
      ['10/s', 10, 1000],
      ['10/sec', 10, 1000],
      ['5000/hour', 5000, 3_600_000],
      ['5000/h', 5000, 3_600_000],
      ['1000/day', 1000, 86_400_000],
      ['300/15m', 300, 900_000],
      [' 100 / Minute ', 100, 60_000],
      ['1/1d', 1, 86_400_000],
    ];
    for (const [text, limit, windowMs] of cases)
      expect(parseRate(text), text).toEqual({ ok: true, rule: { limit, windowMs } });
  });

  it('refuses absurd or malformed rules with a sentence', () => {
    for (const text of [
      '',
      '100',
      'lots',
      '0/minute',
      '-1/minute',
      '1.5/s',
      '100/0s',
      '100/fortnight',
      '100/2d',
      '2000000000/s',
      '100/500ms',
      '100/minute/extra',
    ]) {
      const parsed = parseRate(text);
      expect(parsed.ok, text).toBe(false);
      if (!parsed.ok) expect(parsed.problem).toMatch(/must/);
    }
  });

  it('formats a rule canonically, and the text parses back to the same rule', () => {
    const cases: Array<[number, number, string]> = [
      [100, 60_000, '100/minute'],
      [10, 1000, '10/second'],
      [5000, 3_600_000, '5000/hour'],
      [7, 86_400_000, '7/day'],
      [300, 900_000, '300/15m'],
      [5, 90_000, '5/90s'],
      [5, 7_200_000, '5/2h'],
    ];
    for (const [limit, windowMs, text] of cases) {
      expect(formatRate({ limit, windowMs })).toBe(text);
      expect(parseRate(text)).toEqual({ ok: true, rule: { limit, windowMs } });
    }
  });
});
