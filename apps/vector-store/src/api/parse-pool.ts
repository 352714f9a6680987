// A small pool of parse workers for upsert bodies (see parse-worker.ts and upsert-body.ts). Each request goes to the worker
// with the fewest requests in flight; the reply is turned back into the typed UpsertRequest.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InvalidArgumentError, type ParsedRecord, type UpsertRequest } from '@conifer/contracts';
import type { BodyBuffers } from './body-buffers.js';
import type { ParseMessage, ParseReply } from './parse-worker.js';

/** Values buffers under this size are not sent back (the worker allocates those afresh: parse-worker.ts). */
const RECYCLE_MIN_BYTES = 64 * 1024;

export function parseWorkerPath(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.join(here, 'parse-worker.js'),
    path.join(here.replace(`${path.sep}src${path.sep}`, `${path.sep}dist${path.sep}`), 'parse-worker.js'),
  ];
  return candidates.find((file) => existsSync(file));
}

interface PoolWorker {
  worker: Worker;
  inFlight: number;
}

export class ParsePool {
  private readonly workers: PoolWorker[] = [];
  private readonly pending = new Map<
    number,
    { resolve: (r: UpsertRequest) => void; reject: (e: Error) => void; owner: PoolWorker; returnTo: BodyBuffers | undefined }
  >();
  private nextId = 1;
  /** The buffer each parsed request's values view, and the worker it came from (recycle()). */
  private readonly valuesOf = new WeakMap<UpsertRequest, { buffer: ArrayBuffer; owner: PoolWorker }>();
  /** Counters for specs: answers whose values were scanned into a recycled buffer, and into a new one. */
  valuesReused = 0;
  valuesAllocated = 0;

  constructor(file: string, size: number) {
    for (let i = 0; i < size; i++) {
      // Named: the thread's name in /proc (bench/src/ingest-http.ts attributes CPU time per thread by it).
      const entry: PoolWorker = { worker: new Worker(file, { name: 'conifer-parse' }), inFlight: 0 };
      entry.worker.unref();
      entry.worker.on('message', (reply: ParseReply) => this.settle(reply));
      entry.worker.on('error', (error) => {
        for (const [id, p] of this.pending) {
          if (p.owner === entry) {
            this.pending.delete(id);
            p.reject(error);
          }
        }
      });
      this.workers.push(entry);
    }
  }

  private settle(reply: ParseReply): void {
    const p = this.pending.get(reply.id);
    if (p === undefined) return;
    this.pending.delete(reply.id);
    p.owner.inFlight--;
    // The body's buffer comes back read: the next body is copied into its pages.
    if (p.returnTo !== undefined && reply.bytes !== undefined) p.returnTo.give(reply.bytes);
    if (!reply.ok) {
      const status = reply.status === 413 || reply.status === 415 || reply.status === 422 ? reply.status : 400;
      p.reject(new InvalidArgumentError(reply.message, status));
      return;
    }
    const vectors: ParsedRecord[] = reply.records.map((r) => {
      const record: ParsedRecord = { id: r.id };
      if (r.valuesLength >= 0) record.values = reply.values.subarray(r.valuesOffset, r.valuesOffset + r.valuesLength);
      if (r.sparseValues !== undefined) record.sparseValues = r.sparseValues;
      if (r.metadata !== undefined) record.metadata = r.metadata;
      return record;
    });
    const request: UpsertRequest = { namespace: reply.namespace, vectors };
    if (reply.values.buffer.byteLength >= RECYCLE_MIN_BYTES) {
      this.valuesOf.set(request, { buffer: reply.values.buffer as ArrayBuffer, owner: p.owner });
      if (reply.valuesReused) this.valuesReused++;
      else this.valuesAllocated++;
    }
    p.resolve(request);
  }

  /**
   * Sends the buffer `request`'s values view back to its worker, which scans a later body's values into it.
   * Only once nothing reads them any more: the write is logged (the local WAL wrote them from these arrays and
   * fsynced; the replicated log encoded a copy) and applied (the namespace copied them). The request's values
   * are detached afterwards. A request not from parseUpsert, or recycled already, is ignored.
   */
  recycle(request: UpsertRequest): void {
    const entry = this.valuesOf.get(request);
    if (entry === undefined) return;
    this.valuesOf.delete(request);
    if (entry.buffer.byteLength === 0) return;
    entry.owner.worker.postMessage({ recycle: entry.buffer } satisfies ParseMessage, [entry.buffer]);
  }

  /**
   * Parses and validates an upsert body on a worker. `returnTo`: the body was taken from those buffers (it
   * starts its ArrayBuffer, which nothing else views); the buffer moves to the worker whole and is given back
   * to them when the worker answers.
   */
  parseUpsert(body: Buffer, returnTo?: BodyBuffers): Promise<UpsertRequest> {
    const owner = this.workers.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    const id = this.nextId++;
    // A body that owns its ArrayBuffer moves to the worker without a copy (the route does not read it again).
    // A small one may sit in Node's shared pool: copied out first.
    const owned =
      body.byteOffset === 0 && (returnTo !== undefined || body.byteLength === body.buffer.byteLength) && !(body.buffer instanceof SharedArrayBuffer);
    const bytes = (owned ? body.buffer : body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)) as ArrayBuffer;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, owner, returnTo: owned ? returnTo : undefined });
      owner.inFlight++;
      owner.worker.postMessage({ id, bytes, length: body.byteLength } satisfies ParseMessage, [bytes]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
