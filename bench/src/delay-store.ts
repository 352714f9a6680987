// The real vector store with a query delay the caller chooses (hop-delay.ts runs it as the system's store main):
// a query in a namespace named `delay-<mode>-<µs>` is held for that long before the engine answers it, so that
// what the gateway's hop costs can be measured against a store that takes as long as a large index does, without
// one. The modes: `idle` blocks the store's thread off the CPU (Atomics.wait: a store waiting on a disk), `spin`
// keeps it on the CPU touching nothing (a search in a small, cached graph), `thrash` reads 3 KB blocks at random
// offsets of a 1 GiB buffer (a graph walk over 1M × 768 vectors: what evicts the other processes' caches).
// Any other namespace is answered as the store answers it.
import { VectorIndex } from '@conifer/engine';
import { STORE_MAIN } from '@conifer/test-utils';

const NAMESPACE = /^delay-(idle|spin|thrash)-(\d+)$/;
/** 1 GiB of 32-bit words, written once so that each page is its own (an untouched page reads the shared zero page). */
const THRASH_WORDS = 256 * 1024 * 1024;
/** A 768-d float32 vector's bytes, in words. */
const BLOCK_WORDS = 768;

let thrashBuffer: Uint32Array | undefined;
const parked = new Int32Array(new SharedArrayBuffer(4));
/** Read by nobody: keeps the sums from being optimised away. */
export let sink = 0;

function hold(mode: string, micros: number): void {
  const until = performance.now() + micros / 1000;
  if (mode === 'idle') {
    Atomics.wait(parked, 0, 0, micros / 1000);
    return;
  }
  if (mode === 'spin') {
    while (performance.now() < until);
    return;
  }
  if (thrashBuffer === undefined) {
    thrashBuffer = new Uint32Array(THRASH_WORDS);
    for (let i = 0; i < THRASH_WORDS; i += 1024) thrashBuffer[i] = i;
  }
  const words = thrashBuffer;
  let sum = 0;
  let seed = (sum + 0x9e3779b9) | 0;
  while (performance.now() < until) {
    for (let block = 0; block < 16; block++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) | 0;
      const start = ((seed >>> 0) % (THRASH_WORDS - BLOCK_WORDS)) & ~15;
      for (let i = start; i < start + BLOCK_WORDS; i += 16) sum += words[i]!;
    }
  }
  sink = sum;
}

const query = VectorIndex.prototype.query;
VectorIndex.prototype.query = function delayedQuery(this: VectorIndex, request, prescan) {
  const delay = NAMESPACE.exec(request.namespace);
  if (delay !== null) hold(delay[1]!, Number(delay[2]));
  return query.call(this, request, prescan);
};

await import(STORE_MAIN);
