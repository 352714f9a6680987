// The graph builder's batch buffers: a pair given back (as the ANN worker sends it back) is reused for the next
// batch of that dimension; detached or foreign buffers are ignored, the list is bounded and emptied when idle.
import { describe, expect, it } from '@jest/globals';
import { BatchBuffers } from './batch-buffers.js';

/** What a transfer to the worker does to the buffers left behind. */
const detach = (buffer: ArrayBuffer): void => void structuredClone(buffer, { transfer: [buffer] });

describe('BatchBuffers', () => {
  it('reuses a pair given back for the same dimension, and allocates for another', () => {
    const buffers = new BatchBuffers(2048);
    const first = buffers.take(768);
    expect([first.slots.byteLength, first.vectors.byteLength]).toEqual([2048 * 4, 2048 * 768 * 4]);
    // Sent to the worker and back: a structured clone with transfer, as postMessage does.
    const back = structuredClone(first, { transfer: [first.slots, first.vectors] });
    expect(first.vectors.byteLength).toBe(0);
    buffers.give(back);
    const second = buffers.take(768);
    expect(second.vectors).toBe(back.vectors);
    expect(second.slots).toBe(back.slots);
    expect(buffers.take(128).vectors.byteLength).toBe(2048 * 128 * 4);
    expect(buffers.take(768).vectors).not.toBe(back.vectors);
    expect([buffers.allocated, buffers.reused]).toEqual([3, 1]);
  });

  it('keeps a bounded list and ignores detached or foreign buffers', () => {
    const buffers = new BatchBuffers(64, { keep: 2 });
    const taken = [buffers.take(8), buffers.take(8), buffers.take(8)];
    for (const pair of taken) buffers.give(pair);
    expect(buffers.size).toBe(2);
    const stale = buffers.take(8);
    detach(stale.vectors);
    detach(stale.slots);
    buffers.give(stale);
    buffers.give({ slots: new ArrayBuffer(63 * 4), vectors: new ArrayBuffer(64 * 8 * 4) });
    buffers.give({ slots: new ArrayBuffer(64 * 4), vectors: new ArrayBuffer(0) });
    expect(buffers.size).toBe(1);
  });

  it('empties its list once no pair has been taken for idleMs', async () => {
    const buffers = new BatchBuffers(64, { idleMs: 50 });
    buffers.give(buffers.take(8));
    expect(buffers.size).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(buffers.size).toBe(0);
  });
});
