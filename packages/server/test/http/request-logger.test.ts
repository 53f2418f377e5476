/**
 * The public listener's per-request logger is made lazily (http/request-logger.ts): a request that
 * logs nothing costs no pino child; one that logs still carries its request id and keeps redaction.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LazyRequestLogger } from '../../src/http/request-logger.js';
import { createLogger } from '../../src/logging.js';

function capture(level: 'info' | 'debug') {
  const lines: any[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(JSON.parse(String(chunk)));
      callback();
    },
  });
  const logger = createLogger({ log: { level, format: 'json' } }, sink);
  let children = 0;
  const child = logger.child;
  logger.child = function (this: typeof logger, ...args: Parameters<typeof child>) {
    children++;
    return child.apply(this, args);
  } as typeof logger.child;
  return { logger, lines, children: () => children };
}

describe('lazy request logger', () => {
  it('makes no child logger for lines below the level', () => {
    const { logger, lines, children } = capture('info');
    const log = new LazyRequestLogger(logger, { request_id: 'r-1' }, {});
    log.debug({ a: 1 }, 'not written');
    log.trace('not written');
    expect(children()).toBe(0);
    expect(lines).toEqual([]);
    expect(log.level).toBe('info');
  });

  it('makes the child once, on the first line written, with the request id and redaction', async () => {
    const { logger, lines, children } = capture('debug');
    const log = new LazyRequestLogger(logger, { request_id: 'r-2' }, {});
    log.info({ api_key: 'gk_secret' }, 'first');
    log.debug('second');
    expect(children()).toBe(1);
    log.child({ extra: true }).warn('third'); // a child of the request's logger, made from it
    expect(children()).toBe(2);
    expect(lines.map((line) => [line.msg, line.request_id])).toEqual([
      ['first', 'r-2'],
      ['second', 'r-2'],
      ['third', 'r-2'],
    ]);
    expect(lines[0].api_key).toBe('[redacted]');
    expect(lines[2].extra).toBe(true);
  });

  it('applies a level set on the request logger to that request only', () => {
    const { logger, lines } = capture('info');
    const log = new LazyRequestLogger(logger, { request_id: 'r-3' }, {});
    log.level = 'debug';
    log.debug('now written');
    new LazyRequestLogger(logger, { request_id: 'r-4' }, {}).debug('not written');
    expect(lines.map((line) => line.request_id)).toEqual(['r-3']);
  });
});
