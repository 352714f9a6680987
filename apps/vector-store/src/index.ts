// The vector store's package entry (`@conifer/vector-store`) for tools that run parts of it in-process, such
// as the benchmarks: the HTTP server over a registry of durable indexes, the JetStream hub a replicated registry
// logs through, the log's record encoding, the upsert and query body readers and the query answer printer. The service itself starts from main.ts (`npm start`,
// `node dist/main.js`).
export { buildServer, type ServerOptions } from './api/server.js';
export { DEFAULT_DURABLE_OPTIONS, DurableIndex, type DurableIndexOptions } from './storage/durable-index.js';
export { IndexRegistry, type RegistryOptions } from './storage/index-registry.js';
export { JetStreamHub } from './storage/log/jetstream.js';
export { encodeMutation } from './storage/wal-codec.js';
export { openGraphBytes } from './storage/graph-bytes.js';
export { readUpsertBody, useNativeValuesScan } from './api/upsert-body.js';
export { readQueryBody } from './api/query-body.js';
export { renderQueryResult } from './api/json-response.js';
