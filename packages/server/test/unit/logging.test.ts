/**
 * Log lines name their level and carry an ISO 8601 time (what log pipelines read without a
 * mapping), and keep the rest of pino's JSON: message, service, fields, redaction.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { logger: createLogger({ log: { level: 'debug', format: 'json' } }, sink), lines };
}

describe('log line format', () => {
  it('labels the level and writes an ISO time', () => {
    const { logger, lines } = capture();
    const before = Date.now();
    logger.info({ route: 'orders' }, 'routes reloaded');
    logger.warn('careful');
    logger.error('broken');
    logger.debug('detail');
    expect(lines.map((line) => line.level)).toEqual(['info', 'warn', 'error', 'debug']);
    const first = lines[0] as Record<string, unknown>;
    expect(first.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Date.parse(first.time as string)).toBeGreaterThanOrEqual(before - 1);
    expect(first).toMatchObject({ service: 'gatehouse', route: 'orders', msg: 'routes reloaded' });
    expect(Object.keys(first)).toEqual(['level', 'time', 'service', 'route', 'msg']);
  });

  it('still redacts secrets and keeps child bindings', () => {
    const { logger, lines } = capture();
    logger.child({ request_id: 'r1' }).info({ password: 'hunter2', headers: { authorization: 'Bearer x' } }, 'login');
    const line = lines[0] as Record<string, any>;
    expect(line).toMatchObject({ level: 'info', request_id: 'r1', password: '[redacted]' });
    expect(line.headers.authorization).toBe('[redacted]');
  });
});
