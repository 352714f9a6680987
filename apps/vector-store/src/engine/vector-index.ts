// In-memory state of one index and every data-plane operation on it. A plain library: no HTTP, no disk.
// Writes are split in two: prepare*() validates a request against the index settings and returns a
// Mutation (throwing InvalidArgumentError/NotFoundError, nothing applied); apply() performs a Mutation
// and never fails, so the same code replays the WAL on recovery.
import {
  compileFilter,
  decodePaginationToken,
  displayNamespace,
  encodePaginationToken,
  float32ArrayToJson,
  float32ToShortest,
  InvalidArgumentError,
  NotFoundError,
  AlreadyExistsError,
  type DeleteRequest,
  type DescribeIndexStatsResponse,
  type FetchByMetadataRequest,
  type FetchByMetadataResponse,
  type FetchRequest,
  type FetchResponse,
  filterableFields,
  type FilterNode,
  type IndexSchema,
  type ListNamespacesRequest,
  type ListNamespacesResponse,
  type ListRequest,
  type ListResponse,
  type MetadataPredicate,
  type NamespaceDescription,
  type ParsedSparseValues,
  type PineconeRecord,
  type QueryRequest,
  type QueryResponse,
  type ScoredPineconeRecord,
  type UpdateRequest,
  type UpsertRequest,
} from '@conifer/contracts';
import { UsearchAnn, type AnnParams, DEFAULT_ANN_PARAMS } from './ann/usearch-ann.js';
import { NamespaceData } from './namespace.js';
import { denseSimilarity, reportedScore, sparseDot } from './scoring.js';
import { simdCandidates } from './exact.js';
import { TopK } from './top-k.js';

/** Unfiltered exact scans of namespaces at least this large use SIMD candidates. */
const SIMD_SCAN_MIN = 2000;
import type { IndexSettings, Mutation, SearchOptions, StoredRecordInput } from './types.js';

export const DEFAULT_SEARCH_OPTIONS: SearchOptions = { annMinVectors: 5000, exactFilterMax: 1000, annCandidates: 100 };

export interface QueryPlanInfo {
  plan: 'empty' | 'exact' | 'exact-filtered' | 'ann' | 'ann-filtered';
  candidates: number;
}

export class VectorIndex {
  readonly namespaces = new Map<string, NamespaceData>();
  private readonly dim: number;
  /** Plan of the last query (tests and metrics). */
  lastPlan: QueryPlanInfo = { plan: 'empty', candidates: 0 };

  readonly search: SearchOptions;

  constructor(
    readonly settings: IndexSettings,
    search: Partial<SearchOptions> = {},
    readonly annParams: AnnParams = DEFAULT_ANN_PARAMS,
  ) {
    this.search = { ...DEFAULT_SEARCH_OPTIONS, ...search };
    this.dim = settings.vectorType === 'dense' ? settings.dimension! : 0;
  }

  get totalVectorCount(): number {
    let n = 0;
    for (const ns of this.namespaces.values()) n += ns.liveCount;
    return n;
  }

  // ---------------------------------------------------------------- validation → Mutation

  private checkDense(values: Float32Array | undefined, what: string, required: boolean): void {
    if (this.settings.vectorType === 'sparse') {
      if (values !== undefined && values.length > 0) {
        throw new InvalidArgumentError(`${what}: this index is sparse and takes no dense values`);
      }
      return;
    }
    if (values === undefined) {
      if (required) throw new InvalidArgumentError(`${what}: dense values are required for this index`);
      return;
    }
    if (values.length !== this.dim) {
      throw new InvalidArgumentError(
        `${what}: vector dimension ${values.length} does not match the dimension of the index ${this.dim}`,
      );
    }
  }

  private checkSparse(sparse: ParsedSparseValues | undefined, what: string, required: boolean): void {
    if (this.settings.vectorType === 'sparse') {
      if (required && (sparse === undefined || sparse.indices.length === 0)) {
        throw new InvalidArgumentError(`${what}: sparse values are required for a sparse index`);
      }
      return;
    }
    if (sparse !== undefined && sparse.indices.length > 0 && this.settings.metric !== 'dotproduct') {
      throw new InvalidArgumentError(`${what}: sparse values are supported only for indexes with the dotproduct metric`);
    }
  }

  prepareUpsert(request: UpsertRequest): Mutation {
    const seen = new Set<string>();
    const records: StoredRecordInput[] = [];
    request.vectors.forEach((record, i) => {
      this.checkDense(record.values, `vectors[${i}]`, true);
      this.checkSparse(record.sparseValues, `vectors[${i}]`, true);
      if (seen.has(record.id)) {
        // Last one wins, as at Pinecone; keep only it.
        const at = records.findIndex((r) => r.id === record.id);
        records.splice(at, 1);
      }
      seen.add(record.id);
      records.push(record);
    });
    return { type: 'upsert', namespace: request.namespace, records };
  }

  prepareUpdate(request: UpdateRequest): Mutation {
    if (request.kind === 'filter') {
      return { type: 'updateByFilter', namespace: request.namespace, filter: request.filter, setMetadata: request.setMetadata };
    }
    this.checkDense(request.values, 'values', false);
    this.checkSparse(request.sparseValues, 'sparseValues', false);
    if (request.values === undefined && request.sparseValues === undefined && request.setMetadata === undefined) {
      throw new InvalidArgumentError('update needs values, sparseValues or setMetadata');
    }
    const mutation: Mutation = { type: 'update', namespace: request.namespace, id: request.id };
    if (request.values !== undefined) mutation.values = request.values;
    if (request.sparseValues !== undefined) mutation.sparseValues = request.sparseValues;
    if (request.setMetadata !== undefined) mutation.setMetadata = request.setMetadata;
    return mutation;
  }

  prepareDelete(request: DeleteRequest): Mutation {
    switch (request.kind) {
      case 'ids':
        return { type: 'deleteIds', namespace: request.namespace, ids: request.ids };
      case 'all':
        return { type: 'deleteAll', namespace: request.namespace };
      default:
        return { type: 'deleteByFilter', namespace: request.namespace, filter: request.filter };
    }
  }

  /** `schema`: the namespace's metadata schema, which replaces the index's for which fields are indexed. */
  prepareCreateNamespace(name: string, schema?: IndexSchema): Mutation {
    if (this.namespaces.has(name)) throw new AlreadyExistsError(`namespace "${displayNamespace(name)}" already exists`);
    return schema === undefined ? { type: 'createNamespace', namespace: name } : { type: 'createNamespace', namespace: name, schema };
  }

  prepareDeleteNamespace(name: string): Mutation {
    if (!this.namespaces.has(name)) throw new NotFoundError(`namespace "${displayNamespace(name)}" not found`);
    return { type: 'deleteNamespace', namespace: name };
  }

  // ---------------------------------------------------------------- apply

  private namespaceFor(name: string, schema?: IndexSchema): NamespaceData {
    let ns = this.namespaces.get(name);
    if (ns === undefined) {
      // Which metadata fields get posting lists: the namespace's schema, else the index's, else all.
      const indexed = filterableFields(schema ?? this.settings.schema);
      ns = new NamespaceData(this.dim, indexed === undefined ? undefined : new Set(indexed), schema);
      this.namespaces.set(name, ns);
    }
    return ns;
  }

  /** Applies a validated mutation; returns the number of records it touched. Never throws for valid input. */
  apply(m: Mutation): number {
    switch (m.type) {
      case 'upsert': {
        const ns = this.namespaceFor(m.namespace);
        for (const r of m.records) ns.put(r.id, r.values, r.sparseValues, r.metadata);
        this.maybeCompact(ns);
        return m.records.length;
      }
      case 'update': {
        const ns = this.namespaces.get(m.namespace);
        const slot = ns?.slotOf(m.id);
        if (ns === undefined || slot === undefined) return 0;
        const metadata = m.setMetadata === undefined ? ns.metadata[slot] : { ...ns.metadata[slot], ...m.setMetadata };
        const sparse = m.sparseValues ?? ns.sparse[slot];
        if (m.values !== undefined) {
          ns.put(m.id, m.values, sparse, metadata);
          this.maybeCompact(ns);
        } else {
          ns.setMetadata(slot, metadata);
          ns.sparse[slot] = sparse;
        }
        return 1;
      }
      case 'updateByFilter': {
        const ns = this.namespaces.get(m.namespace);
        if (ns === undefined) return 0;
        const slots = this.matchingSlots(ns, compileFilter(m.filter), m.filter);
        for (const slot of slots) ns.setMetadata(slot, { ...ns.metadata[slot], ...m.setMetadata });
        return slots.length;
      }
      case 'deleteIds': {
        const ns = this.namespaces.get(m.namespace);
        if (ns === undefined) return 0;
        let n = 0;
        for (const id of m.ids) {
          const slot = ns.slotOf(id);
          if (slot !== undefined) {
            ns.kill(slot);
            n++;
          }
        }
        this.maybeCompact(ns);
        return n;
      }
      case 'deleteByFilter': {
        const ns = this.namespaces.get(m.namespace);
        if (ns === undefined) return 0;
        const slots = this.matchingSlots(ns, compileFilter(m.filter), m.filter);
        for (const slot of slots) ns.kill(slot);
        this.maybeCompact(ns);
        return slots.length;
      }
      case 'deleteAll': {
        const ns = this.namespaces.get(m.namespace);
        if (ns === undefined) return 0;
        const n = ns.liveCount;
        ns.clear();
        return n;
      }
      case 'createNamespace':
        this.namespaceFor(m.namespace, m.schema);
        return 0;
      case 'deleteNamespace': {
        const n = this.namespaces.get(m.namespace)?.liveCount ?? 0;
        this.namespaces.delete(m.namespace);
        return n;
      }
    }
  }

  private maybeCompact(ns: NamespaceData): void {
    if (ns.needsCompaction()) ns.compact();
  }

  /** Live slots whose metadata satisfies the filter, ascending; narrowed by the postings when possible. */
  private matchingSlots(ns: NamespaceData, predicate: MetadataPredicate, filter?: FilterNode): number[] {
    const out: number[] = [];
    const { live, metadata } = ns;
    const candidates = filter === undefined ? undefined : ns.postings.candidates(filter);
    if (candidates !== undefined && candidates.size < ns.count / 4) {
      const sorted = Int32Array.from(candidates).sort(); // typed-array sort: numeric, native
      for (const slot of sorted) if (live[slot] === 1 && predicate(metadata[slot])) out.push(slot);
      return out;
    }
    for (let slot = 0; slot < ns.count; slot++) {
      if (live[slot] === 1 && predicate(metadata[slot])) out.push(slot);
    }
    return out;
  }

  /** Live slots matching the filter as a bitmap over slots, and their number. */
  private matchBitmap(ns: NamespaceData, predicate: MetadataPredicate, filter?: FilterNode): { bits: Uint8Array; count: number } {
    const bits = new Uint8Array(ns.count);
    let count = 0;
    const { live, metadata } = ns;
    const candidates = filter === undefined ? undefined : ns.postings.candidates(filter);
    if (candidates !== undefined && candidates.size < ns.count / 4) {
      for (const slot of candidates) {
        if (live[slot] === 1 && predicate(metadata[slot])) {
          bits[slot] = 1;
          count++;
        }
      }
    } else {
      for (let slot = 0; slot < ns.count; slot++) {
        if (live[slot] === 1 && predicate(metadata[slot])) {
          bits[slot] = 1;
          count++;
        }
      }
    }
    return { bits, count };
  }

  /** Records an update by filter would change (dryRun). */
  countMatching(namespace: string, filter: FilterNode | undefined): number {
    const ns = this.namespaces.get(namespace);
    if (ns === undefined) return 0;
    if (filter === undefined) return ns.liveCount;
    return this.matchingSlots(ns, compileFilter(filter), filter).length;
  }

  // ---------------------------------------------------------------- ANN maintenance

  /**
   * Adds up to `maxBatch` not-yet-indexed vectors of one namespace to its ANN index. Returns the number
   * of slots processed (0 when nothing is left to do). Blocks while usearch inserts.
   */
  buildAnnStep(maxBatch: number): number {
    if (this.settings.vectorType !== 'dense') return 0;
    for (const ns of this.namespaces.values()) {
      if (ns.liveCount < this.search.annMinVectors && ns.ann === undefined) continue;
      if (ns.annUpTo >= ns.count) continue;
      if (ns.ann === undefined) ns.ann = new UsearchAnn(this.settings.metric, this.dim, this.annParams, ns.maxNorm());
      const end = Math.min(ns.count, ns.annUpTo + maxBatch);
      const { slots, vectors } = ns.gather(ns.annUpTo, end);
      ns.ann.add(slots, vectors);
      const processed = end - ns.annUpTo;
      ns.annUpTo = end;
      return processed;
    }
    return 0;
  }

  /** Namespaces that should have an ANN index (dense, large enough or already indexed). */
  annCandidates(): NamespaceData[] {
    if (this.settings.vectorType !== 'dense') return [];
    return [...this.namespaces.values()].filter((ns) => ns.ann !== undefined || ns.liveCount >= this.search.annMinVectors);
  }

  /** Vectors not yet in an ANN index (in namespaces large enough to get one). */
  pendingAnnVectors(): number {
    if (this.settings.vectorType !== 'dense') return 0;
    let n = 0;
    for (const ns of this.namespaces.values()) {
      if (ns.liveCount < this.search.annMinVectors && ns.ann === undefined) continue;
      n += ns.count - ns.annUpTo;
    }
    return n;
  }

  // ---------------------------------------------------------------- reads

  query(request: QueryRequest): QueryResponse {
    const ns = this.namespaces.get(request.namespace);
    let vector = request.vector;
    let sparse = request.sparseVector;
    if (request.id === undefined) {
      this.checkDense(vector, 'vector', this.settings.vectorType === 'dense');
      this.checkSparse(sparse, 'sparseVector', this.settings.vectorType === 'sparse');
    }
    const response: QueryResponse = { matches: [], namespace: request.namespace, usage: { readUnits: 1 } };
    if (ns === undefined || ns.liveCount === 0) {
      this.lastPlan = { plan: 'empty', candidates: 0 };
      return response;
    }
    if (request.id !== undefined) {
      const slot = ns.slotOf(request.id);
      if (slot === undefined) {
        this.lastPlan = { plan: 'empty', candidates: 0 };
        return response;
      }
      vector = this.dim > 0 ? ns.valuesOf(slot).slice() : undefined;
      sparse = ns.sparse[slot];
    }
    const top = this.searchNamespace(ns, vector, sparse, request.filter, request.topK);
    const metric = this.settings.metric;
    response.matches = top.sorted().map(({ score, slot }) => {
      const match: ScoredPineconeRecord = { id: ns.ids[slot]!, score: float32ToShortest(reportedScore(metric, score)) };
      if (request.includeValues) {
        match.values = this.dim > 0 ? float32ArrayToJson(ns.valuesOf(slot)) : [];
        const sv = ns.sparse[slot];
        if (sv !== undefined) match.sparseValues = sparseToJson(sv);
      }
      if (request.includeMetadata) {
        const md = ns.metadata[slot];
        if (md !== undefined) match.metadata = md;
      }
      return match;
    });
    response.usage.readUnits = Math.max(1, Math.ceil(ns.liveCount / 100_000));
    return response;
  }

  private searchNamespace(
    ns: NamespaceData,
    vector: Float32Array | undefined,
    sparse: ParsedSparseValues | undefined,
    filter: FilterNode | undefined,
    topK: number,
  ): TopK {
    const metric = this.settings.metric;
    const dim = this.dim;
    const queryNorm = vector === undefined ? 0 : Math.sqrt(vector.reduce((s, v) => s + v * v, 0));
    const hasSparse = sparse !== undefined && sparse.indices.length > 0;
    const score = (slot: number): number => {
      let s = vector === undefined ? 0 : denseSimilarity(metric, ns.values, slot * dim, ns.norms[slot]!, vector, queryNorm, dim);
      if (hasSparse) {
        const stored = ns.sparse[slot];
        if (stored !== undefined) s += sparseDot(sparse, stored);
      }
      return s;
    };
    const predicate = filter === undefined ? undefined : compileFilter(filter);
    const top = new TopK(topK);
    const { live } = ns;
    // The graph is worth it only when the answer is a small part of the namespace; otherwise (and always
    // for sparse or hybrid queries, and namespaces without an ANN index yet) scan exactly.
    const useAnn =
      ns.ann !== undefined && vector !== undefined && !hasSparse && ns.liveCount >= this.search.annMinVectors && topK * 4 < ns.liveCount;

    const exactScan = (accept: ((slot: number) => boolean) | undefined, plan: QueryPlanInfo['plan']): TopK => {
      const { live, metadata } = ns;
      let candidates = 0;
      for (let slot = 0; slot < ns.count; slot++) {
        if (live[slot] !== 1) continue;
        if (predicate !== undefined && !predicate(metadata[slot])) continue;
        if (accept !== undefined && !accept(slot)) continue;
        candidates++;
        top.push(score(slot), slot);
      }
      this.lastPlan = { plan, candidates };
      return top;
    };
    if (!useAnn) {
      if (predicate === undefined) {
        const dead = ns.count - ns.liveCount;
        if (vector !== undefined && !hasSparse && ns.count >= SIMD_SCAN_MIN && dead <= ns.count / 4 && topK * 4 < ns.liveCount) {
          // SIMD brute force for the candidates (a margin for float32 ties and dead rows), exact re-score.
          for (const slot of simdCandidates(ns.values, ns.count, dim, vector, topK + dead + 16, metric)) {
            if (live[slot] === 1) top.push(score(slot), slot);
          }
          this.lastPlan = { plan: 'exact', candidates: ns.liveCount };
          return top;
        }
        return exactScan(undefined, 'exact');
      }
      const matching = this.matchingSlots(ns, predicate, filter);
      for (const slot of matching) top.push(score(slot), slot);
      this.lastPlan = { plan: 'exact-filtered', candidates: matching.length };
      return top;
    }

    let accept: ((slot: number) => boolean) | undefined;
    let fallback: (() => TopK) | undefined;
    let selectivity = 1;
    let matchedCount = 0;
    if (predicate !== undefined) {
      // Matches as a bitmap (no sorting, no arrays): from the posting lists when they narrow the filter.
      const bitmap = this.matchBitmap(ns, predicate, filter);
      matchedCount = bitmap.count;
      const bits = bitmap.bits;
      const scanMatches = (into: TopK): TopK => {
        for (let slot = 0; slot < ns.count; slot++) if (bits[slot] === 1) into.push(score(slot), slot);
        return into;
      };
      // Cost model (measured on 100k x 768): an exact score costs ~1.5 µs, a graph candidate ~4 µs.
      const filteredK = Math.max(topK * 4, 40) / (matchedCount / ns.liveCount);
      const exactCheaper = matchedCount * 1.5 <= 400 + filteredK * 4;
      if (matchedCount <= this.search.exactFilterMax || exactCheaper || topK * 4 >= matchedCount) {
        this.lastPlan = { plan: 'exact-filtered', candidates: matchedCount };
        return scanMatches(top);
      }
      accept = (slot) => bits[slot] === 1;
      selectivity = matchedCount / ns.liveCount;
      fallback = () => scanMatches(new TopK(topK));
    }

    // Tail not yet in the ANN index: exact (read-your-writes).
    for (let slot = ns.annUpTo; slot < ns.count; slot++) {
      if (live[slot] !== 1 || (accept !== undefined && !accept(slot))) continue;
      top.push(score(slot), slot);
    }
    // ANN part: oversample for dead slots and the filter, grow until topK accepted candidates are found;
    // once the candidate list would cover half the graph, an exact scan is both cheaper and complete.
    const ann = ns.ann!;
    const annLive = Math.max(1, ann.size - ns.annDead);
    const deadFactor = ann.size / annLive;
    // ef is fixed at creation; asking for more candidates widens the search (recall 0.95 at 32, 0.99+ at
    // ~100 on 100k x 768), and every candidate is re-ranked exactly.
    let k = Math.ceil(
      (accept === undefined ? Math.max(topK * 4, this.search.annCandidates) : Math.max(topK * 4, 40) / selectivity) * deadFactor,
    );
    const seen = new Set<number>();
    let candidates = 0;
    for (;;) {
      if (k * 2 >= ann.size) {
        const fresh = new TopK(topK);
        const { metadata } = ns;
        let n = 0;
        for (let slot = 0; slot < ns.count; slot++) {
          if (live[slot] !== 1 || (accept !== undefined && !accept(slot))) continue;
          if (accept === undefined && predicate !== undefined && !predicate(metadata[slot])) continue;
          n++;
          fresh.push(score(slot), slot);
        }
        this.lastPlan = { plan: accept === undefined ? 'exact' : 'exact-filtered', candidates: n };
        return fresh;
      }
      const slots = ann.search(vector!, k);
      let accepted = 0;
      for (const slot of slots) {
        if (live[slot] !== 1 || (accept !== undefined && !accept(slot))) continue;
        accepted++;
        if (seen.has(slot)) continue;
        seen.add(slot);
        candidates++;
        top.push(score(slot), slot);
      }
      if (accepted >= topK) break;
      if (fallback !== undefined) {
        // The filter's matches lie away from the query's neighbourhood (filter and vector correlated):
        // widening the graph search would approach a full scan, so scan the matches exactly instead.
        this.lastPlan = { plan: 'exact-filtered', candidates: matchedCount };
        return fallback();
      }
      k *= 4;
    }
    this.lastPlan = { plan: accept === undefined ? 'ann' : 'ann-filtered', candidates };
    return top;
  }

  fetch(request: FetchRequest): FetchResponse {
    const ns = this.namespaces.get(request.namespace);
    const vectors: Record<string, PineconeRecord> = {};
    if (ns !== undefined) {
      for (const id of request.ids) {
        const slot = ns.slotOf(id);
        if (slot !== undefined) vectors[id] = this.recordOf(ns, slot);
      }
    }
    return { vectors, namespace: request.namespace, usage: { readUnits: Math.max(1, Math.ceil(request.ids.length / 10)) } };
  }

  private recordOf(ns: NamespaceData, slot: number): PineconeRecord {
    const record: PineconeRecord = { id: ns.ids[slot]!, values: this.dim > 0 ? float32ArrayToJson(ns.valuesOf(slot)) : [] };
    const sv = ns.sparse[slot];
    if (sv !== undefined) record.sparseValues = sparseToJson(sv);
    const md = ns.metadata[slot];
    if (md !== undefined) record.metadata = md;
    return record;
  }

  fetchByMetadata(request: FetchByMetadataRequest): FetchByMetadataResponse {
    const ns = this.namespaces.get(request.namespace);
    const response: FetchByMetadataResponse = { vectors: {}, namespace: request.namespace, usage: { readUnits: 1 } };
    if (ns === undefined) return response;
    const after = request.paginationToken === undefined ? undefined : decodePaginationToken(request.paginationToken);
    const predicate = compileFilter(request.filter);
    const ids = ns.sortedIds();
    let i = after === undefined ? 0 : upperBound(ids, after);
    let taken = 0;
    let last: string | undefined;
    for (; i < ids.length && taken < request.limit; i++) {
      const slot = ns.slotOf(ids[i]!)!;
      if (!predicate(ns.metadata[slot])) continue;
      response.vectors[ids[i]!] = this.recordOf(ns, slot);
      last = ids[i]!;
      taken++;
    }
    // Another page only if a further match exists.
    if (last !== undefined && taken === request.limit) {
      for (; i < ids.length; i++) {
        if (predicate(ns.metadata[ns.slotOf(ids[i]!)!])) {
          response.pagination = { next: encodePaginationToken(last) };
          break;
        }
      }
    }
    return response;
  }

  list(request: ListRequest): ListResponse {
    const ns = this.namespaces.get(request.namespace);
    const response: ListResponse = { vectors: [], namespace: request.namespace, usage: { readUnits: 1 } };
    if (ns === undefined) return response;
    const ids = ns.sortedIds();
    const after = request.paginationToken === undefined ? undefined : decodePaginationToken(request.paginationToken);
    let i = lowerBound(ids, request.prefix);
    if (after !== undefined) i = Math.max(i, upperBound(ids, after));
    for (; i < ids.length && response.vectors.length < request.limit; i++) {
      if (!ids[i]!.startsWith(request.prefix)) break;
      response.vectors.push({ id: ids[i]! });
    }
    if (response.vectors.length === request.limit && i < ids.length && ids[i]!.startsWith(request.prefix)) {
      response.pagination = { next: encodePaginationToken(response.vectors[response.vectors.length - 1]!.id) };
    }
    return response;
  }

  describeStats(filter: FilterNode | undefined): DescribeIndexStatsResponse {
    const predicate = filter === undefined ? undefined : compileFilter(filter);
    const namespaces: Record<string, { vectorCount: number }> = {};
    let total = 0;
    for (const [name, ns] of this.namespaces) {
      const count = predicate === undefined ? ns.liveCount : this.matchingSlots(ns, predicate, filter).length;
      if (predicate !== undefined && count === 0) continue;
      namespaces[name] = { vectorCount: count };
      total += count;
    }
    const response: DescribeIndexStatsResponse = {
      namespaces,
      indexFullness: 0,
      totalVectorCount: total,
      metric: this.settings.metric,
      vectorType: this.settings.vectorType,
    };
    if (this.settings.dimension !== null) response.dimension = this.settings.dimension;
    return response;
  }

  listNamespaces(request: ListNamespacesRequest): ListNamespacesResponse {
    const names = [...this.namespaces.keys()]
      .map((name) => displayNamespace(name))
      .filter((name) => name.startsWith(request.prefix))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const after = request.paginationToken === undefined ? undefined : decodePaginationToken(request.paginationToken);
    const start = after === undefined ? 0 : upperBound(names, after);
    const page = names.slice(start, start + request.limit);
    const response: ListNamespacesResponse = {
      namespaces: page.map((name) => this.describeNamespace(name === '__default__' ? '' : name)),
      total_count: names.length,
    };
    if (start + request.limit < names.length) response.pagination = { next: encodePaginationToken(page[page.length - 1]!) };
    return response;
  }

  describeNamespace(name: string): NamespaceDescription {
    const ns = this.namespaces.get(name);
    if (ns === undefined) throw new NotFoundError(`namespace "${displayNamespace(name)}" not found`);
    // With a schema (the namespace's or the index's), which fields are indexed; without, all of them are.
    const indexed = ns.postings.declaredFields();
    return {
      name: displayNamespace(name),
      record_count: ns.liveCount,
      ...(ns.schema === undefined ? {} : { schema: ns.schema }),
      ...(indexed === undefined ? {} : { indexed_fields: { fields: indexed } }),
    };
  }

  /** Approximate resident bytes of vector data (dense arrays; ANN excluded). */
  denseBytes(): number {
    let n = 0;
    for (const ns of this.namespaces.values()) n += ns.denseBytes();
    return n;
  }
}

function sparseToJson(sv: ParsedSparseValues): { indices: number[]; values: number[] } {
  return { indices: Array.from(sv.indices), values: float32ArrayToJson(sv.values) };
}

/** First index with ids[i] >= key. */
function lowerBound(ids: string[], key: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ids[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index with ids[i] > key. */
function upperBound(ids: string[], key: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ids[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
