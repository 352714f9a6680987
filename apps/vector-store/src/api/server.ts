// The vector store's HTTP server: plain Fastify, thin routes over the engine (DESIGN.md §4 under
// /internal/indexes/:indexId, plus the index administration used by the gateway).
import {
  answerClientError,
  DATA_PLANE_LIMITS,
  frameworkError,
  InvalidArgumentError,
  normalizeNamespace,
  parseCreateNamespaceRequest,
  parseDeleteRequest,
  parseDescribeIndexStatsRequest,
  parseFetchByMetadataRequest,
  parseFetchQuery,
  parseJsonBytes,
  parseListNamespacesQuery,
  parseListQuery,
  parseUpdateRequest,
  UnauthenticatedError,
  UnavailableError,
  grpcErrorBody,
  type QueryParams,
} from '@conifer/contracts';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { registerDocumentRoutes } from '../documents/documents.routes.js';
import { applySchemaChange, validateIndexSettingsWithSchema } from '../documents/index-settings.js';
import type { DurableIndex } from '../storage/durable-index.js';
import type { JetStreamIndexLog } from '../storage/log/jetstream.js';
import { validateIndexId, type IndexRegistry } from '../storage/index-registry.js';
import { installErrorHandling } from './error-handler.js';
import { listenForFrames } from './frame-listener.js';
import { INTERNAL_TOKEN_HEADER, InternalTokenVerifier } from './internal-auth.js';
import { LazyRequestLogger } from './request-logger.js';
import { StoreMetrics } from './metrics.js';
import * as render from './render.js';
import { cooperativeFilter } from './cooperative-filter.js';
import { cooperativeTailScan } from './cooperative-scan.js';
import { ParsePool, parseWorkerPath } from './parse-pool.js';
import { BodyBuffers, readBodyInto } from './body-buffers.js';
import { releaseFreeMemory } from '../storage/collect-garbage.js';
import { readUpsertBody } from './upsert-body.js';
import { readQueryBody } from './query-body.js';
import { assertQueryCanFit, renderFetchResponse, renderQueryResult } from './json-response.js';

export interface ServerOptions {
  registry: IndexRegistry;
  internalToken: string;
  maxBodyBytes: number;
  logger: Logger;
  defaultMetrics?: boolean;
  /** Whole-request receive deadline (0: none). */
  requestTimeoutMs?: number;
  /** Worker threads parsing upsert bodies (0: parse on the event loop). */
  parseWorkers?: number;
  /** How long a read asking for a sequence this replica has not applied waits (X-Conifer-Min-Seq). */
  readWaitMs?: number;
  /** This node's name in status answers. */
  nodeId?: string;
}

/** Request header: the log sequence a read must see (read-your-writes across replicas). */
const MIN_SEQ_HEADER = 'x-conifer-min-seq';
/** Response header on writes: the log sequence of the write. */
const LOG_SEQ_HEADER = 'x-conifer-log-seq';
/** Response header on everything under an index: the sequence this replica had applied when the request ran. */
const APPLIED_SEQ_HEADER = 'x-conifer-applied-seq';

type IndexParams = { indexId: string };

export function buildServer(options: ServerOptions): FastifyInstance {
  const { registry } = options;
  const app = Fastify({
    loggerInstance: options.logger as unknown as FastifyBaseLogger,
    bodyLimit: options.maxBodyBytes,
    requestTimeout: options.requestTimeoutMs,
    routerOptions: { ignoreDuplicateSlashes: true, ignoreTrailingSlash: true, maxParamLength: 2048 },
    logController: new LogController({ disableRequestLogging: true }),
    // The per-request child logger is made only if the request logs (request-logger.ts).
    childLoggerFactory: (logger, bindings, options) => new LazyRequestLogger(logger, bindings, options) as unknown as FastifyBaseLogger,
    // Errors Fastify and Node answer before any route runs, in the gRPC-style shape too.
    frameworkErrors: (error, _request, reply) => {
      const conifer = frameworkError(error.code);
      const raw = reply as unknown as { code(status: number): { type(t: string): { send(body: string): unknown } } };
      void raw.code(conifer.httpStatus).type('application/json').send(JSON.stringify(grpcErrorBody(conifer)));
    },
    clientErrorHandler: (error, socket) => answerClientError(error, socket, (conifer) => grpcErrorBody(conifer)),
  });
  const verifier = new InternalTokenVerifier(options.internalToken);
  const metrics = new StoreMetrics(registry, options.defaultMetrics ?? false);
  app.addHook('onClose', (_app, done) => {
    metrics.close();
    done();
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    let value: unknown;
    try {
      value = parseJsonBytes(body as Buffer);
    } catch (error) {
      return done(error as Error, undefined);
    }
    done(null, value);
  });
  installErrorHandling(app);

  // Callback-style hooks (no promise per request): they run on every request.
  app.addHook('onRequest', (request, _reply, done) => {
    const url = request.url;
    if (url === '/healthz' || url === '/readyz' || url.startsWith('/healthz?') || url.startsWith('/readyz?')) return done();
    if (!verifier.verifyRequest(request.raw, request.headers[INTERNAL_TOKEN_HEADER])) return done(new UnauthenticatedError('missing or invalid internal credential'));
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(request.method, request.routeOptions.url ?? 'unknown', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  // Replication: every answer about an index says how far this replica had applied its log when the
  // request ran (a lower bound of what a read saw); a request asking for a later sequence waits for it,
  // bounded, then is refused with 503 so that the gateway tries another replica.
  const readWaitMs = options.readWaitMs ?? 2000;
  app.addHook('preHandler', (request, reply, done) => {
    const id = (request.params as { indexId?: string } | undefined)?.indexId;
    if (id === undefined || !registry.has(id)) return done();
    const log = registry.get(id).log;
    const raw = request.headers[MIN_SEQ_HEADER];
    if (raw === undefined) {
      void reply.header(APPLIED_SEQ_HEADER, String(log.appliedSeq));
      return done();
    }
    const text = Array.isArray(raw) ? raw[raw.length - 1]! : raw;
    if (!/^\d{1,15}$/.test(text.trim())) return done(new InvalidArgumentError(`${MIN_SEQ_HEADER} must be a non-negative integer`));
    const wanted = Number(text.trim());
    const answer = (ok: boolean): void => {
      void reply.header(APPLIED_SEQ_HEADER, String(log.appliedSeq));
      if (ok) done();
      else done(new UnavailableError(`this replica is behind: it has applied log sequence ${log.appliedSeq} and the request needs ${wanted}; retry on another replica`));
    };
    if (log.appliedSeq >= wanted) return answer(true);
    void log.waitApplied(wanted, readWaitMs).then(answer);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = registry.loaded && registry.healthy() && (await registry.writable());
    const log = registry.hub === undefined ? 'local' : 'jetstream';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', log, ...(registry.hub === undefined ? {} : { natsConnected: registry.hub.connected }) });
  });
  app.get('/metrics', async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });

  // ---------------------------------------------------------------- index administration
  app.put<{ Params: IndexParams }>('/internal/indexes/:indexId', async (request, reply) => {
    const id = validateIndexId(request.params.indexId);
    const settings = validateIndexSettingsWithSchema(request.body);
    const { index, created } = await registry.create(id, settings);
    await applySchemaChange(index, settings.schema);
    return reply.code(created ? 201 : 200).send({ indexId: id, ready: true });
  });
  app.delete<{ Params: IndexParams; Querystring: { purge?: string } }>('/internal/indexes/:indexId', async (request) => {
    const purge = request.query.purge;
    if (purge !== undefined && purge !== 'true' && purge !== 'false') throw new InvalidArgumentError('purge must be true or false');
    await registry.delete(validateIndexId(request.params.indexId), purge === 'true');
    return {};
  });
  // Takes a snapshot now (and, on a replicated node, uploads it and trims the log below the oldest kept).
  app.post<{ Params: IndexParams }>('/internal/indexes/:indexId/snapshot', async (request) => {
    const index = indexOf(request.params.indexId);
    if (index.log.kind === 'jetstream') {
      const position = await (index.log as JetStreamIndexLog).snapshot();
      return { indexId: index.id, position: position ?? index.log.appliedSeq };
    }
    await index.snapshot();
    return { indexId: index.id };
  });
  app.get<{ Params: IndexParams }>('/internal/indexes/:indexId', async (request) => {
    const index = indexOf(request.params.indexId);
    const s = index.settings;
    return {
      indexId: index.id,
      dimension: s.dimension,
      metric: s.metric,
      vectorType: s.vectorType,
      ...(s.schema === undefined ? {} : { schema: s.schema }),
      totalVectorCount: index.index.totalVectorCount,
    };
  });
  const nodeId = options.nodeId;
  app.get('/internal/indexes', async () => ({
    log: registry.hub === undefined ? 'local' : 'jetstream',
    ...(nodeId === undefined ? {} : { nodeId }),
    ...(registry.hub === undefined ? {} : { natsConnected: registry.hub.connected }),
    indexes: registry.list().map((i) => ({
      indexId: i.id,
      id: i.id,
      totalVectorCount: i.index.totalVectorCount,
      appliedSeq: i.log.appliedSeq,
      ...(i.log.lastSeq === undefined ? {} : { lastSeq: i.log.lastSeq }),
      state: i.log.state,
    })),
  }));

  function indexOf(id: string): DurableIndex {
    validateIndexId(id);
    return registry.get(id);
  }

  // ---------------------------------------------------------------- data plane
  const prefix = '/internal/indexes/:indexId';

  // Upsert bodies are read from the raw bytes (upsert-body.ts: values scanned straight into float32), on
  // worker threads when there are any: these routes receive the raw bytes.
  const workerFile = (options.parseWorkers ?? 0) > 0 ? parseWorkerPath() : undefined;
  const pool = workerFile === undefined ? undefined : new ParsePool(workerFile, options.parseWorkers!);
  if (pool !== undefined) app.addHook('onClose', async () => pool.close());
  void app.register(async (child) => {
    child.removeAllContentTypeParsers();
    child.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    // Upsert bodies go into reused buffers (body-buffers.ts), given back once read.
    // When upserts stop: one full collection. The store's old-generation floor (malloc-threshold.ts) lets V8
    // go long between full collections, and what an ingest left (its values arrays, the free list's buffers)
    // stayed resident until the next one: 300k × 128 read 1.03–1.15× raw RssAnon after the ingest instead of
    // 0.8× (bench/RESULTS.md, session 11).
    const bodies = new BodyBuffers({ onIdle: () => void releaseFreeMemory() });
    const upsertLimit = Math.min(options.maxBodyBytes, DATA_PLANE_LIMITS.maxUpsertBytes);
    void child.register(async (upserts) => {
      upserts.removeAllContentTypeParsers();
      upserts.addContentTypeParser('application/json', (request, payload, done) =>
        readBodyInto(bodies, payload, request.headers['content-length'], upsertLimit, done as (error: Error | null, body?: Buffer) => void),
      );
      upserts.post<{ Params: IndexParams }>(`${prefix}/vectors/upsert`, { bodyLimit: upsertLimit }, async (request, reply) => {
        const index = indexOf(request.params.indexId);
        const raw = request.body as Buffer | undefined;
        let upsert;
        if (pool !== undefined && raw !== undefined) upsert = await pool.parseUpsert(raw, bodies);
        else {
          try {
            upsert = readUpsertBody(raw).request;
          } finally {
            // Read whole: the request views none of its bytes.
            if (raw !== undefined) bodies.give(raw.buffer as ArrayBuffer);
          }
        }
        const { seq } = await index.write(index.index.prepareUpsert(upsert));
        // Logged and applied: the values' buffer goes back to its parse worker for a later body.
        pool?.recycle(upsert);
        void reply.header(LOG_SEQ_HEADER, String(seq));
        // Counted as sent (a duplicate id within one request counts each time, as at Pinecone).
        return { upsertedCount: upsert.vectors.length };
      });
    });
    // Query bodies too are read from the bytes (query-body.ts: the vector scanned straight into float32), and
    // the answer is printed straight into its buffer (json-response.ts), capped at Pinecone's result size.
    child.post<{ Params: IndexParams }>(`${prefix}/query`, async (request, reply) => {
      const index = indexOf(request.params.indexId);
      const { request: query, body } = readQueryBody(request.body as Buffer | undefined);
      if (query.includeValues) assertQueryCanFit(Math.min(query.topK, liveCount(index, query.namespace)), index.settings.dimension, true);
      if (query.filter !== undefined) query.filter = await cooperativeFilter(index.index, [query.namespace], query.filter);
      const result = index.index.query(query, await cooperativeTailScan(index.index, query));
      metrics.countQuery(result.plan.plan);
      return reply.type('application/json').send(renderQueryResult(result, query, echoNamespace(body)));
    });
  });

  // Record-returning routes render their answer straight into a buffer, size-capped (json-response.ts).

  app.get<{ Params: IndexParams; Querystring: QueryParams }>(`${prefix}/vectors/fetch`, async (request, reply) => {
    const index = indexOf(request.params.indexId);
    const fetch = parseFetchQuery(request.query);
    return reply.type('application/json').send(renderFetchResponse(render.renderFetch(index.index.fetch(fetch), echoNamespace(request.query), fetch.ids.length)));
  });

  app.post<{ Params: IndexParams }>(`${prefix}/vectors/fetch_by_metadata`, async (request, reply) => {
    const index = indexOf(request.params.indexId);
    const fetch = parseFetchByMetadataRequest(request.body);
    if (fetch.filter !== undefined) fetch.filter = await cooperativeFilter(index.index, [fetch.namespace], fetch.filter);
    const page = index.index.fetchByMetadata(render.fetchByMetadataInput(fetch));
    return reply.type('application/json').send(renderFetchResponse(render.renderFetchByMetadata(page, echoNamespace(request.body))));
  });

  app.post<{ Params: IndexParams }>(`${prefix}/vectors/update`, async (request, reply) => {
    const index = indexOf(request.params.indexId);
    const update = parseUpdateRequest(request.body);
    if (update.kind === 'filter' && update.dryRun) {
      const filter = await cooperativeFilter(index.index, [update.namespace], update.filter);
      return { matchedRecords: index.index.countMatching(update.namespace, filter) };
    }
    const mutation = index.index.prepareUpdate(update);
    const { seq, touched } = await index.write(mutation);
    void reply.header(LOG_SEQ_HEADER, String(seq));
    return update.kind === 'filter' ? { matchedRecords: touched } : {};
  });

  app.post<{ Params: IndexParams }>(`${prefix}/vectors/delete`, async (request, reply) => {
    const index = indexOf(request.params.indexId);
    const { seq } = await index.write(index.index.prepareDelete(parseDeleteRequest(request.body)));
    void reply.header(LOG_SEQ_HEADER, String(seq));
    return {};
  });

  app.get<{ Params: IndexParams; Querystring: QueryParams }>(`${prefix}/vectors/list`, async (request) => {
    const index = indexOf(request.params.indexId);
    const page = index.index.list(render.listInput(parseListQuery(request.query)));
    return render.renderList(page, echoNamespace(request.query));
  });

  const stats = async (request: { params: IndexParams; body: unknown }) => {
    const index = indexOf(request.params.indexId);
    const filter = await cooperativeFilter(index.index, undefined, parseDescribeIndexStatsRequest(request.body).filter);
    return render.renderStats(index.index.describeStats(filter), index.settings);
  };
  app.post<{ Params: IndexParams }>(`${prefix}/describe_index_stats`, stats);
  app.get<{ Params: IndexParams }>(`${prefix}/describe_index_stats`, async (request) => stats({ params: request.params, body: undefined }));

  app.get<{ Params: IndexParams; Querystring: QueryParams }>(`${prefix}/namespaces`, async (request) => {
    const index = indexOf(request.params.indexId);
    return render.renderListNamespaces(index.index.listNamespaces(), parseListNamespacesQuery(request.query));
  });
  app.post<{ Params: IndexParams }>(`${prefix}/namespaces`, async (request, reply) => {
    const index = indexOf(request.params.indexId);
    const { name, schema } = parseCreateNamespaceRequest(request.body);
    const { seq } = await index.write(index.index.prepareCreateNamespace(name, schema));
    void reply.header(LOG_SEQ_HEADER, String(seq));
    return render.renderNamespace(index.index.describeNamespace(name));
  });
  app.get<{ Params: IndexParams & { namespace: string } }>(`${prefix}/namespaces/:namespace`, async (request) => {
    const index = indexOf(request.params.indexId);
    return render.renderNamespace(index.index.describeNamespace(normalizeNamespace(request.params.namespace)));
  });
  app.delete<{ Params: IndexParams & { namespace: string } }>(`${prefix}/namespaces/:namespace`, async (request, reply) => {
    const index = indexOf(request.params.indexId);
    const { seq } = await index.write(index.index.prepareDeleteNamespace(normalizeNamespace(request.params.namespace)));
    void reply.header(LOG_SEQ_HEADER, String(seq));
    return {};
  });

  registerDocumentRoutes(app, indexOf, registry.list());

  // The framed internal protocol (an HTTP Upgrade on the same listeners): its requests go through the same router.
  const frames = listenForFrames(app.server, (request, response) => app.routing(request, response), verifier, options.logger);
  metrics.watchFramedConnections(() => frames.connections);
  app.addHook('preClose', (done) => {
    frames.drain();
    done();
  });

  return app;
}

/** Live records in a namespace (0 when it does not exist). */
function liveCount(index: DurableIndex, namespace: string): number {
  try {
    return index.index.describeNamespace(namespace).recordCount;
  } catch {
    return 0;
  }
}

/** The namespace as the client named it ("" when it sent none). */
function echoNamespace(source: unknown): string {
  if (typeof source !== 'object' || source === null) return '';
  const ns = (source as Record<string, unknown>).namespace;
  if (Array.isArray(ns)) return String(ns[ns.length - 1] ?? '');
  return typeof ns === 'string' ? ns : '';
}
