import { describe, expect, it } from '@jest/globals';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { YoungCollections, youngCollector } from './young-collections.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('YoungCollections', () => {
  it('collects once on the turn after every `everyBytes` of bodies, and counts again from there', async () => {
    let runs = 0;
    const collections = new YoungCollections(1000, () => runs++);
    collections.received(600);
    await nextTurn();
    expect(runs).toBe(0);
    collections.received(400);
    expect(runs).toBe(0); // not within the turn that forwarded the body
    collections.received(5000); // already scheduled: one collection for both
    await nextTurn();
    expect(runs).toBe(1);
    collections.received(999);
    await nextTurn();
    expect(runs).toBe(1);
    collections.received(1);
    await nextTurn();
    expect(runs).toBe(2);
  });

  it('does nothing without a collector', async () => {
    const collections = new YoungCollections(1, undefined);
    collections.received(10);
    await nextTurn();
  });

  it("runs V8's young-generation collection (a minor GC, as the runtime reports it)", async () => {
    const collect = youngCollector();
    expect(collect).toBeDefined();
    const kinds: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) kinds.push(entry.detail?.kind ?? -1);
    });
    observer.observe({ entryTypes: ['gc'] });
    try {
      collect!();
      for (let i = 0; i < 50 && !kinds.includes(constants.NODE_PERFORMANCE_GC_MINOR); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      observer.disconnect();
    }
    expect(kinds).toContain(constants.NODE_PERFORMANCE_GC_MINOR);
  });
});
