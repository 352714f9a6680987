import { describe, expect, it } from '@jest/globals';
import { getHeapStatistics } from 'node:v8';
import { collectGarbageIfQuick } from './collect-garbage.js';

describe('collectGarbageIfQuick', () => {
  it('collects when the live heap is within the limit, and frees what was garbage', () => {
    let garbage: object[] | undefined = Array.from({ length: 200_000 }, (_, i) => ({ i, text: `record-${i}` }));
    const held = getHeapStatistics().used_heap_size;
    garbage = undefined;
    expect(garbage).toBeUndefined();
    expect(collectGarbageIfQuick(held + 256 * 2 ** 20)).toBe(true);
    // ~200k objects and strings: well over 5 MB freed.
    expect(getHeapStatistics().used_heap_size).toBeLessThan(held - 5 * 2 ** 20);
  });

  it('leaves a heap larger than the limit to V8 (a full collection of it would block the event loop)', () => {
    expect(collectGarbageIfQuick(1024)).toBe(false);
  });
});
