import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from '@conifer/contracts';
import { fillHours, hourOf, totalOf } from './usage.js';
import { parseUsageRange } from './usage.service.js';

const H = 3_600_000;
const now = new Date('2026-12-05T10:42:13.500Z');

describe('usage hours', () => {
  it('cuts times to the start of their UTC hour', () => {
    expect(hourOf(now).toISOString()).toBe('2026-12-05T10:00:00.000Z');
    expect(hourOf(new Date('2026-12-05T10:00:00.000Z')).toISOString()).toBe('2026-12-05T10:00:00.000Z');
  });

  it('zero-fills every hour of [from, to) and totals them', () => {
    const from = new Date('2026-12-05T08:00:00Z');
    const to = new Date('2026-12-05T11:00:00Z');
    const buckets = fillHours(from, to, [{ hour: new Date('2026-12-05T09:00:00Z'), reads: 2, writes: 1, errors: 0 }]);
    expect(buckets.map((b) => [b.hour.toISOString().slice(11, 13), b.reads, b.writes])).toEqual([
      ['08', 0, 0],
      ['09', 2, 1],
      ['10', 0, 0],
    ]);
    expect(totalOf(buckets)).toEqual({ reads: 2, writes: 1, errors: 0 });
  });
});

describe('parseUsageRange', () => {
  it('defaults to the 24 hours up to the end of the current hour', () => {
    const range = parseUsageRange(undefined, undefined, now);
    expect(range.to.toISOString()).toBe('2026-12-05T11:00:00.000Z');
    expect(range.to.getTime() - range.from.getTime()).toBe(24 * H);
  });

  it('widens ISO and Unix-second bounds to whole hours', () => {
    const range = parseUsageRange('2026-12-05T08:30:00Z', String(Date.parse('2026-12-05T09:10:00Z') / 1000), now);
    expect([range.from.toISOString(), range.to.toISOString()]).toEqual(['2026-12-05T08:00:00.000Z', '2026-12-05T10:00:00.000Z']);
  });

  it('refuses bad, reversed, repeated and too long ranges', () => {
    expect(() => parseUsageRange('soon', undefined, now)).toThrow(InvalidArgumentError);
    expect(() => parseUsageRange('2026-12-05T10:00:00Z', '2026-12-05T08:00:00Z', now)).toThrow('from must be before to');
    expect(() => parseUsageRange(['a', 'b'], undefined, now)).toThrow('from must be given once');
    expect(() => parseUsageRange('2026-10-01T00:00:00Z', undefined, now)).toThrow(/at most 31 days/);
    expect(parseUsageRange('2026-11-04T11:00:00Z', undefined, now).from.toISOString()).toBe('2026-11-04T11:00:00.000Z');
  });
});
