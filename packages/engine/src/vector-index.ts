// One index held in memory: its namespaces and every data-plane operation on them. A plain library: no
// HTTP, no disk. Writes are split in two: prepare*() validates a request against the index settings and
// returns a Mutation (throwing, nothing applied); apply() performs a Mutation and never fails, so the same
// code replays a log on recovery. Reads return engine shapes (records with Float32Array values, pages
// with an `after` cursor); the store renders them for the wire.
import type { DeleteRequest, FetchRequest, FilterNode, IndexSchema, QueryRequest, UpdateRequest, UpsertRequest } from '@conifer/contracts';
import { UsearchAnn, type AnnParams, DEFAULT_ANN_PARAMS } from './ann/usearch-ann.js';
import { NamespaceCatalog } from './namespace/catalog.js';
import type { NamespaceStore } from './namespace/namespace-store.js';
import { countMatching } from './reads/count-matching.js';
import type { ReadContext } from './reads/context.js';
import { describeNamespace } from './reads/describe-namespace.js';
import { describeStats } from './reads/describe-stats.js';
import { fetch } from './reads/fetch.js';
import { fetchByMetadata } from './reads/fetch-by-metadata.js';
import { list } from './reads/list.js';
import { listNamespaces } from './reads/list-namespaces.js';
import { query } from './reads/query.js';
import type { TailPrescan } from './search/tail-prescan.js';
import type {
  EngineRecord,
  FetchByMetadataInput,
  FetchResult,
  IndexSettings,
  ListInput,
  Mutation,
  NamespaceSummary,
  Page,
  PlacedRecord,
  QueryResult,
  SearchOptions,
  StatsResult,
} from './types.js';
import { applyMutation } from './writes/apply.js';
import { prepareCreateNamespace, prepareDelete, prepareDeleteNamespace, prepareUpdate, prepareUpsert } from './writes/prepare.js';

export const DEFAULT_SEARCH_OPTIONS: SearchOptions = { annMinVectors: 5000, exactFilterMax: 1000, annCandidates: 128, annRerank: 64, annBreadthBase: 100_000 };

export class VectorIndex implements ReadContext {
  readonly namespaces: NamespaceCatalog;
  readonly search: SearchOptions;
  /**
   * Set: a write that leaves a namespace needing compaction only begins it, and the caller carries it out
   * with compactionStep() (a slice at a time, between requests); unset (default, recovery): compacted in
   * the write itself.
   */
  deferCompaction = false;
  private readonly compactions = new Set<NamespaceStore>();
  private readonly deferred = (ns: NamespaceStore): void => {
    this.compactions.add(ns);
  };

  constructor(
    readonly settings: IndexSettings,
    search: Partial<SearchOptions> = {},
    readonly annParams: AnnParams = DEFAULT_ANN_PARAMS,
  ) {
    this.search = { ...DEFAULT_SEARCH_OPTIONS, ...search };
    const dense = settings.vectorType === 'dense';
    // Int8 sketches for the filtered scan: cosine only (a row's sketch is scaled to its own range, which
    // keeps cosine order but not dot products or distances).
    this.namespaces = new NamespaceCatalog(dense ? settings.dimension! : 0, settings.schema, dense && settings.metric === 'cosine');
  }

  get totalVectorCount(): number {
    return this.namespaces.liveCount;
  }

  // ---------------------------------------------------------------- writes

  prepareUpsert(request: UpsertRequest): Mutation {
    return prepareUpsert(this.settings, request);
  }

  prepareUpdate(request: UpdateRequest): Mutation {
    return prepareUpdate(this.settings, request);
  }

  prepareDelete(request: DeleteRequest): Mutation {
    return prepareDelete(request);
  }

  /** `schema`: the namespace's metadata schema, which replaces the index's for which fields are indexed. */
  prepareCreateNamespace(name: string, schema?: IndexSchema): Mutation {
    return prepareCreateNamespace(this.namespaces, name, schema);
  }

  prepareDeleteNamespace(name: string): Mutation {
    return prepareDeleteNamespace(this.namespaces, name);
  }

  /** Applies a validated mutation; returns the number of records it touched. Never throws for valid input. */
  apply(mutation: Mutation): number {
    return applyMutation(this.namespaces, mutation, this.deferCompaction ? this.deferred : undefined);
  }

  /** Whether a deferred compaction is waiting for compactionStep(). */
  get compactionPending(): boolean {
    return this.compactions.size > 0;
  }

  /**
   * Copies up to `rows` slots of a deferred compaction (the namespace swaps in its compacted arrays when
   * done); returns whether any is left. A namespace deleted or cleared meanwhile is dropped.
   */
  compactionStep(rows: number): boolean {
    for (const ns of this.compactions) {
      if (!ns.compacting || ![...this.namespaces.stores()].includes(ns) || !ns.compactStep(rows)) this.compactions.delete(ns);
      break;
    }
    return this.compactions.size > 0;
  }

  /**
   * Recovery from a snapshot that kept slot numbers: puts records at their saved slots (ascending per
   * namespace), so that a graph saved with the snapshot, keyed by slot, applies unchanged.
   */
  restore(namespace: string, records: readonly PlacedRecord[]): void {
    const ns = this.namespaces.obtain(namespace);
    for (const r of records) ns.putAt(r.slot, r.id, r.values, r.sparseValues, r.metadata, r.norm);
  }

  // ---------------------------------------------------------------- reads

  /** `prescan`: see reads/query.ts (the store's cooperative scan of a large unindexed tail). */
  query(request: QueryRequest, prescan?: TailPrescan): QueryResult {
    return query(this, request, prescan);
  }

  fetch(request: FetchRequest): FetchResult {
    return fetch(this, request);
  }

  fetchByMetadata(input: FetchByMetadataInput): Page<EngineRecord> {
    return fetchByMetadata(this, input);
  }

  list(input: ListInput): Page<string> {
    return list(this, input);
  }

  describeStats(filter: FilterNode | undefined): StatsResult {
    return describeStats(this, filter);
  }

  listNamespaces(): NamespaceSummary[] {
    return listNamespaces(this);
  }

  describeNamespace(name: string): NamespaceSummary {
    return describeNamespace(this, name);
  }

  /** Records an update by filter would change (dry run). */
  countMatching(namespace: string, filter: FilterNode | undefined): number {
    return countMatching(this, namespace, filter);
  }

  // ---------------------------------------------------------------- ANN upkeep

  private wantsAnn(ns: NamespaceStore): boolean {
    return ns.ann !== undefined || ns.liveCount >= this.search.annMinVectors;
  }

  /** Namespaces that should have an ANN index (dense, large enough or already indexed). */
  annCandidates(): NamespaceStore[] {
    if (this.settings.vectorType !== 'dense') return [];
    return [...this.namespaces.stores()].filter((ns) => this.wantsAnn(ns));
  }

  /** Vectors not yet in an ANN index (in namespaces large enough to get one). */
  pendingAnnVectors(): number {
    let n = 0;
    for (const ns of this.annCandidates()) n += ns.slotCount - ns.annUpTo;
    return n;
  }

  /**
   * Adds up to `maxBatch` not-yet-indexed vectors of one namespace to its ANN index (or sketches up to
   * 4 × `maxBatch` restored slots), on this thread. Returns the number of slots processed (0 when nothing
   * is left to do).
   */
  buildAnnStep(maxBatch: number): number {
    // Sketches first (restored slots): the filtered scan waits for them, and they cost far less than the graph.
    const sketched = this.buildSketchStep(maxBatch * 4);
    if (sketched > 0) return sketched;
    for (const ns of this.annCandidates()) {
      if (ns.annUpTo >= ns.slotCount) continue;
      const to = Math.min(ns.slotCount, ns.annUpTo + maxBatch);
      return ns.extendAnn(to, () => new UsearchAnn(this.settings.metric, ns.dimension, this.annParams, ns.maxNorm()));
    }
    return 0;
  }

  /**
   * Builds the int8 sketches of up to `maxRows` slots restored without values (after a restart), in one
   * namespace, on this thread (reads the values from the segment). Returns the number of slots sketched.
   */
  buildSketchStep(maxRows: number): number {
    for (const ns of this.namespaces.stores()) {
      const n = ns.buildSketches(maxRows);
      if (n > 0) return n;
    }
    return 0;
  }

  /** Approximate bytes of vector data held (dense arrays; ANN excluded). */
  denseBytes(): number {
    let n = 0;
    for (const ns of this.namespaces.stores()) n += ns.denseBytes();
    return n;
  }
}
