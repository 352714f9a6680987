// A full garbage collection on demand, for the few moments when a lot of native memory has just become
// garbage but little JS is allocated to prompt a collection: V8 frees an ArrayBuffer's (or a native
// object's) memory only when it collects the wrapper, and until then that memory is resident (RssAnon).
// Then malloc's side of the same moments: what V8 freed below the mmap threshold stays resident as free heap
// until it is trimmed (releaseFreeMemory).
import { mallocHeap } from '@conifer/engine';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as ((options?: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void) | undefined;

/**
 * Runs a full collection (no-op if the runtime refuses to expose gc). `shrink`: V8's memory-reducing
 * collection (its "last resort": full collections until nothing more is freed, and the heap's spaces
 * shrunk to what they hold). A plain one leaves the young generation at the size a burst of allocation grew
 * it to: loading 100k × 128 grew it to 64 MB, 40 MB of it resident although empty (400 B per vector of
 * RssAnon), until V8's memory reducer shrank it after ~10 s without allocation, which a store serving
 * queries may never give it.
 */
export function collectGarbage(shrink = false): void {
  if (shrink) gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  else gc?.();
}

/**
 * Live JS heaps up to this size are collected in tens of milliseconds at most. A full collection is atomic (V8's own
 * major collections mark concurrently and pause ~10 ms), and its pause grows with the live heap: measured here
 * (`node --expose-gc`, small objects like metadata, the other core busy) 14 MB 14–30 ms, 27 MB 35 ms, 55 MB
 * 56–225 ms, 119 MB 100–500 ms. A 1M × 768 store holds 80–160 MB, and the collection its ingest's end asked for
 * blocked the event loop for ~0.5 s (issue 12 part 5; bench/RESULTS.md, session 18).
 */
const QUICK_COLLECTION_HEAP_BYTES = 32 * 2 ** 20;

/**
 * collectGarbage() when the live heap is small enough for it to be quick (`limitBytes`); returns whether it ran.
 * In a larger heap the garbage left behind is a small share of the process's memory, and V8 collects it once
 * allocation (or the external memory of its ArrayBuffers) asks for it.
 */
export function collectGarbageIfQuick(limitBytes = QUICK_COLLECTION_HEAP_BYTES): boolean {
  if (gc === undefined || getHeapStatistics().used_heap_size > limitBytes) return false;
  collectGarbage();
  return true;
}

const heap = mallocHeap();

/** Whether releaseFreeMemory() can give malloc's free heap back (Conifer's compiled binding, glibc). */
export const canTrimMallocHeap = heap !== undefined;

/**
 * V8 frees a collected ArrayBuffer's memory on a background thread after the collection: the trim waits this long
 * so that the blocks the collection dropped are free by then.
 */
const TRIM_DELAY_MS = 1000;

/**
 * A trim runs on libuv's pool but holds each arena's lock for its whole walk, and the event loop's own `malloc` calls
 * wait for the main arena's: the loop stops for as long as the trim takes, ~1–1.2 ms per MB of free heap handed back
 * on this project's VM (one `madvise` per free block; 118 ms for 98 MB, 525 ms for 488 MB; bench/RESULTS.md session
 * 19). So only a free heap up to this size is trimmed (~20 ms); a larger one stays, as it did before the trim (within
 * the memory goals: 100k × 768 0.43–0.51× raw, 100k × 128 0.90–1.17×).
 */
const QUICK_TRIM_BYTES = 16 * 2 ** 20;

let trimTimer: NodeJS.Timeout | undefined;
/** The trim the timer will start (resolves as it ends). */
let pendingTrim: Promise<boolean> | undefined;
/** The trim on libuv's pool now. */
let trimRunning: Promise<boolean> | undefined;

/**
 * For the moments after a burst of allocation (upserts stopped, the graph builder dropped its copy): a collection
 * when it is quick, then, a moment later and off the event loop, malloc's free heap back to the kernel when it is
 * small enough for that to be quick (`limitBytes`; glibc's `malloc_trim`: blocks under the mmap threshold freed between
 * live ones are otherwise resident for good). Requests while one is pending are the same trim. Returns the pending
 * trim (undefined without one), which resolves whether memory went back.
 */
export function releaseFreeMemory(delayMs = TRIM_DELAY_MS, limitBytes = QUICK_TRIM_BYTES): Promise<boolean> | undefined {
  collectGarbageIfQuick();
  if (heap === undefined) return undefined;
  if (trimTimer !== undefined) return pendingTrim;
  pendingTrim = new Promise<boolean>((resolve) => {
    trimTimer = setTimeout(() => {
      trimTimer = undefined;
      if (trimRunning === undefined && heap.freeBytes() > limitBytes) return resolve(false);
      // One at a time: a trim still running when the next is due is that one.
      trimRunning ??= heap.trim().catch(() => false).finally(() => (trimRunning = undefined));
      void trimRunning.then(resolve);
    }, delayMs);
    trimTimer.unref();
  });
  return pendingTrim;
}
