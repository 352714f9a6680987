import type { FilterNode, IndexMetric, IndexSchema, ParsedSparseValues, RecordMetadata } from '@conifer/contracts';

export type { IndexSettings, VectorType } from '@conifer/contracts';
export type Metric = IndexMetric;

export interface StoredRecordInput {
  id: string;
  values?: Float32Array;
  sparseValues?: ParsedSparseValues;
  metadata?: RecordMetadata;
}

/** A record with the slot it held when a snapshot was taken. */
export interface PlacedRecord extends StoredRecordInput {
  slot: number;
  /** The norm of the dense values when they are not given (read from the namespace's segment). */
  norm?: number;
}

/** Every mutation, as written to the WAL and replayed on recovery. Applying one never fails. */
export type Mutation =
  | { type: 'upsert'; namespace: string; records: StoredRecordInput[] }
  | {
      type: 'update';
      namespace: string;
      id: string;
      values?: Float32Array;
      sparseValues?: ParsedSparseValues;
      setMetadata?: RecordMetadata;
    }
  | { type: 'updateByFilter'; namespace: string; filter: FilterNode; setMetadata: RecordMetadata }
  | { type: 'deleteIds'; namespace: string; ids: string[] }
  | { type: 'deleteByFilter'; namespace: string; filter: FilterNode }
  | { type: 'deleteAll'; namespace: string }
  | { type: 'createNamespace'; namespace: string; schema?: IndexSchema }
  | { type: 'deleteNamespace'; namespace: string };

/** A graph's search-breadth calibration (search/calibrate.ts): its breadth multiplier, the recall estimated with it, and the graph size then. */
export interface BreadthCalibration {
  scale: number;
  recall: number;
  size: number;
}

/** The smallest multiplier of the breadth rule a calibration may choose (search/calibrate.ts). */
export const MIN_BREADTH_SCALE = 0.5;

export interface SearchOptions {
  /** Namespaces smaller than this are always searched exactly. */
  annMinVectors: number;
  /** Filtered queries whose matching set is at most this many vectors are searched exactly. */
  exactFilterMax: number;
  /** Candidates asked from the ANN index per query at least (its search breadth), before filter oversampling. */
  annCandidates: number;
  /**
   * Of an unfiltered graph search's candidates, how many (the first, in the graph's own quantized order) are
   * re-ranked with the exact values: this many times the namespace's calibrated breadth multiplier, at least
   * 4 × topK, at most the candidates. The graph
   * finds the true neighbours only with a wide search, but ranks them among its first few dozen, and each
   * exact score costs a read of the values (a pread when they are served from the values file).
   */
  annRerank: number;
  /**
   * Graphs larger than this many live vectors get more candidates: × (size / base)^e, e by the dimension
   * (`breadthExponent`: ½ up to 128-d, 0.9 from 768-d) unless `annBreadthExponent` sets it.
   */
  annBreadthBase: number;
  /** The breadth's growth exponent for every dimension (default: by dimension, see `breadthExponent`). */
  annBreadthExponent?: number;
  /**
   * Multiplies the planner's modelled cost of a filtered graph search against scanning the filter's
   * matches (default 1; lower favours the graph: tests use it to reach the graph plans on small namespaces).
   */
  graphCostScale?: number;
  /** Candidates the sketch scan of a filter's matches re-scores exactly (at least 10 × topK; default: planner.ts sketchBreadth, by the matches). */
  sketchCandidates?: number;
  /**
   * Multiplies the planner's modelled cost of the sketch scan against the exact scan of the matches
   * (default 1; lower favours the sketches: tests use it to reach them on small namespaces).
   */
  sketchCostScale?: number;
}

// ---------------------------------------------------------------- read results (engine shapes, not wire shapes)

/** A record as the engine returns it; the store renders it (number arrays, snake_case) for the wire. */
export interface EngineRecord {
  id: string;
  /** A copy of the stored float32 values (undefined for sparse indexes). */
  values?: Float32Array;
  sparseValues?: ParsedSparseValues;
  metadata?: RecordMetadata;
}

export interface EngineMatch extends EngineRecord {
  /** The score as reported (similarity for cosine and dotproduct, squared distance for euclidean). */
  score: number;
}

export type PlanKind = 'empty' | 'exact' | 'exact-filtered' | 'sketch-filtered' | 'ann' | 'ann-filtered';

/** What a query actually ran (the planner's choice, possibly changed by the ANN fallback). */
export interface ExecutedPlan {
  plan: PlanKind;
  /** Records scored exactly. */
  candidates: number;
}

export interface QueryResult {
  matches: EngineMatch[];
  /** Live records in the namespace searched (the store derives read units from it). */
  namespaceSize: number;
  plan: ExecutedPlan;
}

export interface FetchResult {
  /** Found records, in request order, each id once. */
  records: EngineRecord[];
}

/** A page of a listing; `after` resumes after the last item returned (the store encodes it as a token). */
export interface Page<T> {
  items: T[];
  after?: string;
}

export interface ListInput {
  namespace: string;
  prefix: string;
  limit: number;
  /** Resume after this id. */
  after?: string;
}

export interface FetchByMetadataInput {
  namespace: string;
  filter?: FilterNode;
  limit: number;
  /** Resume after this id. */
  after?: string;
}

export interface NamespaceSummary {
  /** The engine's name ("" for the default namespace). */
  name: string;
  recordCount: number;
  /** The namespace's own metadata schema (`POST /namespaces`), as given. */
  schema?: IndexSchema;
  /** The metadata fields with posting lists, sorted; absent when every field has them (no schema applies). */
  indexedFields?: string[];
}

export interface StatsResult {
  /** Live (or matching, with a filter) records per namespace; with a filter, namespaces without a match are left out. */
  namespaces: NamespaceSummary[];
  total: number;
}
