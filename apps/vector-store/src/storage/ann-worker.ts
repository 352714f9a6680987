// Worker thread that builds ANN indexes off the event loop. It holds a writable usearch index per
// namespace key, adds the batches it is sent, and on "publish" saves the index to a file that the main
// thread memory-maps (usearch view) and searches. After publishing with `release` it drops its copy;
// a later batch reloads it from the published file.
import { availableParallelism } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { BreadthCalibrator, selectAnnBinding, UsearchAnn, type AnnBindingKind, type AnnParams, type BreadthEvaluation, type CalibrationResult, type Metric, type SearchOptions } from '@conifer/engine';
import { collectGarbage } from './collect-garbage.js';
import { openGraphBytes } from './graph-bytes.js';
import { lowerThreadPriority } from './thread-priority.js';

export interface AnnSpec {
  key: string;
  metric: Metric;
  dimension: number;
  params: AnnParams;
  maxNorm: number;
}

export type AnnWorkerRequest =
  | { id: number; type: 'add'; spec: AnnSpec; loadFrom?: string; slots: Int32Array; vectors: Float32Array }
  | { id: number; type: 'publish'; key: string; path: string; release: boolean }
  | { id: number; type: 'drop'; key: string }
  | { id: number; type: 'dropPrefix'; prefix: string }
  // Breadth calibration (engine search/calibrate.ts) of the published graph `file`: the sample queries (`unseen`:
  // records the graph does not hold, asked of usearch; else its own, walked by the replay of the file), then
  // the live vectors the graph covers a batch at a time (exact answers), then the graph's answers per multiplier:
  // `calibrateEnd` walks the graph for about CALIBRATION_SLICE_MS and is sent again until its reply holds the result.
  | { id: number; type: 'calibrateStart'; cal: number; spec: AnnSpec; file: string; queries: Float32Array; slots: Int32Array; unseen: boolean }
  | { id: number; type: 'calibrateRows'; cal: number; slots: Int32Array; vectors: Float32Array }
  | { id: number; type: 'calibrateEnd'; cal: number; options: SearchOptions; target: number }
  | { id: number; type: 'calibrateCancel'; cal: number };

/** What the builder starts the worker with. */
export interface AnnWorkerData {
  /** The worker thread's nice value (AnnBuilder). */
  nice: number;
  /** Threads per insert batch (AnnBuilder's buildThreads). */
  threads: number;
  /** The usearch binding of the builder's thread, for this one's graphs too. */
  binding: AnnBindingKind;
}

/** Sent unasked: something for the builder to log. */
export interface AnnWorkerNotice {
  warning: string;
}

export type AnnWorkerReply =
  // `buffers`: an `add`'s or a `calibrateRows`' batch buffers, sent back (usearch copied the rows; the calibration
  // keeps only slot numbers) for the builder's next batch.
  | { id: number; ok: true; size?: number; calibration?: CalibrationResult & { cpuMs: number; rows: number }; buffers?: { slots: ArrayBuffer; vectors: ArrayBuffer } }
  | { id: number; ok: false; message: string };

const indexes = new Map<string, UsearchAnn>();

interface Calibration {
  /** The namespace key of the graph (`index:uid:generation`). */
  key: string;
  ann: UsearchAnn;
  /**
   * The published file's bytes for the held-out walk, opened at the start: the descriptor keeps the file
   * readable should a newer graph replace it meanwhile. None for unseen queries (usearch is asked).
   */
  bytes: ReturnType<typeof openGraphBytes> | undefined;
  calibrator: BreadthCalibrator;
  /** The evaluation under way (the first `calibrateEnd` starts it). */
  evaluation?: BreadthEvaluation;
  /** This thread's CPU time spent on it so far (ms). */
  cpuMs: number;
}
const calibrations = new Map<number, Calibration>();

const threadCpuMs = (): number => {
  if (typeof process.threadCpuUsage !== 'function') return 0;
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1000;
};

/** Runs one step of a calibration, counting this thread's CPU time into it. */
function timed<T>(c: Calibration, work: () => T): T {
  const start = threadCpuMs();
  try {
    return work();
  } finally {
    c.cpuMs += threadCpuMs() - start;
  }
}

/**
 * About the longest a `calibrateEnd` message walks the graph: the evaluation took 10–12 s at 1M × 128 as one
 * message, during which the graph's batches, publishes and drops waited.
 */
const CALIBRATION_SLICE_MS = 100;


// A dropped graph's native memory is freed only when its JS wrapper is collected, and this thread
// allocates too little JS to prompt a collection: an idle graph would stay resident (anonymous memory,
// ~1 KB per 768-d vector) next to the file-backed copy the main thread searches. So collect after drops.
function handle(request: AnnWorkerRequest): AnnWorkerReply {
  switch (request.type) {
    case 'add': {
      const { spec } = request;
      let ann = indexes.get(spec.key);
      if (ann === undefined) {
        ann =
          request.loadFrom === undefined
            ? new UsearchAnn(spec.metric, spec.dimension, spec.params, spec.maxNorm)
            : UsearchAnn.load(request.loadFrom, spec.metric, spec.dimension, spec.params, spec.maxNorm);
        indexes.set(spec.key, ann);
      }
      ann.add(request.slots, request.vectors, threads);
      return { id: request.id, ok: true, size: ann.size, buffers: { slots: request.slots.buffer as ArrayBuffer, vectors: request.vectors.buffer as ArrayBuffer } };
    }
    case 'publish': {
      const ann = indexes.get(request.key);
      if (ann === undefined) return { id: request.id, ok: false, message: `no ANN index ${request.key}` };
      ann.save(request.path);
      const size = ann.size;
      if (request.release) {
        indexes.delete(request.key);
        collectGarbage();
      }
      return { id: request.id, ok: true, size };
    }
    case 'drop':
      indexes.delete(request.key);
      collectGarbage();
      return { id: request.id, ok: true };
    case 'calibrateStart': {
      const { spec } = request;
      // The published file, memory-mapped read-only (another mapping of what the main thread searches).
      const ann = UsearchAnn.view(request.file, spec.metric, spec.dimension, spec.params, spec.maxNorm);
      const { queries, slots, unseen } = request;
      const calibrator = new BreadthCalibrator(spec.metric, spec.dimension, { queries, slots, unseen });
      calibrations.set(request.cal, { key: spec.key, ann, bytes: unseen ? undefined : openGraphBytes(request.file), calibrator, cpuMs: 0 });
      return { id: request.id, ok: true };
    }
    case 'calibrateRows': {
      const c = calibrations.get(request.cal);
      if (c === undefined) return { id: request.id, ok: false, message: `no calibration ${request.cal}` };
      // One native thread: the calibration is background work beside the graph builds and the event loop.
      timed(c, () => c.calibrator.addRows(request.slots, request.vectors, 1));
      // The exact answers keep slot numbers, not the rows: the buffers go back for the builder's next batch.
      return { id: request.id, ok: true, buffers: { slots: request.slots.buffer as ArrayBuffer, vectors: request.vectors.buffer as ArrayBuffer } };
    }
    case 'calibrateEnd': {
      const c = calibrations.get(request.cal);
      if (c === undefined) return { id: request.id, ok: false, message: `no calibration ${request.cal}` };
      let result: CalibrationResult | undefined;
      try {
        result = timed(c, () => {
          c.evaluation ??= c.calibrator.evaluation(c.ann, request.options, request.target, c.bytes);
          const start = performance.now();
          let out: CalibrationResult | undefined;
          while ((out = c.evaluation.step(1)) === undefined && performance.now() - start < CALIBRATION_SLICE_MS);
          return out;
        });
      } catch (error) {
        c.bytes?.close();
        calibrations.delete(request.cal);
        throw error;
      }
      // Not done: the builder sends calibrateEnd again.
      if (result === undefined) return { id: request.id, ok: true };
      c.bytes?.close();
      calibrations.delete(request.cal);
      return { id: request.id, ok: true, calibration: { ...result, cpuMs: c.cpuMs, rows: c.calibrator.rows } };
    }
    case 'calibrateCancel':
      calibrations.get(request.cal)?.bytes?.close();
      calibrations.delete(request.cal);
      return { id: request.id, ok: true };
    case 'dropPrefix':
      for (const key of [...indexes.keys()]) if (key.startsWith(request.prefix)) indexes.delete(key);
      for (const [cal, c] of [...calibrations]) {
        if (!c.key.startsWith(request.prefix)) continue;
        c.bytes?.close();
        calibrations.delete(cal);
      }
      collectGarbage();
      return { id: request.id, ok: true };
  }
}

const data = workerData as AnnWorkerData | undefined;
// A worker started without data (specs) leaves one core to the event loop.
const threads = data?.threads ?? Math.max(1, availableParallelism() - 1);
const binding = selectAnnBinding(data?.binding ?? 'compiled');
if (binding.fallbackReason !== undefined && data?.binding === 'compiled') parentPort?.postMessage({ warning: `ANN worker: usearch's prebuilt binding: ${binding.fallbackReason}` } satisfies AnnWorkerNotice);
const priorityError = lowerThreadPriority(data?.nice ?? 0);
if (priorityError !== undefined) parentPort?.postMessage({ warning: `ANN worker runs at the event loop's priority: ${priorityError}` } satisfies AnnWorkerNotice);

parentPort?.on('message', (request: AnnWorkerRequest) => {
  let reply: AnnWorkerReply;
  try {
    reply = handle(request);
  } catch (error) {
    reply = { id: request.id, ok: false, message: (error as Error).message };
  }
  parentPort!.postMessage(reply, reply.ok && reply.buffers !== undefined ? [reply.buffers.slots, reply.buffers.vectors] : []);
});
