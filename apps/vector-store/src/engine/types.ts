import type { FilterNode, IndexMetric, IndexSchema, ParsedSparseValues, RecordMetadata } from '@conifer/contracts';

export type { IndexSettings, VectorType } from '@conifer/contracts';
export type Metric = IndexMetric;

export interface StoredRecordInput {
  id: string;
  values?: Float32Array;
  sparseValues?: ParsedSparseValues;
  metadata?: RecordMetadata;
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

export interface SearchOptions {
  /** Namespaces smaller than this are always searched exactly. */
  annMinVectors: number;
  /** Filtered queries whose matching set is at most this many vectors are searched exactly. */
  exactFilterMax: number;
  /** Candidates asked from the ANN index per query at least (re-ranked exactly), before filter oversampling. */
  annCandidates: number;
}
