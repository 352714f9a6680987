// The vector store's internal API, shared by the store (server) and @conifer/store-client (the gateway's side).
import type { IndexSchema } from './control-plane/index-schema.js';
import type { VectorSettings } from './control-plane/vector-settings.js';

/** Header carrying the credential the gateway presents; the store refuses every request without it. */
export const INTERNAL_TOKEN_HEADER = 'x-conifer-internal-token';

/** `PUT /internal/indexes/:indexId` body: what the store needs to create an index. */
export interface IndexSettings extends VectorSettings {
  /**
   * The index's 2026-07 schema in Pinecone's wire shape (`{"fields":{"<name>":{"type":...}}}`), parsed by
   * `parseIndexSchema`. Absent for indexes created without one (every metadata field is then indexed).
   */
  readonly schema?: IndexSchema;
}
