// A namespace's dense values on disk (`snapshot-<seq>.values-<k>-<part>.f32`, written with a snapshot, or kept from an
// earlier one: see durable-index.ts saveValues): the part's row r is slot first + r, `dimension` little-endian float32
// at byte r × dimension × 4, dead slots as zeros when written. After the snapshot is durable the namespace serves
// those slots from its parts (`ValuesParts`, `NamespaceStore.attachSegment`) and drops them
// from memory; reads are `pread`s that the kernel answers from its page cache, which is file-backed memory
// (evictable, not counted in RssAnon), so resident anonymous memory holds only the log's tail of values.
import { close, closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import type { FrozenNamespace, VectorSegment } from '@conifer/engine';

/**
 * Closes a descriptor off the event loop (libuv's thread pool). By the time a values file is let go its
 * snapshot has usually been superseded and the file unlinked, so this close is the file's last reference and
 * the kernel frees its blocks inside it: for 100k × 768 (300 MB) a synchronous close held the loop ~250 ms
 * (bench/RESULTS.md, s10-stalls).
 */
function closeInBackground(fd: number): void {
  close(fd, () => {
    // Already closed, or failed: nothing is left to release either way.
  });
}

/**
 * Closes the descriptor of a values file nobody refers to any more. A file is shared by its namespace, the
 * frozen views of snapshots being written and scorers of running reads, so it is closed when collected
 * (as a replaced graph stays mapped until its index object is collected), never while still readable.
 */
const closeWhenCollected = new FinalizationRegistry<number>(closeInBackground);

/** Rows per read/write of a whole file (≈ 768 KB at 768-d): one synchronous slice of work each. */
const ROWS_PER_SLICE = 256;

/** The values file of one namespace, open for reads until closed. */
export class ValuesFile implements VectorSegment {
  private fd: number | undefined;

  private constructor(
    readonly file: string,
    readonly dimension: number,
    readonly rows: number,
    fd: number,
  ) {
    this.fd = fd;
    closeWhenCollected.register(this, fd, this);
  }

  /** Opens a values file after checking it has exactly `rows` rows (a file of another size is refused). */
  static open(file: string, dimension: number, rows: number): ValuesFile {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size !== rows * dimension * 4) throw new Error(`values file ${file} has ${size} bytes, expected ${rows * dimension * 4}`);
      return new ValuesFile(file, dimension, rows, fd);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  get closed(): boolean {
    return this.fd === undefined;
  }

  read(first: number, count: number, out: Float32Array, outOffset: number): void {
    if (this.fd === undefined) throw new Error(`values file ${this.file} is closed`);
    if (first < 0 || first + count > this.rows) throw new RangeError(`rows [${first}, ${first + count}) outside the values file (${this.rows} rows)`);
    const bytes = count * this.dimension * 4;
    const target = new Uint8Array(out.buffer, out.byteOffset + outOffset * 4, bytes);
    const position = first * this.dimension * 4;
    let done = 0;
    while (done < bytes) {
      const n = readSync(this.fd, target, done, bytes - done, position + done);
      if (n === 0) throw new Error(`values file ${this.file} ends early`);
      done += n;
    }
  }

  /** Closes it (only when nothing can read it any more); the descriptor is released off the event loop. */
  close(): void {
    if (this.fd === undefined) return;
    closeWhenCollected.unregister(this);
    closeInBackground(this.fd);
    this.fd = undefined;
  }
}

/**
 * Writes rows [from, slotCount) of a frozen namespace into an open file, a slice at a time (the event loop
 * serves requests between slices); dead slots are written as zeros. Returns the rows, size and CRC-32.
 */
export async function writeValuesFile(handle: FileHandle, ns: FrozenNamespace, from = 0): Promise<{ rows: number; bytes: number; crc32: number }> {
  const dim = ns.dimension;
  const slice = new Float32Array(ROWS_PER_SLICE * dim);
  const bytesOf = Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength);
  let crc = 0;
  let bytes = 0;
  for (let first = from; first < ns.slotCount; first += ROWS_PER_SLICE) {
    const count = Math.min(ROWS_PER_SLICE, ns.slotCount - first);
    ns.readRows(first, count, slice);
    for (let i = 0; i < count; i++) if (!ns.isLive(first + i)) slice.fill(0, i * dim, (i + 1) * dim);
    const chunk = bytesOf.subarray(0, count * dim * 4);
    crc = crc32(chunk, crc);
    let written = 0;
    while (written < chunk.length) written += (await handle.write(chunk, written, chunk.length - written, bytes + written)).bytesWritten;
    bytes += chunk.length;
  }
  return { rows: ns.slotCount - from, bytes, crc32: crc };
}

/**
 * A namespace's values served from consecutive files (a snapshot's parts, in slot order from slot 0): each read goes
 * to the part or parts holding its rows.
 */
export class ValuesParts implements VectorSegment {
  readonly rows: number;
  readonly dimension: number;
  /** Each part's first slot, ascending (starts[0] = 0). */
  private readonly starts: number[];

  private readonly parts: readonly ValuesFile[];

  constructor(parts: readonly ValuesFile[]) {
    if (parts.length === 0) throw new Error('values parts: none given');
    this.dimension = parts[0]!.dimension;
    this.parts = parts.filter((part) => part.rows > 0);
    this.starts = [];
    let rows = 0;
    for (const part of this.parts) {
      if (part.dimension !== this.dimension) throw new Error(`values parts: ${part.file} has dimension ${part.dimension}, not ${this.dimension}`);
      this.starts.push(rows);
      rows += part.rows;
    }
    this.rows = rows;
  }

  read(first: number, count: number, out: Float32Array, outOffset: number): void {
    if (first < 0 || first + count > this.rows) throw new RangeError(`rows [${first}, ${first + count}) outside the values parts (${this.rows} rows)`);
    // The last part starting at or before `first` (a binary search: a namespace has O(log size) parts).
    let lo = 0;
    let hi = this.parts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= first) lo = mid;
      else hi = mid - 1;
    }
    for (let p = lo, slot = first, done = 0; done < count; p++) {
      const part = this.parts[p]!;
      const take = Math.min(count - done, this.starts[p]! + part.rows - slot);
      part.read(slot - this.starts[p]!, take, out, outOffset + done * this.dimension);
      slot += take;
      done += take;
    }
  }
}
