// Graphs memory-mapped by the store (usearch `view`: the builder's published graphs, a snapshot's graph at start;
// mapped on libuv's pool with the compiled binding) are unmapped and closed by usearch's destructor, which runs when
// V8 has collected the index object: a N-API finalizer, run among the native immediates of the event loop. When that
// close is the file's last reference (its names unlinked meanwhile: the builder removes a replaced graph's file at
// once, a superseded snapshot's graph link goes with it), the kernel frees the file's page cache and blocks inside
// that close, on the event loop: ~35 ms of the main thread's CPU for a 100k × 768 graph (ext4_evict_inode →
// truncate_inode_pages_range under ~CompiledIndex, perf), and with the store's rare full collections (session 11:
// --initial-old-space-size) the graphs replaced since the last one are finalized together, in one tick of 50–150 ms
// (bench/RESULTS.md, session 12).
//
// So each view holds one more name of its file, a hard link of its own (`<index>/ann/mapped/`), until its index
// object has been collected and its destructor has closed the file: the close then frees nothing, and the link's
// removal afterwards (fs.rm: libuv's thread pool) is where the kernel frees the file. The unmapping itself stays
// on the event loop (a few ms per graph at 100k × 768; the destructor's).
import { closeSync, fstatSync, linkSync, mkdirSync, openSync, readSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { UsearchAnn, type AnnParams, type FileChecksum, type Metric } from '@conifer/engine';

/**
 * How long after the index object is found collected its link is removed. Its FinalizationRegistry callback and
 * usearch's N-API finalizer (which closes the file) follow the same collection in no set order; the finalizer
 * runs at the next turn's check phase, long before this. Removed too early, the file is freed as before (on the
 * event loop), nothing worse.
 */
export const UNLINK_AFTER_MS = 1000;

/** The directory of an index's view links (under its `ann` directory, which the store clears at start). */
export function mappedDir(indexDir: string): string {
  return path.join(indexDir, 'ann', 'mapped');
}

let links = 0;

export class GraphViews {
  private readonly registry: FinalizationRegistry<string>;
  /** Links made and links removed so far (specs, metrics). */
  linked = 0;
  unlinked = 0;

  constructor(private readonly unlinkAfterMs = UNLINK_AFTER_MS) {
    this.registry = new FinalizationRegistry((link) => {
      const timer = setTimeout(() => {
        void rm(link, { force: true }).then(
          () => this.unlinked++,
          () => {
            // Already gone (the index deleted with its directory) or not removable: nothing is held either way.
          },
        );
      }, this.unlinkAfterMs);
      timer.unref();
    });
  }

  /**
   * Maps `file` read-only (UsearchAnn.viewAsync: off the event loop with the compiled binding; with `expected`, only
   * if the file has that size and CRC-32) and links it into `dir` for as long as the returned index object is alive.
   * Without the link (it could not be made) the view works as before.
   */
  async view(file: string, dir: string, metric: Metric, dimension: number, params: AnnParams, maxNorm: number, expected?: FileChecksum): Promise<UsearchAnn> {
    let checkOnView = expected;
    if (expected !== undefined && !UsearchAnn.viewChecksFiles()) {
      // usearch's prebuilt binding views without checking: the file is read for its CRC first (the view reads it again).
      checkGraphFile(file, expected);
      checkOnView = undefined;
    }
    const ann = await UsearchAnn.viewAsync(file, metric, dimension, params, maxNorm, checkOnView);
    const link = path.join(dir, `${process.pid}-${++links}.usearch`);
    try {
      mkdirSync(dir, { recursive: true });
      linkSync(file, link);
    } catch {
      return ann;
    }
    this.linked++;
    this.registry.register(ann, link);
    return ann;
  }
}

/** The store's views (one registry for the process). */
export const graphViews = new GraphViews();

const CHECK_CHUNK = 8 * 1024 * 1024;

/** Throws unless the file has `expected`'s size and CRC-32 (a read on this thread: recovery, before the server listens). */
export function checkGraphFile(file: string, expected: FileChecksum): void {
  const fd = openSync(file, 'r');
  try {
    if (fstatSync(fd).size !== expected.bytes) throw new Error('graph file has the wrong size');
    const buffer = Buffer.allocUnsafe(CHECK_CHUNK);
    let crc = 0;
    for (let at = 0; ; ) {
      const n = readSync(fd, buffer, 0, CHECK_CHUNK, at);
      if (n === 0) break;
      crc = crc32(buffer.subarray(0, n), crc);
      at += n;
    }
    if (crc !== expected.crc32) throw new Error('graph file does not match its checksum');
  } finally {
    closeSync(fd);
  }
}
