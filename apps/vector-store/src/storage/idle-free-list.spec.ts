// The free list shared by the body and batch buffer pools: bounded (the oldest goes), newest fit first, emptied
// once idle (the pools' own specs cover the idle timing through them).
import { describe, expect, it } from '@jest/globals';
import { IdleFreeList } from './idle-free-list.js';

describe('IdleFreeList', () => {
  it('keeps at most `keep` items, dropping the oldest, and hands out the newest that fits', () => {
    const list = new IdleFreeList<number>(3, 60_000);
    for (const n of [1, 2, 3, 4]) list.put(n);
    expect(list.size).toBe(3);
    expect(list.take((n) => n === 1)).toBeUndefined();
    expect(list.take((n) => n % 2 === 0)).toBe(4);
    expect(list.take(() => true)).toBe(3);
    expect(list.take(() => true)).toBe(2);
    expect(list.size).toBe(0);
  });

  it('empties itself and calls onIdle after idleMs without a take', async () => {
    let idle = 0;
    // Late timers (a loaded CI has fired a 150 ms one 300 ms late) only make the first check pass later, never wrongly:
    // it comes 3200 ms after the put (past idleMs, so a take that did not restart the idle time fails it) and
    // 2200 ms after the take (800 ms of lateness to spare).
    const list = new IdleFreeList<number>(2, 3000, () => idle++);
    list.put(1);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(list.take(() => false)).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 2200));
    expect(list.size).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(list.size).toBe(0);
    expect(idle).toBe(1);
  });
});
