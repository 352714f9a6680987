// A full garbage collection on demand, for the few moments when a lot of native memory has just become
// garbage but little JS is allocated to prompt a collection: V8 frees an ArrayBuffer's (or a native
// object's) memory only when it collects the wrapper, and until then that memory is resident (RssAnon).
import { setFlagsFromString } from 'node:v8';
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
