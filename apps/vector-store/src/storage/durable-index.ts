// One index on disk: <dir>/index.json (settings), wal-<seq>.log files, snapshot-<seq>.bin files, the
// namespaces' values files (snapshot-<seq>.values-<k>-<part>.f32, dense values by slot, in parts) and the graph files saved
// with a snapshot (snapshot-<seq>.graph-<k>.usearch). Once a snapshot is durable its namespaces read the
// values it saved from its values files (pread, page cache) instead of memory; so does a restart, which
// therefore never decodes the snapshot's vectors. snapshot-N holds everything
// logged in wal files below N; recovery loads the newest snapshot, replays wal-N, wal-N+1… in order, and
// then memory-maps the snapshot's graphs (usearch view) for the namespaces whose slots the log did not
// renumber; only the records after them are indexed again, in the background. A graph file that is
// missing or does not match its checksum is ignored (the namespace is searched exactly and rebuilt). A
// torn or corrupt tail of the last log is dropped (and truncated away).
import {
  existsSync,
  linkSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
} from 'node:fs';
import { mkdir, open, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { UnavailableError } from '@conifer/contracts';
import type { Logger } from 'pino';
import {
  DEFAULT_SEARCH_OPTIONS,
  VectorIndex,
  type FrozenNamespace,
  type IndexSettings,
  type Mutation,
  type NamespaceStore,
  type SearchOptions,
} from '@conifer/engine';
import { graphViews, mappedDir } from './graph-view.js';
import { captureSnapshot, snapshotEndPayload, writeFramed, writeSnapshotRecords, type CapturedGraph, type CapturedSnapshot } from './snapshot.js';
import { ValuesFile, ValuesParts, writeValuesFile } from './values-file.js';
import { decodePayload, encodeGraph, encodeMutationParts, scanRecords, type GraphRecord, type ValuesRecord } from './wal-codec.js';
import { WalWriter } from './wal-writer.js';
import { positionFileName, type IndexLog, type LoggedWrite } from './log/index-log.js';
import { LocalWalLog } from './log/local-wal-log.js';

export interface DurableIndexOptions {
  /** Take a snapshot (and start a new log) when the current log grows past this many bytes. */
  snapshotWalBytes: number;
  /** On a clean close, take a snapshot when the log holds at least this many bytes or the graphs grew. */
  snapshotOnClose: boolean;
  snapshotOnCloseBytes: number;
  search: Partial<SearchOptions>;
}

export const DEFAULT_DURABLE_OPTIONS: DurableIndexOptions = {
  snapshotWalBytes: 256 * 1024 * 1024,
  snapshotOnClose: true,
  snapshotOnCloseBytes: 1024 * 1024,
  search: DEFAULT_SEARCH_OPTIONS,
};

const walName = (seq: number): string => `wal-${String(seq).padStart(8, '0')}.log`;
const snapshotName = (seq: number): string => `snapshot-${String(seq).padStart(8, '0')}.bin`;
const graphName = (seq: number, k: number): string => `snapshot-${String(seq).padStart(8, '0')}.graph-${k}.usearch`;
const valuesName = (seq: number, k: number, part: number): string => `snapshot-${String(seq).padStart(8, '0')}.values-${k}-${part}.f32`;
/** Files that belong to one snapshot (besides its .bin); values files before parts were `values-<k>.f32`. */
const SNAPSHOT_PART = /^snapshot-(\d+)\.(graph-\d+\.usearch|values-\d+(?:-\d+)?\.f32)$/;
/** A deferred compaction runs in slices of about this long, between requests (the 50 ms stall budget). */
const COMPACTION_SLICE_MS = 4;
/** Slots copied between two looks at the clock (≈ 0.5–2 ms at 768-d). */
const COMPACTION_ROWS = 128;
/** Checksums read slices this large: each CRC-32 of a slice runs on the event loop. */
const ASYNC_CHECKSUM_CHUNK = 1024 * 1024;

/** fsync of a directory without blocking the event loop. */
export async function fsyncDirectoryAsync(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes a file and fsyncs it. */
async function writeFileDurably(file: string, data: string): Promise<void> {
  const handle = await open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Size and CRC-32 of a file, read in chunks (asynchronously). */
async function checksumFile(file: string): Promise<{ bytes: number; crc32: number }> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(ASYNC_CHECKSUM_CHUNK);
    let crc = 0;
    let bytes = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, ASYNC_CHECKSUM_CHUNK, bytes);
      if (bytesRead === 0) break;
      crc = crc32(buffer.subarray(0, bytesRead), crc);
      bytes += bytesRead;
    }
    await handle.sync();
    return { bytes, crc32: crc };
  } finally {
    await handle.close();
  }
}


/**
 * What a snapshot can save of the memory-mapped graphs: the live slots they cover, and what their breadth
 * calibrations amount to (the sizes they were calibrated at). A change of the latter means a calibration finished
 * that the newest snapshot does not hold: a graph is calibrated seconds after it is published, usually after the
 * snapshot its growth asked for, and without another snapshot a restart would search with the rule's breadth and
 * calibrate again (bench/RESULTS.md, s8-store768).
 */
interface SavedGraphs {
  coverage: number;
  calibrations: number;
}

function savedGraphs(index: VectorIndex): SavedGraphs {
  let coverage = 0;
  let calibrations = 0;
  for (const ns of index.namespaces.stores()) {
    if (ns.ann?.file === undefined || ns.annUpTo === 0) continue;
    coverage += ns.annUpTo;
    calibrations += ns.annCalibration?.size ?? 0;
  }
  return { coverage, calibrations };
}

/** The slots a namespace's values files cover (they follow one another from slot 0). */
function rowsOf(parts: readonly ValuesRecord[]): number {
  return parts.reduce((rows, part) => rows + part.rows, 0);
}

/** A snapshot's values files of a namespace, and the namespace object and generation whose rows they hold. */
interface SavedValues {
  ns: NamespaceStore;
  generation: number;
  parts: ValuesRecord[];
}

/**
 * The leading parts of the previous snapshot's values files that the next one keeps for namespace `live` (frozen as
 * `ns`): none unless they hold rows of that very namespace object and generation (no compaction or re-creation since)
 * and the namespace still has all their slots; then each part that holds fewer than twice the rows after it (the new
 * part's, with the parts merged into it) is dropped from the end, its rows written again.
 */
function keptValuesParts(saved: SavedValues | undefined, live: { ns: NamespaceStore; generation: number }, ns: FrozenNamespace): ValuesRecord[] {
  if (saved === undefined || saved.ns !== live.ns || saved.generation !== live.generation) return [];
  const parts = saved.parts.filter((part) => part.rows > 0);
  let covered = rowsOf(parts);
  if (covered > ns.slotCount || parts.some((part) => part.dimension !== ns.dimension)) return [];
  while (parts.length > 0 && parts[parts.length - 1]!.rows < 2 * (ns.slotCount - covered)) covered -= parts.pop()!.rows;
  return parts;
}

export class DurableIndex {
  private closed = false;
  private snapshotting: Promise<void> | undefined;
  /** Snapshots run one after another (each rotates the log to the next sequence number). */
  private snapshotQueue: Promise<void> = Promise.resolve();
  private snapshotsQueued = 0;
  private compactionDriven = false;
  /** Mutations acknowledged (metrics). */
  mutations = 0;
  /** `savedGraphs` of the newest snapshot. */
  private graphsSaved: SavedGraphs = { coverage: 0, calibrations: 0 };
  /** The newest snapshot's values files per namespace, and the namespace object and generation they hold rows of. */
  private valuesSaved = new Map<string, SavedValues>();
  /** Called after each acknowledged mutation is applied (derived state such as full-text indexes). */
  readonly appliedHooks: Array<(mutation: Mutation) => void> = [];
  private currentSettings: IndexSettings;
  /**
   * Where mutations are logged: the local WAL by default; a shared log (JetStream) replaces it on a
   * replicated node. The log decides when a mutation is applied (applyLogged).
   */
  log: IndexLog;
  /**
   * The shared log's position at the instant a snapshot is captured (stored beside it as snapshot-N.pos);
   * unset with the local WAL, whose files are the position.
   */
  logPosition: (() => number) | undefined;
  /** The shared-log position of the snapshot loaded at start (0: none, or the local WAL). */
  loadedPosition = 0;

  private constructor(
    readonly id: string,
    readonly dir: string,
    readonly index: VectorIndex,
    private readonly wal: WalWriter,
    private walSeq: number,
    private readonly options: DurableIndexOptions,
    private readonly logger: Logger,
  ) {
    this.currentSettings = index.settings;
    this.log = new LocalWalLog(this);
    // Loaded: from now on compactions run a slice at a time between requests (recovery compacted at once).
    index.deferCompaction = true;
  }

  /** The index settings, with the current schema (which may grow after creation). */
  get settings(): IndexSettings {
    return this.currentSettings;
  }

  /** Replaces the schema (fields added by the control plane), durably, before answering (no fsync blocks the event loop). */
  async updateSchema(schema: NonNullable<IndexSettings['schema']>): Promise<void> {
    const file = path.join(this.dir, 'index.json');
    const raw = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    const temporary = `${file}.tmp`;
    await writeFileDurably(temporary, JSON.stringify({ ...raw, schema }, null, 2));
    await rename(temporary, file);
    await fsyncDirectoryAsync(this.dir);
    this.currentSettings = { ...this.currentSettings, schema };
  }

  /** Creates the directory and settings file of a new index (asynchronously: its fsyncs do not block the event loop). */
  static async create(
    id: string,
    dir: string,
    settings: IndexSettings,
    options: DurableIndexOptions,
    logger: Logger,
  ): Promise<DurableIndex> {
    const parent = path.dirname(dir);
    const temporary = `${dir}.creating`;
    await rm(temporary, { recursive: true, force: true });
    await mkdir(temporary, { recursive: true });
    await writeFileDurably(path.join(temporary, 'index.json'), JSON.stringify({ id, ...settings, createdAt: new Date().toISOString() }, null, 2));
    await writeFile(path.join(temporary, walName(1)), '');
    await fsyncDirectoryAsync(temporary);
    await rename(temporary, dir);
    await fsyncDirectoryAsync(parent);
    return DurableIndex.load(id, dir, options, logger);
  }

  /** Rebuilds the in-memory state from the newest snapshot and the logs after it. */
  static async load(id: string, dir: string, options: DurableIndexOptions, logger: Logger): Promise<DurableIndex> {
    const started = performance.now();
    const raw = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as IndexSettings;
    const settings: IndexSettings = {
      dimension: raw.dimension ?? null,
      metric: raw.metric,
      vectorType: raw.vectorType,
      ...(raw.schema === undefined ? {} : { schema: raw.schema }),
    };
    let index = new VectorIndex(settings, options.search);
    const files = readdirSync(dir);
    const seqOf = (name: string, re: RegExp): number | undefined => {
      const m = re.exec(name);
      return m ? Number(m[1]) : undefined;
    };
    const snapshots = files
      .map((f) => seqOf(f, /^snapshot-(\d+)\.bin$/))
      .filter((s): s is number => s !== undefined)
      .sort((a, b) => b - a);
    let base = 0;
    let graphs: GraphRecord[] = [];
    const valuesSaved = new Map<string, SavedValues>();
    for (const seq of snapshots) {
      const candidate = new VectorIndex(settings, options.search);
      const saved = replaySnapshot(dir, snapshotName(seq), candidate, logger, id);
      if (saved !== undefined) {
        index = candidate;
        base = seq;
        graphs = saved.graphs;
        for (const [namespace, parts] of saved.values) {
          const ns = candidate.namespaces.get(namespace);
          if (ns !== undefined) valuesSaved.set(namespace, { ns, generation: ns.generation, parts });
        }
        break;
      }
      logger.error({ index: id, snapshot: seq }, 'snapshot is incomplete or corrupt; trying an older one');
    }
    // Leftovers of an interrupted snapshot: its temporary file, values files and graph links.
    for (const file of files) {
      const m = SNAPSHOT_PART.exec(file);
      if ((m && Number(m[1]) !== base) || file.endsWith('.bin.tmp')) rmSync(path.join(dir, file), { force: true });
    }
    // Which namespace object each graph belongs to: the log may delete and recreate or renumber it.
    const restored = new Map<string, { ns: NamespaceStore; generation: number }>();
    for (const g of graphs) {
      const ns = index.namespaces.get(g.namespace);
      if (ns !== undefined) restored.set(g.namespace, { ns, generation: ns.generation });
    }
    const wals = files
      .map((f) => seqOf(f, /^wal-(\d+)\.log$/))
      .filter((s): s is number => s !== undefined && s >= base)
      .sort((a, b) => a - b);
    let replayed = 0;
    for (let i = 0; i < wals.length; i++) {
      const file = path.join(dir, walName(wals[i]!));
      const scan = scanRecords(readFileSync(file));
      for (const payload of scan.payloads) {
        const decoded = decodePayload(payload);
        if (decoded.type === 'placedRecords' || decoded.type === 'graph' || decoded.type === 'values') throw new Error(`index ${id}: snapshot record in ${file}`);
        if (decoded.type !== 'snapshotEnd') index.apply(decoded);
        replayed++;
      }
      if (scan.problem !== undefined) {
        if (i !== wals.length - 1) {
          throw new Error(`index ${id}: ${scan.problem} in the middle of ${file}; refusing to load it`);
        }
        logger.warn({ index: id, file, validBytes: scan.validBytes, problem: scan.problem }, 'dropping torn WAL tail');
        truncateSync(file, scan.validBytes);
      }
    }
    const replayedAt = performance.now();
    let graphsOpened = 0;
    for (const g of graphs) {
      const before = restored.get(g.namespace);
      const ns = index.namespaces.get(g.namespace);
      if (before === undefined || ns !== before.ns || ns.generation !== before.generation) continue; // renumbered by the log
      if (await attachGraph(index, ns, dir, g, logger, id)) graphsOpened++;
    }
    const seq = wals.length > 0 ? wals[wals.length - 1]! : Math.max(base, 1);
    const wal = await WalWriter.open(path.join(dir, walName(seq)));
    const ms = (t: number): number => Math.round(t);
    logger.info(
      {
        index: id,
        vectors: index.totalVectorCount,
        snapshot: base || undefined,
        walRecords: replayed,
        graphsOpened,
        replayMs: ms(replayedAt - started),
        graphsMs: ms(performance.now() - replayedAt),
      },
      'index loaded',
    );
    const durable = new DurableIndex(id, dir, index, wal, seq, options, logger);
    if (base > 0 && existsSync(path.join(dir, positionFileName(base)))) {
      durable.loadedPosition = Number(readFileSync(path.join(dir, positionFileName(base)), 'utf8').trim()) || 0;
    }
    durable.graphsSaved = savedGraphs(index);
    durable.valuesSaved = valuesSaved;
    return durable;
  }

  /** Logs the mutation durably and applies it. Resolves with the number of records touched. */
  async mutate(mutation: Mutation): Promise<number> {
    return (await this.write(mutation)).touched;
  }

  /** Logs the mutation durably (this index's log) and applies it; resolves with its log sequence too. */
  write(mutation: Mutation): Promise<LoggedWrite> {
    if (this.closed) return Promise.reject(new UnavailableError(`index ${this.id} is closing`));
    return this.log.append(mutation);
  }

  /** The local WAL's write: fsync, then apply. */
  async appendLocal(mutation: Mutation): Promise<number> {
    if (this.closed) throw new UnavailableError(`index ${this.id} is closing`);
    // The values go to disk from the request's arrays (no copy); nothing changes them before the apply below.
    await this.wal.append(encodeMutationParts(mutation).parts);
    // No await between the fsync and apply: mutations apply in log order.
    const touched = this.applyLogged(mutation);
    if (this.wal.bytes > this.options.snapshotWalBytes && this.snapshotting === undefined) void this.startSnapshot();
    return touched;
  }

  /** Applies a mutation that its log holds durably (in log order). */
  applyLogged(mutation: Mutation): number {
    const touched = this.index.apply(mutation);
    for (const hook of this.appliedHooks) hook(mutation);
    this.mutations++;
    if (this.index.compactionPending && !this.compactionDriven) this.driveCompaction();
    return touched;
  }

  /**
   * Carries out the compaction a write began, a slice of a few milliseconds per turn of the event loop
   * (compacting 100k × 768 at once blocked it for seconds); requests run between slices against the
   * namespace as it was, their writes mirrored into the compacted copy.
   */
  private driveCompaction(): void {
    this.compactionDriven = true;
    const slice = (): void => {
      if (this.closed) {
        this.compactionDriven = false;
        return;
      }
      const until = performance.now() + COMPACTION_SLICE_MS;
      let more = true;
      while (more && performance.now() < until) more = this.index.compactionStep(COMPACTION_ROWS);
      if (more) setImmediate(slice);
      else this.compactionDriven = false;
    };
    setImmediate(slice);
  }

  /** Writes a snapshot of the current state and removes the logs and snapshots it supersedes (after any running one). */
  snapshot(): Promise<void> {
    // When none is running it starts now (the log rotation pauses appends synchronously), else after the last.
    const run = this.snapshotsQueued === 0 ? this.writeSnapshot() : this.snapshotQueue.then(() => this.writeSnapshot());
    this.snapshotsQueued++;
    const done = run.finally(() => {
      this.snapshotsQueued--;
    });
    this.snapshotQueue = done.catch(() => undefined);
    return done;
  }

  private async writeSnapshot(): Promise<void> {
    const seq = this.walSeq + 1;
    let position: number | undefined;
    const captured = await this.wal.rotate(path.join(this.dir, walName(seq)), () => {
      position = this.logPosition?.();
      const snapshot = captureSnapshot(this.index);
      // Link the published graph files now: the builder replaces (and unlinks) them later.
      const linked = snapshot.graphs.flatMap((g, k) => this.linkGraph(g, graphName(seq, k)));
      return { ...snapshot, linked };
    });
    this.walSeq = seq;
    await fsyncDirectoryAsync(this.dir);
    const target = path.join(this.dir, snapshotName(seq));
    const temporary = `${target}.tmp`;
    const handle = await open(temporary, 'w');
    let coverage = 0;
    let calibrations = 0;
    let valuesFiles: (ValuesRecord[] | undefined)[];
    try {
      const written = await writeSnapshotRecords(handle, captured, (namespace, k, ns) => this.saveValues(seq, namespace, k, ns, captured.stores[k]!));
      let records = written.records;
      valuesFiles = written.values;
      for (const g of captured.linked) {
        // Whole and durable before the snapshot that names it is.
        const { bytes, crc32: crc } = await checksumFile(path.join(this.dir, g.file));
        const record: GraphRecord = { namespace: g.namespace, file: g.file, upTo: g.upTo, maxNorm: g.ann.maxNorm, bytes, crc32: crc };
        if (g.calibration !== undefined) record.calibration = g.calibration;
        await writeFramed(handle, encodeGraph(record));
        records++;
        coverage += g.upTo;
        calibrations += g.calibration?.size ?? 0;
      }
      await writeFramed(handle, snapshotEndPayload(records));
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (position !== undefined) {
      // Durable before the snapshot is: a snapshot-N.bin always has its position.
      const handle = await open(path.join(this.dir, positionFileName(seq)), 'w');
      try {
        await handle.writeFile(String(position));
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    this.newestSnapshot = { seq, position };
    // The values parts linked from the previous snapshot are names in this directory: durable before the snapshot is.
    await fsyncDirectoryAsync(this.dir);
    await rename(temporary, target);
    await fsyncDirectoryAsync(this.dir);
    this.graphsSaved = { coverage, calibrations };
    this.serveSavedValues(captured, valuesFiles);
    for (const file of readdirSync(this.dir)) {
      const m = /^(wal|snapshot)-(\d+)\.(log|bin|graph-\d+\.usearch|values-\d+(?:-\d+)?\.f32)$/.exec(file);
      if (m && Number(m[2]) < seq) await unlink(path.join(this.dir, file));
    }
    this.logger.info({ index: this.id, seq, graphs: captured.linked.length }, 'snapshot written');
  }

  /**
   * Saves a namespace's values for snapshot `seq`, durably (before the snapshot naming them is renamed into place): the
   * parts of the previous snapshot it keeps, linked under this snapshot's names, and one new file for the rows after
   * them. A part is kept while it holds at least twice the rows of the new file (else its rows are written again, merged
   * into the new file): parts halve in size towards the end, a namespace has O(log slots) of them, and a row is written
   * O(log slots) times over the namespace's life, where writing every row at every snapshot made a 1M × 768 ingest (a
   * snapshot per 256 MB of log, ~84k vectors) write ~6.5 M rows (20 GB) for 1 M ingested; parts ~2.3 M (bench/RESULTS.md,
   * session 17). Rows of records deleted since stay in a kept
   * part (never read) until a compaction renumbers the namespace, whose next snapshot writes it whole.
   */
  private async saveValues(seq: number, namespace: string, k: number, ns: FrozenNamespace, live: { ns: NamespaceStore; generation: number }): Promise<ValuesRecord[]> {
    const parts: ValuesRecord[] = [];
    for (const part of keptValuesParts(this.valuesSaved.get(namespace), live, ns)) {
      const file = valuesName(seq, k, parts.length);
      try {
        rmSync(path.join(this.dir, file), { force: true });
        linkSync(path.join(this.dir, part.file), path.join(this.dir, file));
      } catch (error) {
        this.logger.warn({ err: error, index: this.id, namespace, file: part.file }, 'could not keep a values file of the previous snapshot; writing the values again');
        for (const made of parts) rmSync(path.join(this.dir, made.file), { force: true });
        parts.length = 0;
        break;
      }
      parts.push({ ...part, namespace, file });
    }
    const from = rowsOf(parts);
    if (from === ns.slotCount) return parts;
    const file = valuesName(seq, k, parts.length);
    const handle = await open(path.join(this.dir, file), 'w');
    try {
      const { rows, bytes, crc32: crc } = await writeValuesFile(handle, ns, from);
      await handle.sync();
      parts.push({ namespace, file, first: from, rows, dimension: ns.dimension, bytes, crc32: crc });
      return parts;
    } finally {
      await handle.close();
    }
  }

  /**
   * The snapshot is durable: the namespaces it captured read the values it saved from its values files
   * and free them from memory, unless the namespace was replaced or renumbered meanwhile (then its next
   * snapshot does it). A file that cannot be opened leaves the values in memory.
   */
  private serveSavedValues(captured: CapturedSnapshot, valuesFiles: (ValuesRecord[] | undefined)[]): void {
    const released: Float32Array[] = [];
    this.valuesSaved.clear();
    for (const [k, parts] of valuesFiles.entries()) {
      if (parts === undefined || parts.length === 0) continue;
      const { ns, generation } = captured.stores[k]!;
      const [namespace] = captured.namespaces[k]!;
      const rows = rowsOf(parts);
      if (this.index.namespaces.get(namespace) !== ns || ns.generation !== generation || ns.slotCount < rows) continue;
      try {
        const segment = new ValuesParts(parts.map((part) => ValuesFile.open(path.join(this.dir, part.file), part.dimension, part.rows)));
        released.push(...ns.attachSegment(segment, rows));
        this.valuesSaved.set(namespace, { ns, generation, parts });
      } catch (error) {
        this.logger.warn({ err: error, index: this.id, namespace, file: parts[0]!.file }, 'values stay in memory: the values files cannot be opened');
      }
    }
    // Freed now rather than at the next major GC (nothing prompts one once writes stop, and until then the
    // freed values count as resident), a few chunks per turn of the event loop. Safe: the only frozen views
    // are a snapshot's, snapshots run one at a time, and this one has finished; every other reader uses the
    // namespace synchronously, and the namespace no longer holds these chunks.
    void releaseInTurns(released);
  }

  private linkGraph(graph: CapturedGraph, file: string): (CapturedGraph & { file: string })[] {
    const target = path.join(this.dir, file);
    try {
      rmSync(target, { force: true });
      linkSync(graph.ann.file!, target);
      return [{ ...graph, file }];
    } catch (error) {
      this.logger.warn({ err: error, index: this.id, namespace: graph.namespace }, 'could not save the graph with the snapshot; it will be rebuilt after a restart');
      return [];
    }
  }

  /**
   * Whether the graphs cover enough more than the newest snapshot saved to be worth a snapshot, or hold a
   * breadth calibration it does not.
   */
  graphSnapshotDue(): boolean {
    if (this.snapshotting !== undefined || this.closed || this.index.pendingAnnVectors() > 0) return false;
    const now = savedGraphs(this.index);
    const saved = this.graphsSaved;
    return now.coverage - saved.coverage >= Math.max(10_000, saved.coverage / 4) || now.calibrations !== saved.calibrations;
  }

  /** Whether the graphs cover more, or hold another calibration, than the newest snapshot saved. */
  private graphsChangedSinceSnapshot(): boolean {
    const now = savedGraphs(this.index);
    return now.coverage > this.graphsSaved.coverage || now.calibrations !== this.graphsSaved.calibrations;
  }

  /** Starts a snapshot unless one is running (background: errors are logged). */
  startSnapshot(): Promise<void> {
    if (this.snapshotting === undefined) {
      this.snapshotting = this.snapshot()
        .catch((error: unknown) => this.logger.error({ err: error, index: this.id }, 'snapshot failed'))
        .finally(() => {
          this.snapshotting = undefined;
        });
    }
    return this.snapshotting;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.snapshotting) await this.snapshotting;
    await this.snapshotQueue;
    // A clean stop leaves a snapshot with the graphs, so that the next start replays little and rebuilds nothing.
    if (this.options.snapshotOnClose && this.wal.healthy && (this.wal.bytes >= this.options.snapshotOnCloseBytes || this.graphsChangedSinceSnapshot())) {
      await this.startSnapshot();
    }
    this.closed = true;
    await this.wal.close();
  }

  get healthy(): boolean {
    return this.wal.healthy;
  }

  get walBytes(): number {
    return this.wal.bytes;
  }

  /** Sequence and shared-log position of the newest snapshot written since start. */
  newestSnapshot: { seq: number; position: number | undefined } | undefined;

  /**
   * The files that make up snapshot `seq` (with the settings file): what a replica elsewhere needs to
   * start from it. The log code treats them as opaque.
   */
  snapshotFiles(seq: number): string[] {
    const prefix = `snapshot-${String(seq).padStart(8, '0')}.`;
    return ['index.json', ...readdirSync(this.dir).filter((f) => f.startsWith(prefix) && !f.endsWith('.tmp'))];
  }
}

/**
 * Loads a snapshot into an empty index; returns its graph records, or undefined when it is not whole (or
 * one of its values files is missing or of the wrong size). The values files are opened, not read.
 */
function replaySnapshot(dir: string, name: string, index: VectorIndex, logger: Logger, id: string): { graphs: GraphRecord[]; values: Map<string, ValuesRecord[]> } | undefined {
  const scan = scanRecords(readFileSync(path.join(dir, name)));
  if (scan.problem !== undefined) return undefined;
  let records = 0;
  const graphs: GraphRecord[] = [];
  const values = new Map<string, ValuesRecord[]>();
  /** Each namespace's values files opened so far, in the order of `values`. */
  const opened = new Map<string, ValuesFile[]>();
  for (const payload of scan.payloads) {
    const decoded = decodePayload(payload);
    if (decoded.type === 'snapshotEnd') return decoded.recordCount === records ? { graphs, values } : undefined;
    if (decoded.type === 'placedRecords') index.restore(decoded.namespace, decoded.records);
    else if (decoded.type === 'values') {
      const ns = index.namespaces.get(decoded.namespace);
      if (ns === undefined || decoded.dimension !== ns.dimension) return undefined;
      // A namespace's parts follow one another from slot 0; each record extends the segment by its rows.
      const { type: _, ...part } = decoded;
      const parts = values.get(decoded.namespace) ?? [];
      const files = opened.get(decoded.namespace) ?? [];
      const first = rowsOf(parts);
      if ((part.first ?? 0) !== first) return undefined;
      try {
        files.push(ValuesFile.open(path.join(dir, part.file), part.dimension, part.rows));
        ns.attachSegment(new ValuesParts(files), first + part.rows);
        parts.push(part);
        values.set(decoded.namespace, parts);
        opened.set(decoded.namespace, files);
      } catch (error) {
        logger.error({ index: id, snapshot: name, file: decoded.file, reason: (error as Error).message }, 'values file of the snapshot is unusable');
        return undefined;
      }
    } else if (decoded.type === 'graph') {
      const { type: _, ...graph } = decoded;
      graphs.push(graph);
    } else index.apply(decoded);
    records++;
  }
  return undefined;
}

/**
 * Memory-maps a snapshot's graph for a namespace, once it is checked to be the file that was saved (its size and CRC-32,
 * checked by the view on the read that brings the file in: UsearchAnn.viewAsync).
 */
async function attachGraph(index: VectorIndex, ns: NamespaceStore, dir: string, g: GraphRecord, logger: Logger, id: string): Promise<boolean> {
  const file = path.join(dir, g.file);
  try {
    if (!existsSync(file)) throw new Error('graph file is missing');
    if (statSync(file).size !== g.bytes) throw new Error('graph file has the wrong size');
    if (g.upTo > ns.slotCount) throw new Error('graph covers slots the snapshot does not have');
    const ann = await graphViews.view(file, mappedDir(dir), index.settings.metric, ns.dimension, index.annParams, g.maxNorm, { bytes: g.bytes, crc32: g.crc32 });
    if (ann.size > g.upTo) throw new Error('graph holds more vectors than the slots it covers');
    ns.installAnn(ann, g.upTo);
    // The breadth multiplier calibrated for this graph (older snapshots: none, the builder calibrates it).
    if (g.calibration !== undefined) ns.setAnnCalibration(g.calibration);
    return true;
  } catch (error) {
    logger.warn({ index: id, namespace: g.namespace, file: g.file, reason: (error as Error).message }, 'not using the saved graph; rebuilding it');
    return false;
  }
}

/**
 * Bytes of values chunks given back to the allocator per event-loop turn. Unmapping is the kernel's work on the
 * loop's thread: 15 chunks of 4096 × 768 floats took 55 ms of CPU at once (~4 ms per 12.6 MB chunk, load 17),
 * and a 100k × 768 snapshot drops 25 of them.
 */
export const RELEASE_BYTES_PER_TURN = 16 * 1024 * 1024;

/** Detaches (frees) the chunks' buffers, RELEASE_BYTES_PER_TURN at a time with a yield between. */
export async function releaseInTurns(chunks: readonly Float32Array[]): Promise<void> {
  let bytes = 0;
  for (const chunk of chunks) {
    if (bytes > 0 && bytes + chunk.byteLength > RELEASE_BYTES_PER_TURN) {
      await nextTurn();
      bytes = 0;
    }
    bytes += chunk.byteLength;
    try {
      (chunk.buffer as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0);
    } catch {
      // Not detachable (already detached, or not a buffer of its own): the collector frees it instead. This
      // runs unawaited, so nothing here may throw.
    }
  }
}
