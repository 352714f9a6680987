// A full garbage collection on demand, for the few moments when a lot of native memory has just become
// garbage but little JS is allocated to prompt a collection: V8 frees an ArrayBuffer's (or a native
// object's) memory only when it collects the wrapper, and until then that memory is resident (RssAnon).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (() => void) | undefined;

/** Runs a full collection (no-op if the runtime refuses to expose gc). */
export function collectGarbage(): void {
  gc?.();
}
