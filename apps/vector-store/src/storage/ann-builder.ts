// Background ANN builder: feeds the vectors that writes append to each large namespace to the ANN worker
// thread, and installs the worker's published index (memory-mapped, read-only) when it is ready. The
// event loop only copies batches and maps files; graph insertion runs on the worker (and usearch's own
// threads). Queries meanwhile scan the not-yet-indexed tail exactly, so results stay complete.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import {
  annBinding,
  calibrationDue,
  calibrationHeldBackSlots,
  calibrationSample,
  hasUnseenSample,
  unseenSample,
  type NamespaceStore,
  type VectorIndex,
} from '@conifer/engine';
import type { AnnSpec, AnnWorkerData, AnnWorkerNotice, AnnWorkerReply, AnnWorkerRequest } from './ann-worker.js';
import { BatchBuffers } from './batch-buffers.js';
import { releaseFreeMemory } from './collect-garbage.js';
import { graphViews, mappedDir } from './graph-view.js';

type Request = AnnWorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

interface NamespaceState {
  spec: AnnSpec;
  generation: number;
  /** Slots [0, sentUpTo) have been sent to the worker. */
  sentUpTo: number;
  /** Slots sent but not yet in a published file. */
  unpublished: number;
  publishedSize: number;
  busy: boolean;
  /**
   * A published file is being mapped (off the event loop) before it is installed: no other publish meanwhile (it
   * could be installed first), and the worker keeps its copy (currentFile is not yet the newest). Batches go on.
   */
  installing: boolean;
  /** The worker dropped its copy after publishing; the next batch reloads it from this file. */
  releasedFile: string | undefined;
  currentFile: string | undefined;
  seq: number;
  /** The worker holds a writable copy (false after a release). */
  inWorker: boolean;
  lastAddAt: number;
  lastPublishAt: number;
  /** The breadth calibration under way (sent to the worker a batch at a time), if any. */
  calibration: { cal: number; upTo: number; next: number; busy: boolean } | undefined;
  /** When the last calibration failed (retried a while later). */
  calibrationFailedAt: number;
}

/** How long close() waits for the worker's running jobs before terminating it. */
const CLOSE_WAIT_MS = 5000;

/** After a failed calibration, wait this long before trying again. */
const CALIBRATION_RETRY_MS = 60_000;

/** Publish a caught-up graph at most this often (each publish writes the whole graph). */
const PUBLISH_INTERVAL_MS = 1000;
/**
 * After this long without new vectors the worker drops its copy (the mapped file is the only one): at
 * 100k × 768 that copy is ~1 KB of anonymous memory per vector (the int8 vectors and the graph's links). A
 * later batch reloads it from the published file (~0.1–0.3 s of the worker's time at that size).
 */
export const DEFAULT_RELEASE_AFTER_MS = 10_000;

/**
 * Restored slots sketched per builder tick, on the event loop: at 768-d 3 MB read and quantised, ~90 ms at
 * load 15 on 2 cores (100k slots in 8.7 s, bench/src/sketch-memory.ts), a fraction of that on a quiet machine.
 */
const SKETCH_ROWS_PER_TICK = 1024;

export interface AnnBuilderSource {
  /** Indexes to maintain, with the directory where their ANN files may be written. */
  indexes(): { id: string; dir: string; index: VectorIndex }[];
}

/** Where the compiled worker is (dist), also when this module runs from src under jest. */
export function annWorkerPath(): string | undefined {
  const here = fileURLToPath(import.meta.url);
  const candidates = [
    path.join(path.dirname(here), 'ann-worker.js'),
    path.join(path.dirname(here).replace(`${path.sep}src${path.sep}`, `${path.sep}dist${path.sep}`), 'ann-worker.js'),
  ];
  return candidates.find((file) => existsSync(file));
}

export class AnnBuilder {
  private readonly worker: Worker;
  private readonly pending = new Map<number, (reply: AnnWorkerReply) => void>();
  private readonly states = new WeakMap<NamespaceStore, NamespaceState>();
  private nextId = 1;
  private nextCalibration = 1;
  /** Replies not yet received. */
  private readonly inflight = new Set<Promise<AnnWorkerReply>>();
  /** The build's batches are gathered into these; the worker sends them back with its answer. */
  private readonly batchBuffers: BatchBuffers;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failed = false;
  /** Restored slots were sketched in an earlier tick (see tick()). */
  private sketching = false;
  /** Batches gathered for the graph and for breadth calibrations (specs). */
  private buildBatches = 0;
  private calibrationBatches = 0;

  constructor(
    workerFile: string,
    private readonly source: AnnBuilderSource,
    private readonly logger: Logger,
    private readonly batch = 2048,
    private readonly releaseAfterMs = DEFAULT_RELEASE_AFTER_MS,
    /**
     * Recall@10 the search breadth of each graph is calibrated for (engine search/calibrate.ts) after it is
     * published, again once it has doubled, and once the build has caught up with a graph grown 1.25× since; 0: no
     * calibration (the planner's rule alone).
     */
    private readonly targetRecall = 0,
    /**
     * The worker thread's nice value (0–19, Linux; 0: the event loop's priority). Above 0 the graph gets the CPU
     * that acknowledging writes and answering queries leave: through the gateway a durable 768-d ingest on 2
     * quiet cores went from ~23k vectors/s at nice 0 to ~27k at 10 (on busy ones a median 7.0k to 8.1k at 5 and
     * 9.7k at 15, its graph caught up as soon within ±6 %; bench/RESULTS.md, session 14), and queries do not wait
     * for a core behind its inserts. The graph still gets every idle cycle, and a lagging graph costs only speed:
     * the unindexed tail is scanned exactly.
     */
    nice = 0,
    /**
     * Threads per insert batch; 0: every core when `nice` is above 0 (the builder then only takes what the event loop
     * leaves, so it may have the other core too), else one fewer than the cores (the event loop keeps one).
     */
    threads = 0,
  ) {
    this.batchBuffers = new BatchBuffers(batch);
    // Named: the thread's name in /proc (CPU time per thread in bench/src/ingest-http.ts).
    // The worker's graphs run on this thread's usearch binding (main.ts chooses it from the configuration).
    this.worker = new Worker(workerFile, { name: 'conifer-ann', workerData: { nice, threads: buildThreads(nice, threads), binding: annBinding().kind } satisfies AnnWorkerData });
    this.worker.unref();
    this.worker.on('message', (reply: AnnWorkerReply | AnnWorkerNotice) => {
      if ('warning' in reply) {
        this.logger.warn(reply.warning);
        return;
      }
      const resolve = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      resolve?.(reply);
    });
    this.worker.on('error', (error) => {
      this.failed = true;
      this.logger.error({ err: error }, 'ANN worker failed; queries stay exact for the unindexed part');
      for (const resolve of this.pending.values()) resolve({ id: 0, ok: false, message: error.message });
      this.pending.clear();
    });
  }

  start(): void {
    this.schedule(0);
  }

  private call(request: Request, transfer: ArrayBuffer[] = []): Promise<AnnWorkerReply> {
    if (this.failed) return Promise.resolve({ id: 0, ok: false, message: 'worker failed' });
    const id = this.nextId++;
    const reply = new Promise<AnnWorkerReply>((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({ ...request, id }, transfer);
    });
    this.inflight.add(reply);
    void reply.then(() => this.inflight.delete(reply));
    return reply;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), delayMs);
    this.timer.unref();
  }

  private tick(): void {
    let started = 0;
    try {
      // The int8 sketches of slots restored at start (the filtered scan waits for them) are made here, on the
      // event loop: SKETCH_ROWS_PER_TICK rows read from the values file and quantised per tick.
      let sketched = false;
      for (const { index } of this.source.indexes()) {
        if (index.buildSketchStep(SKETCH_ROWS_PER_TICK) > 0) {
          started++;
          sketched = true;
          break;
        }
      }
      // Each step reads its rows into a new array (0.5 MB at 128-d, 3 MB at 768-d) that is garbage at once but
      // freed only when collected, and a store that only serves queries may not prompt a collection: after a
      // restart at 100k × 128 ~50 MB of them stayed resident. Collect once when the backlog is done (a plain
      // collection: the shrinking one runs at start, before requests, and takes several full collections), when
      // the heap is small enough for that to be quick (a large store's would block the loop for 100s of ms).
      if (this.sketching && !sketched) void releaseFreeMemory();
      this.sketching = sketched;
      for (const { id, dir, index } of this.source.indexes()) {
        for (const ns of index.annCandidates()) if (this.step(id, dir, index, ns)) started++;
      }
    } catch (error) {
      this.logger.error({ err: error }, 'ANN builder step failed');
    }
    this.schedule(started > 0 ? 5 : 50);
  }

  /** Starts one job for the namespace if it needs one and has none running. */
  private step(indexId: string, dir: string, index: VectorIndex, ns: NamespaceStore): boolean {
    let state = this.states.get(ns);
    if (state !== undefined && state.generation !== ns.generation) {
      // Slots were renumbered (compaction, deleteAll): start over.
      void this.call({ type: 'drop', key: state.spec.key });
      if (state.calibration !== undefined) void this.call({ type: 'calibrateCancel', cal: state.calibration.cal });
      // Asynchronously: unlinking a graph file of hundreds of MB frees its extents, which takes a while.
      if (state.currentFile !== undefined) void rm(state.currentFile, { force: true });
      state = undefined;
    }
    if (state === undefined) {
      // A graph opened from a snapshot: the worker loads a writable copy of it for the next batch (the
      // snapshot's file itself is never replaced or removed by the builder).
      const restored = ns.ann?.file;
      state = {
        spec: {
          key: `${indexId}:${ns.uid}:${ns.generation}`,
          metric: index.settings.metric,
          dimension: ns.dimension,
          params: index.annParams,
          maxNorm: ns.ann?.maxNorm ?? ns.maxNorm(),
        },
        generation: ns.generation,
        sentUpTo: ns.annUpTo,
        unpublished: 0,
        publishedSize: ns.ann?.size ?? 0,
        busy: false,
        installing: false,
        releasedFile: restored,
        currentFile: undefined,
        seq: 0,
        inWorker: false,
        lastAddAt: 0,
        lastPublishAt: 0,
        calibration: undefined,
        calibrationFailedAt: 0,
      };
      this.states.set(ns, state);
    }
    if (this.failed) return false;
    // The calibration's messages go to the worker between the build's own (it runs the jobs in order).
    const calibrating = this.calibrationStep(indexId, index, ns, state);
    if (state.busy) return calibrating;
    const s = state;
    // The slots sent at most: all but those held back for the calibration's unseen queries.
    const limit = ns.slotCount - this.calibrationHeldBack(ns, s);
    // Far enough ahead, or caught up and not published for a while: publish, so that queries reach the
    // new vectors through the graph rather than the exact tail. Checked before sending more: during a long
    // ingest there are always new slots to send, and publishing only once caught up left the whole ingest
    // in the exact tail (100k × 768: every query scanned it, 100–150 ms of CPU each, blocking the loop).
    const caughtUp = s.sentUpTo >= limit;
    const now = Date.now();
    const due =
      !s.installing &&
      (s.unpublished >= Math.max(5000, s.publishedSize / 4) || (caughtUp && s.unpublished > 0 && now - s.lastPublishAt >= PUBLISH_INTERVAL_MS));
    if (due) {
      const annDir = path.join(dir, 'ann');
      mkdirSync(annDir, { recursive: true });
      const file = path.join(annDir, `${ns.uid}-${ns.generation}-${++s.seq}.usearch`);
      const upTo = s.sentUpTo;
      s.busy = true;
      void this.call({ type: 'publish', key: s.spec.key, path: file, release: false }).then((reply) => {
        s.busy = false;
        s.lastPublishAt = Date.now();
        if (!reply.ok) {
          this.logger.error({ index: indexId, message: reply.message }, 'ANN publish failed');
          return;
        }
        s.unpublished = 0;
        s.publishedSize = reply.size ?? 0;
        if (ns.generation !== s.generation) return;
        s.installing = true;
        void graphViews
          .view(file, mappedDir(dir), s.spec.metric, s.spec.dimension, s.spec.params, s.spec.maxNorm)
          .then((ann) => {
            if (ns.generation !== s.generation || this.stopped) {
              void rm(file, { force: true });
              return;
            }
            const previous = s.currentFile;
            ns.installAnn(ann, upTo);
            s.currentFile = file;
            // The old file stays mapped until its index object is collected, and linked as long (graph-view.ts:
            // its blocks are then freed off the event loop); unlinking this name is safe on POSIX.
            if (previous !== undefined) void rm(previous, { force: true });
          })
          .catch((error: unknown) => {
            this.logger.error({ index: indexId, message: (error as Error).message }, 'ANN publish failed: the graph did not map');
            // Publish again (the worker still holds every slot sent); until then the tail is searched exactly.
            s.unpublished = Math.max(s.unpublished, upTo - ns.annUpTo);
          })
          .finally(() => {
            s.installing = false;
          });
      });
      return true;
    }
    if (limit > s.sentUpTo) {
      const end = Math.min(limit, s.sentUpTo + this.batch);
      const { slots, vectors } = ns.gather(s.sentUpTo, end, this.batchBuffers.take(s.spec.dimension));
      this.buildBatches++;
      s.busy = true;
      const loadFrom = s.releasedFile;
      // The arrays are transferred (detached here), not copied again; the worker sends their buffers back.
      const transfer = [slots.buffer as ArrayBuffer, vectors.buffer as ArrayBuffer];
      void this.call({ type: 'add', spec: s.spec, ...(loadFrom ? { loadFrom } : {}), slots, vectors }, transfer).then((reply) => {
        s.busy = false;
        if (reply.ok && reply.buffers !== undefined) this.batchBuffers.give(reply.buffers);
        if (!reply.ok) {
          this.logger.error({ index: indexId, message: reply.message }, 'ANN add failed');
          return;
        }
        s.releasedFile = undefined;
        s.inWorker = true;
        s.lastAddAt = Date.now();
        s.unpublished += end - s.sentUpTo;
        s.sentUpTo = end;
      });
      return true;
    }
    // Idle: the worker drops its copy; the next batch reloads it from the published file.
    if (caughtUp && s.unpublished === 0 && !s.installing && s.inWorker && s.currentFile !== undefined && now - s.lastAddAt >= this.releaseAfterMs) {
      s.inWorker = false;
      s.releasedFile = s.currentFile;
      // The worker's copy and the build's batches were malloc's: trimmed once the worker has freed them.
      void this.call({ type: 'drop', key: s.spec.key }).then(() => releaseFreeMemory());
    }
    return false;
  }

  /**
   * Slots at the end of the namespace the build leaves out for now (engine calibrationHeldBackSlots): the graph without
   * them is calibrated as soon as it is published (settledDue), on them, and they are sent once that calibration
   * is installed. So the graph that serves once the build is over was calibrated at its size, less those few
   * slots. None while calibrations are off, or for a while after one failed.
   */
  private calibrationHeldBack(ns: NamespaceStore, s: NamespaceState): number {
    if (this.targetRecall <= 0 || Date.now() - s.calibrationFailedAt < CALIBRATION_RETRY_MS) return 0;
    return calibrationHeldBackSlots(ns);
  }

  /**
   * Whether the namespace's published graph has caught up with all but the held-back slots (calibrationHeldBack)
   * and they are enough for an unseen sample: a settled calibration is due. Only an unseen one: a graph restored
   * whole from a snapshot has no backlog, and its saved calibration (from an older rule) is not replaced by the
   * replay's estimate, which read high at 1M × 768.
   */
  private settledDue(ns: NamespaceStore, s: NamespaceState): boolean {
    const held = this.calibrationHeldBack(ns, s);
    // Held-back records deleted meanwhile leave too few for a sample, and then no calibration is due (one that
    // never starts would hold `calibrated()` false); the next write moves the hold.
    return held > 0 && ns.ann?.file !== undefined && ns.slotCount - ns.annUpTo <= held && hasUnseenSample(ns);
  }

  /**
   * Advances the namespace's breadth calibration by one message: starts one when its published graph is due
   * (search/calibrate.ts calibrationDue), its queries records the graph has not seen when there are enough
   * (calibrationSample), else sends the next batch of the live vectors the graph covers (copied here, like the
   * build's batches; the worker computes the exact answers), then asks for the result and installs it. Returns
   * whether a message was sent.
   */
  private calibrationStep(indexId: string, index: VectorIndex, ns: NamespaceStore, s: NamespaceState): boolean {
    const c = s.calibration;
    if (c === undefined) {
      const file = ns.ann?.file;
      if (this.targetRecall <= 0 || file === undefined || Date.now() - s.calibrationFailedAt < CALIBRATION_RETRY_MS) return false;
      const sample = calibrationDue(ns) ? calibrationSample(ns) : this.settledDue(ns, s) ? unseenSample(ns) : undefined;
      if (sample === undefined || sample.slots.length === 0) return false;
      const upTo = ns.annUpTo;
      const cal = this.nextCalibration++;
      const started = { cal, upTo, next: 0, busy: true };
      s.calibration = started;
      const transfer = [sample.queries.buffer as ArrayBuffer, sample.slots.buffer as ArrayBuffer];
      const unseen = sample.unseen === true;
      void this.call({ type: 'calibrateStart', cal, spec: s.spec, file, queries: sample.queries, slots: sample.slots, unseen }, transfer).then((reply) =>
        this.calibrationReply(indexId, s, reply),
      );
      return true;
    }
    if (c.busy) return false;
    if (ns.generation !== s.generation) {
      s.calibration = undefined;
      void this.call({ type: 'calibrateCancel', cal: c.cal });
      return false;
    }
    c.busy = true;
    if (c.next < c.upTo) {
      const end = Math.min(c.upTo, c.next + this.batch);
      // Into the build's reused buffers too (sent back with the answer): a calibration gathers every row the graph
      // covers, once per doubling of a growing graph, and fresh ~6 MB arrays were page faults here and unmaps by
      // the collector's threads (bench/RESULTS.md, session 13 ingest).
      const { slots, vectors } = ns.gather(c.next, end, this.batchBuffers.take(s.spec.dimension));
      c.next = end;
      this.calibrationBatches++;
      const transfer = [slots.buffer as ArrayBuffer, vectors.buffer as ArrayBuffer];
      void this.call({ type: 'calibrateRows', cal: c.cal, slots, vectors }, transfer).then((reply) => {
        if (reply.ok && reply.buffers !== undefined) this.batchBuffers.give(reply.buffers);
        this.calibrationReply(indexId, s, reply);
      });
      return true;
    }
    // The worker evaluates in slices (ann-worker.ts): a reply without the result asks for the next one, sent
    // by the next step like a batch (the build's own messages go between them).
    void this.call({ type: 'calibrateEnd', cal: c.cal, options: index.search, target: this.targetRecall }).then((reply) => {
      if (!this.calibrationReply(indexId, s, reply)) return;
      const result = reply.ok ? reply.calibration : undefined;
      if (result === undefined) return;
      if (s.calibration === c) s.calibration = undefined;
      if (ns.generation !== s.generation) return;
      ns.setAnnCalibration(result);
      this.logger.info(
        {
          index: indexId,
          graph: result.size,
          scale: result.scale,
          recall: Number(result.recall.toFixed(4)),
          method: result.method,
          tried: result.tried.map((t) => `${t.scale}:${t.recall.toFixed(4)}`).join(' '),
          cpuMs: Math.round(result.cpuMs),
        },
        'ANN search breadth calibrated',
      );
    });
    return true;
  }

  /** Handles a calibration message's reply; false (and the calibration dropped) when it failed. */
  private calibrationReply(indexId: string, s: NamespaceState, reply: AnnWorkerReply): boolean {
    const c = s.calibration;
    if (c !== undefined) c.busy = false;
    if (reply.ok) return true;
    this.logger.error({ index: indexId, message: reply.message }, 'ANN breadth calibration failed');
    if (c !== undefined) void this.call({ type: 'calibrateCancel', cal: c.cal });
    s.calibration = undefined;
    s.calibrationFailedAt = Date.now();
    return false;
  }

  /** Frees the worker's copies for a deleted index. */
  forget(indexId: string): void {
    void this.call({ type: 'dropPrefix', prefix: `${indexId}:` });
  }

  /** Namespaces whose writable graph the worker holds in memory (not yet released; tests, benchmarks). */
  held(): number {
    let n = 0;
    for (const { index } of this.source.indexes()) {
      for (const ns of index.annCandidates()) if (this.states.get(ns)?.inWorker === true) n++;
    }
    return n;
  }

  /** The batch buffers allocated and reused so far, and the batches sent (build and calibration; specs). */
  batchBufferCounts(): { allocated: number; reused: number; buildBatches: number; calibrationBatches: number } {
    return { allocated: this.batchBuffers.allocated, reused: this.batchBuffers.reused, buildBatches: this.buildBatches, calibrationBatches: this.calibrationBatches };
  }

  /** Whether every candidate namespace is fully indexed and installed (tests, benchmarks). */
  idle(): boolean {
    for (const { index } of this.source.indexes()) {
      for (const ns of index.annCandidates()) if (ns.annUpTo < ns.slotCount) return false;
    }
    return true;
  }

  /** Whether no graph is being or waits to be calibrated (tests, benchmarks). */
  calibrated(): boolean {
    if (this.targetRecall <= 0) return true;
    for (const { index } of this.source.indexes()) {
      for (const ns of index.annCandidates()) {
        const state = this.states.get(ns);
        if (state?.calibration !== undefined || (ns.ann?.file !== undefined && calibrationDue(ns)) || (state !== undefined && this.settledDue(ns, state))) return false;
      }
    }
    return true;
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    // Let the jobs already sent finish (each is bounded: a batch, a publish, a calibration step): a worker
    // terminated inside a native usearch call can abort the whole process. Not more than a few seconds.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inflight]), new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
    await this.worker.terminate();
  }
}

/** The threads an insert batch runs on (AnnBuilder's `threads`). */
export function buildThreads(nice: number, threads: number, cores = availableParallelism()): number {
  if (threads > 0) return threads;
  return nice > 0 ? cores : Math.max(1, cores - 1);
}

/** Removes ANN files left by an earlier run (they are rebuilt; slot numbers may have changed). */
export function clearAnnFiles(indexDir: string): void {
  rmSync(path.join(indexDir, 'ann'), { recursive: true, force: true });
}
