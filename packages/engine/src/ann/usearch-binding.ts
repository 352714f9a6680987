// Which compiled usearch index the engine's graphs run on. `compiled`: Conifer's own build of usearch's binding
// (native/, built by the package's build script where a C++ toolchain exists): its walk overlaps the cache misses of
// a candidate's neighbours (30–37 % less CPU per search on a 1M-node graph) and a viewed graph skips the key table
// (a 1M-node view 96–109 → 37–46 ms of CPU on the event loop). `prebuilt`: the binary usearch ships, used when ours was not built
// or when asked for. Both are usearch 2.25.3: the same graph files, the same answers.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** usearch's native index class, as both bindings expose it (the subset the engine calls). */
export interface CompiledIndex {
  size(): number;
  connectivity(): number;
  add(keys: BigUint64Array, vectors: Float32Array, threads: number): void;
  /** [keys, distances, counts] for the queries in `vectors`, `k` slots each. */
  search(vectors: Float32Array, k: number, threads: number): [BigUint64Array, Float32Array, BigUint64Array];
  save(path: string): void;
  load(path: string): void;
  view(path: string): void;
  /**
   * Conifer's binding only: `view` on a thread of libuv's pool, the file read back in 2 MB pages where the kernel
   * can (native/usearch-binding.cpp). With `bytes` and `crc32`, the file is viewed only if it has that size and CRC-32
   * (checked on the same read); otherwise the promise rejects and nothing is viewed. The index must not be used until
   * it settles.
   */
  viewAsync?(path: string, bytes?: number, crc32?: number): Promise<void>;
}

type CompiledIndexClass = new (
  dimensions: number,
  metric: string,
  quantization: string,
  connectivity: number,
  expansionAdd: number,
  expansionSearch: number,
  multi: boolean,
  /** Conifer's binding only (the prebuilt one ignores it): false leaves out the key → slot table. */
  keyLookups?: boolean,
) => CompiledIndex;

export type AnnBindingKind = 'compiled' | 'prebuilt';

export interface AnnBinding {
  kind: AnnBindingKind;
  /** Why the prebuilt binding is used, when `compiled` was asked for. */
  fallbackReason?: string;
  CompiledIndex: CompiledIndexClass;
}

const require = createRequire(import.meta.url);
// From src/ann or dist/ann alike. native/build/status.json says why a build did not make it.
const ADDON = fileURLToPath(new URL('../../native/build/build/Release/conifer_usearch.node', import.meta.url));

function prebuilt(fallbackReason?: string): AnnBinding {
  // As usearch's own wrapper loads it: node-gyp-build over the package's prebuilds. usearch's entry point is
  // javascript/dist/cjs/usearch.js in its package (2.25.3, pinned).
  const root = join(dirname(require.resolve('usearch')), '../../..');
  const load = createRequire(join(root, 'package.json'))('node-gyp-build') as (dir: string) => { CompiledIndex: CompiledIndexClass };
  return { kind: 'prebuilt', CompiledIndex: load(root).CompiledIndex, ...(fallbackReason === undefined ? {} : { fallbackReason }) };
}

function compiled(): AnnBinding {
  try {
    return { kind: 'compiled', CompiledIndex: (require(ADDON) as { CompiledIndex: CompiledIndexClass }).CompiledIndex };
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND';
    return prebuilt(
      missing
        ? "Conifer's binding was not built (the engine's build says why: packages/engine/native/build/status.json)"
        : `Conifer's binding did not load: ${(err as Error).message.split('\n')[0]}`,
    );
  }
}

/** What Conifer's binding exports besides the index (process-level calls: the only native code the project compiles). */
interface AddonExtras {
  trimMallocHeap?: () => Promise<boolean>;
  mallocFreeBytes?: () => number;
  adviseHugePages?: (buffer: ArrayBuffer) => boolean;
  scanJsonFloat32Array?: JsonFloat32ArrayScan;
}

let extras: AddonExtras | undefined;

function addonExtras(): AddonExtras {
  try {
    return (extras ??= require(ADDON) as AddonExtras);
  } catch {
    return (extras = {});
  }
}

/** malloc's heap as the compiled binding reaches it (glibc only). */
export interface MallocHeap {
  /** `malloc_trim(0)` on a thread of libuv's pool; resolves whether any memory went back to the kernel. */
  trim(): Promise<boolean>;
  /** Bytes free inside the arenas below their tops (`mallinfo2`): what a trim walks and hands back. */
  freeBytes(): number;
}

/**
 * glibc's `malloc_trim(0)` and `mallinfo2` (Conifer's binding, on glibc): the free space between live blocks of every
 * malloc arena goes back to the kernel. Undefined where the binding was not built or the C library is another.
 */
export function mallocHeap(): MallocHeap | undefined {
  const { trimMallocHeap, mallocFreeBytes } = addonExtras();
  return trimMallocHeap === undefined || mallocFreeBytes === undefined ? undefined : { trim: trimMallocHeap, freeBytes: mallocFreeBytes };
}

/**
 * `madvise(MADV_HUGEPAGE)` over the whole 2 MB pages inside a buffer (Conifer's binding): filled row by row, it then
 * takes one page fault per 2 MB instead of 512. Undefined where the binding was not built.
 */
export function hugePageAdvice(): ((buffer: ArrayBuffer) => boolean) | undefined {
  return addonExtras().adviseHugePages;
}

/**
 * Reads the JSON array of numbers starting with `[` at `at` of `bytes` into `out` from `outAt`, each value
 * bit-identical to `Math.fround(JSON.parse(text))`. Returns `count * 2 ** 32 + end` (end: the index after `]`), or -1
 * when it does not take the array: bad syntax, a number it leaves to the caller's own reader (not a finite float32, or
 * an underflow to zero), or no room in `out` (what it wrote is then garbage).
 */
export type JsonFloat32ArrayScan = (bytes: Uint8Array, at: number, out: Float32Array, outAt: number) => number;

/**
 * The compiled binding's scan of a JSON array of numbers into float32 (the store's upsert and query readers; ~22 ns
 * a number against ~30–50 for their JavaScript reader). Undefined where the binding was not built.
 */
export function jsonFloat32ArrayScan(): JsonFloat32ArrayScan | undefined {
  return addonExtras().scanJsonFloat32Array;
}

let current: AnnBinding | undefined;

/**
 * Chooses the binding for graphs made from now on in this thread (each worker thread chooses its own). Graphs
 * already made keep theirs; mixing is safe (same files, same answers), but a process is meant to choose once, at
 * start, before its first graph.
 */
export function selectAnnBinding(kind: AnnBindingKind): AnnBinding {
  current = kind === 'compiled' ? compiled() : prebuilt();
  return current;
}

/** The binding in use (chosen on first use: `compiled` where it was built). */
export function annBinding(): AnnBinding {
  return (current ??= compiled());
}
