// Wire types of Pinecone's data plane (DESIGN.md §4), named as in the official client, and the typed
// requests the parsers produce (values as Float32Array, default namespace normalised to "").
import type { IndexSchema } from '../control-plane/index-schema.js';
import type { FilterNode } from './filter.js';

export type MetadataValue = string | number | boolean | string[];
export type RecordMetadata = Record<string, MetadataValue>;

export interface SparseValues {
  indices: number[];
  values: number[];
}

export interface PineconeRecord {
  id: string;
  values: number[];
  sparseValues?: SparseValues;
  metadata?: RecordMetadata;
}

export interface Usage {
  readUnits: number;
}

export interface ScoredPineconeRecord {
  id: string;
  score: number;
  values?: number[];
  sparseValues?: SparseValues;
  metadata?: RecordMetadata;
}

export interface UpsertResponse {
  upsertedCount: number;
}
export interface QueryResponse {
  matches: ScoredPineconeRecord[];
  namespace: string;
  usage: Usage;
}
export interface FetchResponse {
  vectors: Record<string, PineconeRecord>;
  namespace: string;
  usage: Usage;
}
export interface Pagination {
  next: string;
}
export interface ListResponse {
  vectors: { id: string }[];
  pagination?: Pagination;
  namespace: string;
  usage: Usage;
}
export interface FetchByMetadataResponse {
  vectors: Record<string, PineconeRecord>;
  namespace: string;
  pagination?: Pagination;
  usage: Usage;
}
export interface UpdateByFilterResponse {
  matchedRecords: number;
}
export interface DescribeIndexStatsResponse {
  namespaces: Record<string, { vectorCount: number }>;
  dimension?: number;
  indexFullness: number;
  totalVectorCount: number;
  metric: string;
  vectorType: string;
}
export interface NamespaceDescription {
  name: string;
  record_count: number;
  /** The namespace's own metadata schema (`POST /namespaces`), as given: `{"fields":{"x":{"filterable":true}}}`. */
  schema?: IndexSchema;
  /** Metadata fields with posting lists (2025-10 and later). */
  indexed_fields?: { fields: string[] };
}
export interface ListNamespacesResponse {
  namespaces: NamespaceDescription[];
  pagination?: Pagination;
  total_count: number;
}

// ---- typed requests (parser output) ----

export interface ParsedSparseValues {
  indices: Uint32Array;
  values: Float32Array;
}

export interface ParsedRecord {
  id: string;
  values?: Float32Array;
  sparseValues?: ParsedSparseValues;
  metadata?: RecordMetadata;
}

export interface UpsertRequest {
  namespace: string;
  vectors: ParsedRecord[];
}

export interface QueryRequest {
  namespace: string;
  topK: number;
  vector?: Float32Array;
  sparseVector?: ParsedSparseValues;
  id?: string;
  filter?: FilterNode;
  includeValues: boolean;
  includeMetadata: boolean;
}

export interface FetchRequest {
  namespace: string;
  ids: string[];
}

export interface FetchByMetadataRequest {
  namespace: string;
  filter?: FilterNode;
  limit: number;
  paginationToken?: string;
}

export type UpdateRequest =
  | {
      kind: 'id';
      namespace: string;
      id: string;
      values?: Float32Array;
      sparseValues?: ParsedSparseValues;
      setMetadata?: RecordMetadata;
    }
  | {
      kind: 'filter';
      namespace: string;
      filter: FilterNode;
      setMetadata: RecordMetadata;
      dryRun: boolean;
    };

export type DeleteRequest =
  | { kind: 'ids'; namespace: string; ids: string[] }
  | { kind: 'all'; namespace: string }
  | { kind: 'filter'; namespace: string; filter: FilterNode };

export interface ListRequest {
  namespace: string;
  prefix: string;
  limit: number;
  paginationToken?: string;
}

export interface DescribeIndexStatsRequest {
  filter?: FilterNode;
}

export interface ListNamespacesRequest {
  limit: number;
  paginationToken?: string;
  prefix: string;
}
