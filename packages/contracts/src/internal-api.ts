// The vector store's internal API, shared by the store (server) and @conifer/store-client (the gateway's side).

/** Header carrying the credential the gateway presents; the store refuses every request without it. */
export const INTERNAL_TOKEN_HEADER = 'x-conifer-internal-token';

export type IndexMetric = 'cosine' | 'euclidean' | 'dotproduct';
export type VectorType = 'dense' | 'sparse';

/** `PUT /internal/indexes/:indexId` body: what the store needs to create an index. */
export interface IndexSettings {
  /** null for sparse indexes. */
  readonly dimension: number | null;
  readonly metric: IndexMetric;
  readonly vectorType: VectorType;
  /** The 2026-07 index schema in its wire shape (snake_case), when the index was given one. */
  readonly schema?: IndexSchemaWire;
}

/** `{"fields":{"<name>":{"type":"string","full_text_search":{…}},…}}` exactly as on Pinecone's wire. */
export interface IndexSchemaWire {
  readonly fields: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}
