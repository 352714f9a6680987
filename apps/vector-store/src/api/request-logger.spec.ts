import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { LazyRequestLogger } from './request-logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  let children = 0;
  const parent = pino({ level: 'info' }, stream);
  const counting = Object.create(parent) as FastifyBaseLogger;
  counting.child = (bindings, options) => {
    children++;
    return parent.child(bindings, options);
  };
  return { lines, parent: counting, children: () => children };
}

describe('LazyRequestLogger', () => {
  it('makes no pino child until a line is logged, then logs with the request bindings', () => {
    const { lines, parent, children } = capture();
    const log = new LazyRequestLogger(parent, { reqId: 'req-7' }, {});
    expect(children()).toBe(0);
    log.debug('below the level');
    log.error({ err: new Error('boom') }, 'unhandled error');
    log.info('second');
    expect(children()).toBe(1);
    expect(lines.map((l) => [l.reqId, l.msg])).toEqual([
      ['req-7', 'unhandled error'],
      ['req-7', 'second'],
    ]);
    expect(log.level).toBe('info');
  });
});
