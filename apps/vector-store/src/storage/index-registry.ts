// All indexes of this node: <dataDir>/indexes/<indexId>/. Creates, loads (at start), deletes them, and
// runs the background ANN builder that indexes what the WAL path has appended.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { access, constants, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { AlreadyExistsError, InvalidArgumentError, isConiferError, NotFoundError, parseVectorSettings, UnavailableError } from '@conifer/contracts';
import type { Logger } from 'pino';
import type { IndexSettings } from '@conifer/engine';
import { AnnBuilder, annWorkerPath, clearAnnFiles, DEFAULT_RELEASE_AFTER_MS } from './ann-builder.js';
import { DEFAULT_DURABLE_OPTIONS, DurableIndex, fsyncDirectoryAsync, type DurableIndexOptions } from './durable-index.js';
import { JetStreamIndexLog, type JetStreamHub } from './log/jetstream.js';

const INDEX_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function validateIndexId(id: string): string {
  if (!INDEX_ID.test(id)) throw new InvalidArgumentError('index id must be 1–64 characters of A-Z a-z 0-9 _ -');
  return id;
}

/** The vector settings of `PUT /internal/indexes/:id` (either field spelling); a schema is read by documents/index-settings.ts. */
export function validateIndexSettings(raw: unknown): IndexSettings {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidArgumentError('body must be a JSON object');
  const body = raw as Record<string, unknown>;
  return parseVectorSettings({ dimension: body.dimension, metric: body.metric, vectorType: body.vectorType ?? body.vector_type });
}

export interface RegistryOptions extends DurableIndexOptions {
  /** Vectors added to an ANN index per step of the background builder (each step blocks the event loop). */
  annBatch: number;
  /** Disable the background ANN builder (tests of the exact path). */
  annBuilder: boolean;
  /** Build ANN indexes on a worker thread (default) rather than in small blocking steps on the event loop. */
  annWorker: boolean;
  /** How long the ANN worker keeps a caught-up graph in memory after its last batch before dropping it. */
  annReleaseAfterMs: number;
  /**
   * Recall@10 each graph's search breadth is calibrated for by the ANN worker (engine search/calibrate.ts;
   * 0: off, the planner's rule alone). The event-loop builder (annWorker false) does not calibrate.
   */
  annTargetRecall: number;
  /**
   * The ANN worker thread's nice value (0–19; 0: the event loop's priority). See AnnBuilder. The store's
   * configuration defaults to 10 (CONIFER_ANN_BUILD_NICE); a registry opened by code (specs, bench tools) builds at
   * its caller's priority unless asked.
   */
  annBuildNice: number;
  /** Threads per graph insert batch (0: AnnBuilder's choice by the nice value). */
  annBuildThreads: number;
  /** How often to check whether the graphs have grown enough to be saved with a new snapshot. */
  graphSnapshotCheckMs: number;
  /** Set: indexes log to JetStream streams and this node holds replicas (unset: the local WAL). */
  hub?: JetStreamHub;
}

const DEFAULT_REGISTRY_OPTIONS: RegistryOptions = {
  ...DEFAULT_DURABLE_OPTIONS,
  annBatch: 256,
  annBuilder: true,
  annWorker: true,
  annReleaseAfterMs: DEFAULT_RELEASE_AFTER_MS,
  annTargetRecall: 0.98,
  annBuildNice: 0,
  annBuildThreads: 0,
  graphSnapshotCheckMs: 5000,
};

export class IndexRegistry {
  private readonly indexes = new Map<string, DurableIndex>();
  private readonly creating = new Map<string, Promise<DurableIndex>>();
  private builderTimer: NodeJS.Timeout | undefined;
  private builderStopped = false;
  private annBuilder: AnnBuilder | undefined;
  private graphSnapshotTimer: NodeJS.Timeout | undefined;
  loaded = false;

  private constructor(
    readonly root: string,
    private readonly options: RegistryOptions,
    private readonly logger: Logger,
  ) {}

  static async open(dataDir: string, logger: Logger, options: Partial<RegistryOptions> = {}): Promise<IndexRegistry> {
    const root = path.join(dataDir, 'indexes');
    mkdirSync(root, { recursive: true });
    const registry = new IndexRegistry(root, { ...DEFAULT_REGISTRY_OPTIONS, ...options }, logger);
    for (const name of readdirSync(root)) {
      const dir = path.join(root, name);
      if (!INDEX_ID.test(name)) {
        // Leftovers of an interrupted create or delete.
        if (name.endsWith('.creating') || name.includes('.deleted-') || name.includes('.upload-')) rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (!existsSync(path.join(dir, 'index.json'))) continue;
      clearAnnFiles(dir);
      const index = await DurableIndex.load(name, dir, registry.options, logger);
      registry.indexes.set(name, index);
      if (registry.options.hub !== undefined) {
        // At start the NATS cluster may still be electing its leader: wait for it rather than exit.
        for (let attempt = 1; ; attempt++) {
          try {
            await registry.attachReplica(registry.indexes.get(name)!);
            break;
          } catch (error) {
            if (attempt % 10 === 1) logger.warn({ index: name, err: error }, 'the index log is not reachable yet; retrying');
            await new Promise((resolve) => setTimeout(resolve, 1000));
          }
        }
      }
    }
    registry.loaded = true;
    // Once the graphs have grown well past what the newest snapshot saved, save them with a new one
    // (a restart then opens them instead of rebuilding).
    registry.graphSnapshotTimer = setInterval(() => {
      for (const index of registry.indexes.values()) if (index.graphSnapshotDue()) void index.startSnapshot();
    }, registry.options.graphSnapshotCheckMs);
    registry.graphSnapshotTimer.unref();
    if (registry.options.annBuilder) {
      const workerFile = registry.options.annWorker ? annWorkerPath() : undefined;
      if (workerFile !== undefined) {
        registry.annBuilder = new AnnBuilder(
          workerFile,
          { indexes: () => registry.list().map((i) => ({ id: i.id, dir: i.dir, index: i.index })) },
          logger,
          undefined,
          registry.options.annReleaseAfterMs,
          registry.options.annTargetRecall,
          registry.options.annBuildNice,
          registry.options.annBuildThreads,
        );
        registry.annBuilder.start();
      } else {
        if (registry.options.annWorker) logger.warn('ANN worker script not found (build the app); building ANN on the event loop');
        registry.scheduleBuilder(0);
      }
    }
    return registry;
  }

  get(id: string): DurableIndex {
    const index = this.indexes.get(id);
    if (index === undefined) throw new NotFoundError(`index ${id} not found`);
    return index;
  }

  has(id: string): boolean {
    return this.indexes.has(id);
  }

  list(): DurableIndex[] {
    return [...this.indexes.values()];
  }

  /** Creates an index; `created` is false when it existed already with the same settings. */
  async create(id: string, settings: IndexSettings): Promise<{ index: DurableIndex; created: boolean }> {
    validateIndexId(id);
    const existing = this.indexes.get(id) ?? (await this.creating.get(id));
    if (existing !== undefined) {
      const s = existing.settings;
      // The schema is compared by the caller (documents/index-settings.ts applySchemaChange): fields may be
      // added to it, not changed, and an index created before schemas existed may be given one.
      if (s.dimension !== settings.dimension || s.metric !== settings.metric || s.vectorType !== settings.vectorType) {
        throw new AlreadyExistsError(`index ${id} already exists with other settings`);
      }
      return { index: existing, created: false };
    }
    const pending = this.options.hub === undefined ? DurableIndex.create(id, path.join(this.root, id), settings, this.options, this.logger) : this.createReplica(id, settings);
    this.creating.set(id, pending);
    try {
      const index = await pending;
      const s = index.settings;
      if (s.dimension !== settings.dimension || s.metric !== settings.metric || s.vectorType !== settings.vectorType) {
        // A replica restored from the index's snapshot, which has other settings.
        await this.dropLocal(index);
        throw new AlreadyExistsError(`index ${id} already exists with other settings`);
      }
      this.indexes.set(id, index);
      return { index, created: true };
    } finally {
      this.creating.delete(id);
    }
  }

  /** A new replica: from the newest snapshot in the object store and the stream after it, else empty. */
  private async createReplica(id: string, settings: IndexSettings): Promise<DurableIndex> {
    try {
      return await this.createReplicaOnce(id, settings);
    } catch (error) {
      if (isConiferError(error)) throw error;
      this.logger.warn({ index: id, err: error }, 'could not create the replica');
      throw new UnavailableError(`the replication log is not available (${(error as Error).message}); retry`);
    }
  }

  private async createReplicaOnce(id: string, settings: IndexSettings): Promise<DurableIndex> {
    const hub = this.options.hub!;
    await hub.ensureStream(id);
    const dir = path.join(this.root, id);
    const index = (await this.restoreReplica(id, dir)) ?? (await DurableIndex.create(id, dir, settings, this.options, this.logger));
    await this.attachReplica(index);
    return index;
  }

  /** Downloads the newest snapshot into `dir` and loads it; undefined when the index has none. */
  private async restoreReplica(id: string, dir: string): Promise<DurableIndex | undefined> {
    const hub = this.options.hub!;
    const [newest] = await hub.snapshots(id);
    if (newest === undefined) return undefined;
    const temporary = `${dir}.creating`;
    await rm(temporary, { recursive: true, force: true });
    await mkdir(temporary, { recursive: true });
    await hub.downloadSnapshot(id, newest, temporary);
    await fsyncDirectoryAsync(temporary);
    await rename(temporary, dir);
    await fsyncDirectoryAsync(this.root);
    this.logger.info({ index: id, position: newest.position }, 'replica restored from a snapshot in the object store');
    return DurableIndex.load(id, dir, this.options, this.logger);
  }

  /** Makes a loaded index consume its stream from the position its local state covers. */
  private async attachReplica(index: DurableIndex): Promise<void> {
    const hub = this.options.hub!;
    let stream = await hub.ensureStream(index.id);
    let current = index;
    // first_seq is 0 for a new stream; after a purge it is the next entry, also when none is left.
    if (stream.firstSeq > current.loadedPosition + 1) {
      // The stream was trimmed past what this node holds: start again from a snapshot.
      this.logger.warn({ index: index.id, position: current.loadedPosition, firstSeq: stream.firstSeq }, 'local state is older than the log; restoring from a snapshot');
      const restored = await this.replaceFromSnapshot(current);
      if (restored === undefined) throw new Error(`index ${index.id}: the log was trimmed and no snapshot is available`);
      current = restored;
      stream = await hub.ensureStream(index.id);
    }
    const log = new JetStreamIndexLog(hub, current, current.loadedPosition, this.logger, (id) => void this.resync(id));
    current.log = log;
    log.start(stream.lastSeq);
  }

  /** Drops a replica's local state and restores it from the newest snapshot. */
  private async replaceFromSnapshot(index: DurableIndex): Promise<DurableIndex | undefined> {
    this.annBuilder?.forget(index.id);
    await index.log.close();
    await index.close();
    const trash = path.join(this.root, `${index.id}.deleted-${Date.now()}`);
    await rename(index.dir, trash);
    await fsyncDirectoryAsync(this.root);
    await rm(trash, { recursive: true, force: true });
    const restored = await this.restoreReplica(index.id, index.dir);
    if (restored !== undefined) this.indexes.set(index.id, restored);
    else this.indexes.delete(index.id);
    return restored;
  }

  /** The stream was trimmed under a running replica: restart it from a snapshot (reads meanwhile see the old state). */
  private async resync(id: string): Promise<void> {
    const index = this.indexes.get(id);
    if (index === undefined) return;
    try {
      const restored = await this.replaceFromSnapshot(index);
      if (restored !== undefined) await this.attachReplica(restored);
    } catch (error) {
      this.logger.error({ index: id, err: error }, 'could not restore the replica from a snapshot');
    }
  }

  private async dropLocal(index: DurableIndex): Promise<void> {
    await index.log.close();
    await index.close();
    await rm(index.dir, { recursive: true, force: true });
  }

  /**
   * Deletes this node's copy of an index and its files; no error when it does not exist. `purge` (the
   * index itself is deleted) also deletes its shared log and snapshots.
   */
  async delete(id: string, purge = false): Promise<void> {
    validateIndexId(id);
    const index = this.indexes.get(id);
    if (purge && this.options.hub !== undefined) await this.options.hub.purgeIndex(id);
    if (index === undefined) return;
    this.indexes.delete(id);
    this.annBuilder?.forget(id);
    await index.log.close();
    await index.close();
    const trash = path.join(this.root, `${id}.deleted-${Date.now()}`);
    await rename(index.dir, trash);
    await fsyncDirectoryAsync(this.root);
    await rm(trash, { recursive: true, force: true });
  }

  /** Whether the data directory accepts writes (readiness). */
  async writable(): Promise<boolean> {
    try {
      await access(this.root, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  }

  /** The shared log, when this node replicates through one. */
  get hub(): JetStreamHub | undefined {
    return this.options.hub;
  }

  /** False when an index's log has failed (it refuses writes until restarted). */
  healthy(): boolean {
    if (this.options.hub !== undefined && !this.options.hub.connected) return false;
    return this.list().every((index) => index.healthy);
  }

  pendingAnnVectors(): number {
    let n = 0;
    for (const index of this.indexes.values()) n += index.index.pendingAnnVectors();
    return n;
  }

  /** The worker builder's batch buffers allocated and reused so far (specs); undefined without it. */
  annBatchBufferCounts(): ReturnType<AnnBuilder['batchBufferCounts']> | undefined {
    return this.annBuilder?.batchBufferCounts();
  }

  /** Runs the ANN builder until nothing is pending (benchmarks and tests). */
  buildAllAnn(): void {
    for (const index of this.indexes.values()) while (index.index.buildAnnStep(4096) > 0);
  }

  private scheduleBuilder(delayMs: number): void {
    if (this.builderStopped) return;
    this.builderTimer = setTimeout(() => this.builderStep(), delayMs);
    this.builderTimer.unref();
  }

  private builderStep(): void {
    let worked = false;
    try {
      for (const index of this.indexes.values()) {
        if (index.index.buildAnnStep(this.options.annBatch) > 0) {
          worked = true;
          break;
        }
      }
    } catch (error) {
      this.logger.error({ err: error }, 'ANN build step failed');
    }
    this.scheduleBuilder(worked ? 0 : 50);
  }

  /** Whether all ANN work is done (tests). */
  annIdle(): boolean {
    return this.pendingAnnVectors() === 0;
  }

  /** Whether every published graph due a breadth calibration has had it (tests, benchmarks). */
  annCalibrated(): boolean {
    return this.annBuilder?.calibrated() ?? true;
  }

  /** Namespaces whose writable graph the ANN worker still holds in memory (tests). */
  annGraphsHeld(): number {
    return this.annBuilder?.held() ?? 0;
  }

  async close(): Promise<void> {
    this.builderStopped = true;
    if (this.builderTimer) clearTimeout(this.builderTimer);
    if (this.graphSnapshotTimer) clearInterval(this.graphSnapshotTimer);
    await this.annBuilder?.close();
    for (const index of this.indexes.values()) {
      await index.log.close();
      await index.close();
    }
  }
}
