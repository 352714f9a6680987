// Request bodies arrive in the buffers Node reads sockets into: a new ArrayBuffer per read (64 KiB), whose bytes
// live outside V8's heap and are given back only when a collection finds the buffer dead. Forwarding a body
// allocates almost nothing on V8's heap, so a durable ingest (2 MB upserts) runs without any young-generation
// collection: the dead read buffers pile up until V8 reports external memory pressure and marks the whole old
// generation (~46 MB of Nest, Prisma and the rest), and each such mark-compact leaves the old generation a limit
// so tight (×1.1–1.2 of what is live, below the young generation's size) that the next collections start
// marking again: 2–10 mark-compacts per 100 MB of upserts, most of the gateway's CPU after the socket writes
// (bench/RESULTS.md, session 12).
//
// So the data plane asks for a young-generation collection (a scavenge: its cost is the few live young objects,
// not the old generation) after every EVERY_BYTES of request bodies it has forwarded, which frees the dead read
// buffers long before the pressure mark; and the old generation's limit grows ×3 after a mark-compact (V8's
// --heap-growing-percent), so that these scavenges do not find it within a young generation's size of its limit
// and start marking it. The price: the gateway's old generation may grow to ~3× its live size between two
// mark-compacts (~140 MB instead of ~55 MB at ~46 MB live).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Request-body bytes forwarded between two young-generation collections. */
export const YOUNG_COLLECTION_EVERY_BYTES = 16 * 1024 * 1024;
/** The old generation's limit after a mark-compact, as a percentage of what is live beyond 100 (×3). */
const HEAP_GROWING_PERCENT = 200;

type Collect = (options: { type: 'minor'; execution: 'sync' }) => void;

/**
 * V8's collection entry point (the `gc` that --expose-gc gives, taken from a fresh context so that the app's
 * own global scope gets none), with the heap growing factor above set; undefined if the runtime refuses either.
 */
export function youngCollector(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc !== 'function') return undefined;
    setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    return () => (gc as Collect)({ type: 'minor', execution: 'sync' });
  } catch {
    return undefined;
  }
}

/**
 * Counts forwarded body bytes and runs `collect` on the turn after everyBytes have been counted (once the bodies
 * were handed to the socket); the count starts again when it runs.
 */
export class YoungCollections {
  private since = 0;
  private scheduled = false;
  private readonly run = (): void => {
    this.scheduled = false;
    this.since = 0;
    this.collect!();
  };

  constructor(
    private readonly everyBytes: number,
    private readonly collect: (() => void) | undefined,
  ) {}

  /** `bytes` of request body were received and handed to the store. */
  received(bytes: number): void {
    if (this.collect === undefined) return;
    this.since += bytes;
    if (this.since < this.everyBytes || this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.run);
  }
}
