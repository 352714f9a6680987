// Upsert bodies collected into reused buffers (issue 12 part 4). Fastify's `parseAs: 'buffer'` joins every body
// into a fresh allocation: a 768-d body is ~2 MB, above any mmap threshold glibc runs with, so each one was a
// new mapping whose pages the kernel faulted in and zeroed, then unmapped — the largest single cost left on
// the store's event loop during a durable ingest (bench/RESULTS.md, s9-ingest: 28 % of it). Here the body is
// copied, chunk by chunk as it arrives, into a buffer taken from a short free list; the parse worker hands the
// buffer back with its answer (or the event loop gives it back once it has read the body itself), and the
// next body reuses its already-faulted pages.
//
// What the list keeps is resident anonymous memory, so it is small (a few bodies: the requests in flight) and
// emptied once upserts stop for a while: an idle store holds none of it (the memory bench reads RssAnon
// after the ingest, and a 128-d index's goal is 2× its raw size).
import type { Readable } from 'node:stream';
import { errorCodes } from 'fastify';
import { IdleFreeList } from '../storage/idle-free-list.js';

/** Buffers are allocated in steps of this size, so that bodies of about the same size share them. */
const STEP = 256 * 1024;

export interface BodyBuffersOptions {
  /** Buffers kept for reuse at most. */
  readonly keep?: number;
  /** The free list is emptied after this long without a buffer taken. */
  readonly idleMs?: number;
  /** Called then too: upserts have stopped for a while (the server collects the garbage they left). */
  readonly onIdle?: () => void;
}

export class BodyBuffers {
  private readonly free: IdleFreeList<ArrayBuffer>;
  /** Counters for specs and metrics: buffers allocated, and reused from the list. */
  allocated = 0;
  reused = 0;

  constructor(options: BodyBuffersOptions = {}) {
    this.free = new IdleFreeList(options.keep ?? 6, options.idleMs ?? 3000, options.onIdle);
  }

  /** A buffer of `length` bytes over a reused or new ArrayBuffer of its own (byteOffset 0; its contents are stale). */
  take(length: number): Buffer {
    if (length === 0) return Buffer.alloc(0);
    const reused = this.free.take((candidate) => candidate.byteLength >= length && candidate.byteLength < length + 4 * STEP);
    if (reused !== undefined) {
      this.reused++;
      return Buffer.from(reused, 0, length);
    }
    this.allocated++;
    // Never from Node's shared pool (Buffer.allocUnsafe would use it for small sizes): the buffer is
    // transferred to a worker whole and comes back whole.
    return Buffer.from(new ArrayBuffer(Math.max(STEP, Math.ceil(length / STEP) * STEP)), 0, length);
  }

  /** Hands a buffer from take() back once nothing reads it any more (a detached or foreign one is ignored). */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === 0 || buffer.byteLength % STEP !== 0) return;
    this.free.put(buffer);
  }

  /** Buffers on the free list (for specs). */
  get size(): number {
    return this.free.size;
  }
}

/**
 * Reads a request body into a buffer from `buffers`, with Fastify's rules for a body (`limit` bytes at most,
 * the length its Content-Length says) and its errors, so that clients get the same answers as from
 * `parseAs: 'buffer'`. With a Content-Length every chunk is copied in as it arrives; without one (a chunked
 * body) the chunks are joined at the end.
 */
export function readBodyInto(
  buffers: BodyBuffers,
  payload: Readable,
  headerLength: string | undefined,
  limit: number,
  done: (error: Error | null, body?: Buffer) => void,
): void {
  const declared = headerLength === undefined ? Number.NaN : Number(headerLength);
  if (declared > limit) return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
  let body = Number.isInteger(declared) && declared > 0 ? buffers.take(declared) : undefined;
  let chunks: Buffer[] | undefined = body === undefined ? [] : undefined;
  let received = 0;
  const finish = (error: Error | null, value?: Buffer): void => {
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', onEnd);
    if (error !== null && body !== undefined) buffers.give(body.buffer as ArrayBuffer);
    body = undefined;
    chunks = undefined;
    done(error, value);
  };
  const onData = (chunk: Buffer | string): void => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (received + bytes.length > limit) return finish(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    if (body !== undefined) {
      if (received + bytes.length > body.length) return finish(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      body.set(bytes, received);
    } else chunks!.push(bytes);
    received += bytes.length;
  };
  const onEnd = (error?: Error & { statusCode?: number }): void => {
    if (error != null) {
      if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400;
      return finish(error);
    }
    if (!Number.isNaN(declared) && received !== declared) return finish(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
    if (body !== undefined) return finish(null, body);
    const joined = buffers.take(received);
    let at = 0;
    for (const chunk of chunks!) {
      joined.set(chunk, at);
      at += chunk.length;
    }
    finish(null, joined);
  };
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onEnd);
  payload.resume();
}
