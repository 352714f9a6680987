// The vector store's package entry (`@conifer/vector-store`) for tools that run parts of it in-process, such
// as the benchmarks: the HTTP server over a registry of durable indexes. The service itself starts from
// main.ts (`npm start`, `node dist/main.js`).
export { buildServer, type ServerOptions } from './api/server.js';
export { DEFAULT_DURABLE_OPTIONS, DurableIndex, type DurableIndexOptions } from './storage/durable-index.js';
export { IndexRegistry, type RegistryOptions } from './storage/index-registry.js';
