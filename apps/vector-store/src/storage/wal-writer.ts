// Append-only log file with group commit: records appended while an fsync is in flight are written and
// synced together by the next round, so each append waits for at most two fsyncs and throughput grows
// with concurrency. append() resolves only after the record is on disk (fdatasync). After a failed
// write the writer refuses further appends (a partial record may sit at the tail; recovery drops it).
import { open, type FileHandle } from 'node:fs/promises';
import { UnavailableError } from '@conifer/contracts';
import { frameHeader } from './wal-codec.js';

interface Pending {
  /** The record's header and its payload (in pieces), written as they are (one writev per round, no joining copy). */
  header: Buffer;
  payload: Buffer | readonly Buffer[];
  resolve: () => void;
  reject: (error: Error) => void;
}

export class WalWriter {
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private paused = false;
  private failure: Error | undefined;
  private closed = false;
  /** fsync rounds done (metrics). */
  syncs = 0;

  private constructor(
    private handle: FileHandle,
    public path: string,
    public bytes: number,
  ) {}

  static async open(path: string): Promise<WalWriter> {
    const handle = await open(path, 'a');
    const { size } = await handle.stat();
    return new WalWriter(handle, path, size);
  }

  /**
   * Appends one record payload (or its consecutive pieces, which must not change until the promise settles);
   * resolves once it is durable.
   */
  append(payload: Buffer | readonly Buffer[]): Promise<void> {
    if (this.failure) return Promise.reject(new UnavailableError(`write-ahead log failed: ${this.failure.message}`));
    if (this.closed) return Promise.reject(new UnavailableError('index is closing'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ header: frameHeader(payload), payload, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.flushing === undefined && !this.paused && this.queue.length > 0) {
      this.flushing = this.flushLoop().finally(() => {
        this.flushing = undefined;
        this.kick();
      });
    }
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0 && !this.paused) {
      const batch = this.queue;
      this.queue = [];
      const parts: Buffer[] = [];
      let total = 0;
      for (const p of batch) {
        parts.push(p.header);
        total += p.header.length;
        if (Buffer.isBuffer(p.payload)) {
          parts.push(p.payload);
          total += p.payload.length;
        } else {
          for (const part of p.payload) {
            parts.push(part);
            total += part.length;
          }
        }
      }
      try {
        if (this.failure) throw this.failure;
        await writeAllParts(this.handle, parts, total);
        await this.handle.datasync();
        this.syncs++;
        this.bytes += total;
        for (const p of batch) p.resolve();
      } catch (error) {
        this.failure ??= error as Error;
        const rejection = new UnavailableError(`write-ahead log failed: ${(error as Error).message}`);
        for (const p of batch) p.reject(rejection);
      }
    }
  }

  /** False once a write or fsync has failed (the index refuses writes; readiness reports it). */
  get healthy(): boolean {
    return this.failure === undefined;
  }

  /** Waits until everything appended so far is durable and its callers have run. */
  async drain(): Promise<void> {
    while (this.flushing !== undefined || (this.queue.length > 0 && !this.paused)) {
      if (this.flushing !== undefined) await this.flushing;
      else await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setImmediate(resolve));
  }

  /**
   * Switches to a new file. `capture` runs at the moment every record of the old file has been applied
   * and nothing has gone to the new one (appends made meanwhile wait and go to the new file).
   */
  async rotate<T>(newPath: string, capture: () => T): Promise<T> {
    this.paused = true;
    try {
      while (this.flushing !== undefined) await this.flushing;
      // Let the callers of the last batch apply their mutations (they continue in microtasks).
      await new Promise((resolve) => setImmediate(resolve));
      const captured = capture();
      const next = await open(newPath, 'a');
      await this.handle.close();
      this.handle = next;
      this.path = newPath;
      this.bytes = 0;
      return captured;
    } finally {
      this.paused = false;
      this.kick();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.drain();
    this.closed = true;
    await this.handle.close();
  }
}

/** Writes `parts` in order at the file's end (appending), whatever a single writev managed to write. */
async function writeAllParts(handle: FileHandle, parts: Buffer[], total: number): Promise<void> {
  let left = parts;
  let remaining = total;
  while (remaining > 0) {
    const { bytesWritten } = await handle.writev(left);
    remaining -= bytesWritten;
    if (remaining === 0) return;
    if (bytesWritten === 0) throw new Error('write-ahead log: no progress writing');
    // A short write: drop what was written, keep the rest of a part cut in the middle.
    let skip = bytesWritten;
    let i = 0;
    while (skip >= left[i]!.length) skip -= left[i++]!.length;
    left = [left[i]!.subarray(skip), ...left.slice(i + 1)];
  }
}
