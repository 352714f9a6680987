// glibc malloc's mmap threshold, fixed for the store process. By default glibc raises the threshold to the
// size of every large mapped block that is freed (up to 32 MB): once the first 12 MB values chunk is dropped
// after a snapshot, every later block under 12 MB (upsert bodies, parsed values, batches for the graph
// builder, sketch chunks) comes from the main heap, where freed space between live blocks stays resident.
// After ingesting 100k × 768 that left ~100–200 MB of free heap counted in RssAnon (1.0× the raw float32
// size instead of 0.5–0.7×; at 128-d, where upsert bodies and their parts are tens of KB, 4× instead of 2×;
// bench/RESULTS.md). A fixed threshold turns the dynamic raise off: blocks from the threshold up are mapped
// on their own and unmapped when freed. 32 KB: at 64 KB the 128-d ingest still left 80 MB of free heap
// resident, at 32 KB 9 MB; each such block costs a mapping (the kernel allows ~65k per process), which
// only far more long-lived blocks of 32–128 KB than an index keeps would exhaust.
//
// glibc reads its tunables only when a process starts, and Node gives no way to call mallopt(), so the store
// re-executes itself once (process.execve: same pid, same open descriptors, nothing started yet) with
// GLIBC_TUNABLES set. Not on other C libraries (musl returns memory by itself), not on Node versions without
// process.execve, not when the operator already set the threshold.

const TUNABLE = 'glibc.malloc.mmap_threshold';

// 72 KB where the freed heap can be trimmed (storage/collect-garbage.ts): just above the 64 KiB that Node's HTTP
// parser copies each read of a request body into. At 32 KB every such copy was a mapping of its own, faulted in
// and zeroed, then unmapped by V8's collector thread with a TLB shootdown across the cores: ~45 % of the store's
// CPU during a 768-d durable ingest on a VM whose page faults and IPIs are dear (155 → 86 ms per 1000 vectors,
// bench/RESULTS.md session 19). Above the reads, those blocks come from the heap and are reused; what they leave
// free between live blocks (tens of MB after an ingest, session 14) the idle trim returns when it is small (≤ 16 MB:
// a trim stops the event loop's mallocs while it runs), and a larger rest stays resident (100k × 768 0.41× raw,
// 100k × 128 0.73×, within the goals). Without the trim (no compiled binding, or not glibc) 32 KB stays.
const TRIMMED_THRESHOLD = 72 * 1024;
const UNTRIMMED_THRESHOLD = 32 * 1024;

/** The threshold when the operator set none: higher where the store can trim the heap it leaves free. */
export function defaultMallocThreshold(canTrim: boolean): number {
  return canTrim ? TRIMMED_THRESHOLD : UNTRIMMED_THRESHOLD;
}

/**
 * The environment to re-execute with, or undefined when the process already runs as it should: threshold
 * 0 (glibc's default kept), a threshold already set by the environment (by the operator, or by the
 * re-execution itself), or a C library other than glibc.
 */
export function mallocTunedEnvironment(env: NodeJS.ProcessEnv, threshold: number, glibc: () => boolean): NodeJS.ProcessEnv | undefined {
  if (threshold === 0) return undefined;
  const tunables = env.GLIBC_TUNABLES ?? '';
  if (tunables.split(':').some((t) => t.startsWith(`${TUNABLE}=`)) || env.MALLOC_MMAP_THRESHOLD_ !== undefined) return undefined;
  // Asked last: the diagnostic report that tells costs ~2.5 ms, and the re-executed process never needs it.
  if (!glibc()) return undefined;
  return { ...env, GLIBC_TUNABLES: tunables === '' ? `${TUNABLE}=${threshold}` : `${tunables}:${TUNABLE}=${threshold}` };
}

/** Whether this process runs on glibc (Node's diagnostic report names its runtime version). */
function onGlibc(): boolean {
  if (process.platform !== 'linux') return false;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime !== undefined;
}

// The same re-execution gives V8 a floor for its old generation's limit (--initial-old-space-size: V8 keeps a
// configured initial size as the least limit). The store's JS heap is small (~20–40 MB: the values, sketches
// and graphs live outside it) while its young generation grows to 32 MB per semi-space under load; V8 sets the
// old generation's limit after a full collection only some MB above the live size, starts the next
// incremental marking as soon as the room left is below the young generation's capacity, and so marked and
// compacted back to back: 25–35 mark-compacts while ingesting 30k × 768, each a pause of the event loop of
// 10–250 ms on a loaded machine (bench/RESULTS.md, session 11: every one of them was started by the old
// generation's limit, none by external memory). With a floor of 128 MB the heap grows to it before the next
// full collection: an ingest of 100k × 768 ran 12–14 instead of 74–95. The cost is more garbage resident while
// the store allocates (server.ts collects once when upserts stop).
const OLD_SPACE_FLOOR_MB = 128;

/** The node options to add for the old generation's floor: none when the operator sized the heap already. */
export function heapFloorArgs(execArgv: readonly string[], nodeOptions: string | undefined, floorMb: number): string[] {
  if (floorMb === 0) return [];
  const sized = (option: string): boolean => /^--initial[-_](old[-_]space|heap)[-_]size\b/.test(option);
  if (execArgv.some(sized) || (nodeOptions ?? '').split(/\s+/).some(sized)) return [];
  return [`--initial-old-space-size=${floorMb}`];
}

/**
 * Re-executes the process with the malloc threshold set and V8's old-generation floor (does not return then);
 * returns when nothing is to be done (both already as they should be, or no process.execve).
 */
export function execWithMallocThreshold(threshold: number, oldSpaceFloorMb = OLD_SPACE_FLOOR_MB): void {
  if (typeof process.execve !== 'function') return;
  const env = threshold === 0 ? undefined : mallocTunedEnvironment(process.env, threshold, onGlibc);
  const args = heapFloorArgs(process.execArgv, process.env.NODE_OPTIONS, oldSpaceFloorMb);
  if (env === undefined && args.length === 0) return;
  process.execve(process.execPath, [process.execPath, ...args, ...process.execArgv, ...process.argv.slice(1)], env ?? process.env);
}
