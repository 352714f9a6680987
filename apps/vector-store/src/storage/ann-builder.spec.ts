// How many threads the builder's insert batches run on: a niced builder may take every core (the event loop
// preempts it when it wants one), one at the event loop's priority leaves a core to it; asked for, as asked.
import { describe, expect, it } from '@jest/globals';
import { buildThreads } from './ann-builder.js';

describe('buildThreads', () => {
  it('takes every core below the event loop, one fewer beside it, and what the configuration says', () => {
    expect(buildThreads(10, 0, 2)).toBe(2);
    expect(buildThreads(0, 0, 2)).toBe(1);
    expect(buildThreads(0, 0, 8)).toBe(7);
    expect(buildThreads(0, 0, 1)).toBe(1);
    expect(buildThreads(19, 0, 1)).toBe(1);
    expect(buildThreads(10, 3, 2)).toBe(3);
    expect(buildThreads(0, 1, 8)).toBe(1);
  });
});
