import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { createLogger, requestLineLogger } from './logger.js';

function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe('request line logger', () => {
  it('writes the same line as the app logger (name, level, fields), and the app logger still redacts', () => {
    const { lines, stream } = capture();
    const logger = createLogger('info', 'gateway', stream);
    const requestLog = requestLineLogger(logger);
    requestLog.info({ reqId: 'r-1', method: 'POST', route: '/data/:projectId/:indexName/query', status: 200, ms: 0.42 }, 'request');
    logger.info({ reqId: 'r-2', method: 'POST', route: '/x', status: 200, ms: 1 }, 'request');
    logger.info({ headers: { 'api-key': 'pcsk_secret' }, body: { apiKey: 'pcsk_secret' } }, 'something');
    expect(lines).toHaveLength(3);
    const [fromRequestLog, fromApp, redacted] = lines as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
    expect(Object.keys(fromRequestLog).sort()).toEqual(Object.keys(fromApp).sort());
    expect(fromRequestLog).toMatchObject({ name: 'gateway', msg: 'request', reqId: 'r-1', method: 'POST', status: 200, ms: 0.42 });
    expect(fromRequestLog.level).toBe(fromApp.level);
    expect(JSON.stringify(redacted)).not.toContain('pcsk_secret');
  });

  it('follows the app logger level it was made with', () => {
    const { lines, stream } = capture();
    const requestLog = requestLineLogger(createLogger('warn', 'gateway', stream));
    expect(requestLog.isLevelEnabled('info')).toBe(false);
    requestLog.info({ reqId: 'r-3' }, 'request');
    expect(lines).toHaveLength(0);
  });
});
