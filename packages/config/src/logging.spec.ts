import { describe, expect, it } from '@jest/globals';
import { isoLogTime, logOptions } from './logging.js';

describe('log line format shared by both apps', () => {
  it('time is an ISO-8601 UTC string', () => {
    const fragment = JSON.parse(`{"a":1${isoLogTime()}}`) as { time: string };
    expect(fragment.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Math.abs(Date.parse(fragment.time) - Date.now())).toBeLessThan(5_000);
    expect(logOptions('vector-store', 'info')).toMatchObject({ level: 'info', base: { service: 'vector-store' } });
  });
});
