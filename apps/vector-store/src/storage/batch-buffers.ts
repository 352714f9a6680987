// The graph builder's batches (ann-builder.ts: up to `rows` slots and their values, ~6 MB at 2048 × 768) are
// gathered on the event loop and transferred to the ANN worker. A fresh pair of ArrayBuffers per batch was
// external memory that V8 counts towards its next full collection: with the upsert path's allocations it made
// 47–70 mark-compacts of the store's heap during an ingest of 100k × 768 (bench/RESULTS.md, session 10). The
// worker now sends the buffers back with its answer and the next batch is gathered into them.
//
// A transferred buffer is detached here until the worker gives it back; a batch whose answer never comes (a
// failed worker) just leaves the pool one short, and the next take allocates. What the list keeps is resident,
// so it is emptied once batches stop for a while (an idle store holds none of it).
import { IdleFreeList } from './idle-free-list.js';

export interface BatchBufferPair {
  /** Room for `rows` slot numbers (Int32). */
  slots: ArrayBuffer;
  /** Room for `rows` rows of `dimension` float32 values. */
  vectors: ArrayBuffer;
}

export interface BatchBuffersOptions {
  /** Pairs kept for reuse at most. */
  readonly keep?: number;
  /** The free list is emptied after this long without a pair taken. */
  readonly idleMs?: number;
}

export class BatchBuffers {
  private readonly free: IdleFreeList<BatchBufferPair>;
  /** Counters for specs: pairs allocated, and reused from the list. */
  allocated = 0;
  reused = 0;

  /** `rows`: the largest batch, in rows. */
  constructor(
    private readonly rows: number,
    options: BatchBuffersOptions = {},
  ) {
    this.free = new IdleFreeList(options.keep ?? 2, options.idleMs ?? 5000);
  }

  /** A pair with room for a full batch of `dimension`-d rows (reused, or new; contents stale). */
  take(dimension: number): BatchBufferPair {
    const bytes = this.rows * dimension * 4;
    const pair = this.free.take((p) => p.vectors.byteLength === bytes);
    if (pair !== undefined) {
      this.reused++;
      return pair;
    }
    this.allocated++;
    return { slots: new ArrayBuffer(this.rows * 4), vectors: new ArrayBuffer(bytes) };
  }

  /** Hands a pair from take() back once nothing reads it any more (a detached or foreign one is ignored). */
  give(pair: BatchBufferPair): void {
    const { slots, vectors } = pair;
    if (slots.byteLength !== this.rows * 4 || vectors.byteLength === 0 || vectors.byteLength % (this.rows * 4) !== 0) return;
    this.free.put(pair);
  }

  /** Pairs on the free list (for specs). */
  get size(): number {
    return this.free.size;
  }
}
