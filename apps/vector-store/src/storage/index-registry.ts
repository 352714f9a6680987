// All indexes of this node: <dataDir>/indexes/<indexId>/. Creates, loads (at start), deletes them, and
// runs the background ANN builder that indexes what the WAL path has appended.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { access, constants, rm } from 'node:fs/promises';
import path from 'node:path';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '@conifer/contracts';
import type { Logger } from 'pino';
import type { IndexSettings } from '@conifer/engine';
import { AnnBuilder, annWorkerPath, clearAnnFiles } from './ann-builder.js';
import { DEFAULT_DURABLE_OPTIONS, DurableIndex, fsyncDirectory, type DurableIndexOptions } from './durable-index.js';

const INDEX_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function validateIndexId(id: string): string {
  if (!INDEX_ID.test(id)) throw new InvalidArgumentError('index id must be 1–64 characters of A-Z a-z 0-9 _ -');
  return id;
}

/** The vector settings of `PUT /internal/indexes/:id`; a schema is read by documents/index-settings.ts. */
export function validateIndexSettings(raw: unknown): IndexSettings {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidArgumentError('body must be a JSON object');
  const body = raw as Record<string, unknown>;
  const vectorType = body.vectorType ?? body.vector_type ?? 'dense';
  if (vectorType !== 'dense' && vectorType !== 'sparse') throw new InvalidArgumentError('vectorType must be "dense" or "sparse"');
  const metric = body.metric ?? (vectorType === 'sparse' ? 'dotproduct' : 'cosine');
  if (metric !== 'cosine' && metric !== 'euclidean' && metric !== 'dotproduct') {
    throw new InvalidArgumentError('metric must be "cosine", "euclidean" or "dotproduct"');
  }
  const dimension = body.dimension ?? null;
  if (vectorType === 'dense') {
    if (typeof dimension !== 'number' || !Number.isInteger(dimension) || dimension < 1 || dimension > 20_000) {
      throw new InvalidArgumentError('dimension must be an integer between 1 and 20000 for a dense index');
    }
  } else {
    if (dimension !== null) throw new InvalidArgumentError('a sparse index has no dimension');
    if (metric !== 'dotproduct') throw new InvalidArgumentError('a sparse index must use the dotproduct metric');
  }
  return { dimension: dimension as number | null, metric, vectorType };
}

export interface RegistryOptions extends DurableIndexOptions {
  /** Vectors added to an ANN index per step of the background builder (each step blocks the event loop). */
  annBatch: number;
  /** Disable the background ANN builder (tests of the exact path). */
  annBuilder: boolean;
  /** Build ANN indexes on a worker thread (default) rather than in small blocking steps on the event loop. */
  annWorker: boolean;
  /** How often to check whether the graphs have grown enough to be saved with a new snapshot. */
  graphSnapshotCheckMs: number;
}

const DEFAULT_REGISTRY_OPTIONS: RegistryOptions = {
  ...DEFAULT_DURABLE_OPTIONS,
  annBatch: 256,
  annBuilder: true,
  annWorker: true,
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
        if (name.endsWith('.creating') || name.includes('.deleted-')) rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (!existsSync(path.join(dir, 'index.json'))) continue;
      clearAnnFiles(dir);
      registry.indexes.set(name, await DurableIndex.load(name, dir, registry.options, logger));
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
    const pending = DurableIndex.create(id, path.join(this.root, id), settings, this.options, this.logger);
    this.creating.set(id, pending);
    try {
      const index = await pending;
      this.indexes.set(id, index);
      return { index, created: true };
    } finally {
      this.creating.delete(id);
    }
  }

  /** Deletes an index and its files; no error when it does not exist. */
  async delete(id: string): Promise<void> {
    validateIndexId(id);
    const index = this.indexes.get(id);
    if (index === undefined) return;
    this.indexes.delete(id);
    this.annBuilder?.forget(id);
    await index.close();
    const trash = path.join(this.root, `${id}.deleted-${Date.now()}`);
    renameSync(index.dir, trash);
    fsyncDirectory(this.root);
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

  /** False when an index's log has failed (it refuses writes until restarted). */
  healthy(): boolean {
    return this.list().every((index) => index.healthy);
  }

  pendingAnnVectors(): number {
    let n = 0;
    for (const index of this.indexes.values()) n += index.index.pendingAnnVectors();
    return n;
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

  async close(): Promise<void> {
    this.builderStopped = true;
    if (this.builderTimer) clearTimeout(this.builderTimer);
    if (this.graphSnapshotTimer) clearInterval(this.graphSnapshotTimer);
    await this.annBuilder?.close();
    for (const index of this.indexes.values()) await index.close();
  }
}
