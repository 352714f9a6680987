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
  parseQueryRequest,
  parseUpdateRequest,
  parseUpsertRequest,
  UnauthenticatedError,
  grpcErrorBody,
  type QueryParams,
} from '@conifer/contracts';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { registerDocumentRoutes } from '../documents/documents.routes.js';
import { applySchemaChange, validateIndexSettingsWithSchema } from '../documents/index-settings.js';
import type { DurableIndex } from '../storage/durable-index.js';
import { validateIndexId, type IndexRegistry } from '../storage/index-registry.js';
import { installErrorHandling } from './error-handler.js';
import { INTERNAL_TOKEN_HEADER, InternalTokenVerifier } from './internal-auth.js';
import { StoreMetrics } from './metrics.js';
import * as render from './render.js';
import { cooperativeFilter } from './cooperative-filter.js';
import { ParsePool, parseWorkerPath } from './parse-pool.js';
import { assertQueryCanFit, renderFetchResponse, renderQueryResponse } from './json-response.js';

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
}

type IndexParams = { indexId: string };

export function buildServer(options: ServerOptions): FastifyInstance {
  const { registry } = options;
  const app = Fastify({
    loggerInstance: options.logger as unknown as FastifyBaseLogger,
    bodyLimit: options.maxBodyBytes,
    requestTimeout: options.requestTimeoutMs,
    routerOptions: { ignoreDuplicateSlashes: true, ignoreTrailingSlash: true, maxParamLength: 2048 },
    logController: new LogController({ disableRequestLogging: true }),
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
    if (!verifier.verify(request.headers[INTERNAL_TOKEN_HEADER])) return done(new UnauthenticatedError('missing or invalid internal credential'));
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(request.method, request.routeOptions.url ?? 'unknown', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = registry.loaded && registry.healthy() && (await registry.writable());
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable' });
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
  app.delete<{ Params: IndexParams }>('/internal/indexes/:indexId', async (request) => {
    await registry.delete(validateIndexId(request.params.indexId));
    return {};
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
  app.get('/internal/indexes', async () => ({
    indexes: registry.list().map((i) => ({ indexId: i.id, totalVectorCount: i.index.totalVectorCount })),
  }));

  function indexOf(id: string): DurableIndex {
    validateIndexId(id);
    return registry.get(id);
  }

  // ---------------------------------------------------------------- data plane
  const prefix = '/internal/indexes/:indexId';

  // Upsert bodies are parsed on worker threads when there are any (JSON.parse of number arrays is the
  // ingest bottleneck on the event loop): this route receives the raw bytes.
  const workerFile = (options.parseWorkers ?? 0) > 0 ? parseWorkerPath() : undefined;
  const pool = workerFile === undefined ? undefined : new ParsePool(workerFile, options.parseWorkers!);
  if (pool !== undefined) app.addHook('onClose', async () => pool.close());
  void app.register(async (child) => {
    child.removeAllContentTypeParsers();
    child.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    child.post<{ Params: IndexParams }>(
      `${prefix}/vectors/upsert`,
      { bodyLimit: Math.min(options.maxBodyBytes, DATA_PLANE_LIMITS.maxUpsertBytes) },
      async (request) => {
        const index = indexOf(request.params.indexId);
        const raw = request.body as Buffer | undefined;
        let upsert;
        if (pool !== undefined && raw !== undefined) upsert = await pool.parseUpsert(raw);
        else upsert = parseUpsertRequest(parseJsonBytes(raw));
        await index.mutate(index.index.prepareUpsert(upsert));
        // Counted as sent (a duplicate id within one request counts each time, as at Pinecone).
        return { upsertedCount: upsert.vectors.length };
      },
    );
  });

  // Record-returning routes render their answer straight into a buffer, size-capped (render.ts).
  app.post<{ Params: IndexParams }>(`${prefix}/query`, async (request, reply) => {
    const index = indexOf(request.params.indexId);
    const query = parseQueryRequest(request.body);
    if (query.includeValues) assertQueryCanFit(Math.min(query.topK, liveCount(index, query.namespace)), index.settings.dimension, true);
    if (query.filter !== undefined) query.filter = await cooperativeFilter(index.index, [query.namespace], query.filter);
    const result = index.index.query(query);
    metrics.countQuery(result.plan.plan);
    return reply.type('application/json').send(renderQueryResponse(render.renderQuery(result, { ...query, namespace: echoNamespace(request.body) })));
  });

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

  app.post<{ Params: IndexParams }>(`${prefix}/vectors/update`, async (request) => {
    const index = indexOf(request.params.indexId);
    const update = parseUpdateRequest(request.body);
    if (update.kind === 'filter' && update.dryRun) {
      const filter = await cooperativeFilter(index.index, [update.namespace], update.filter);
      return { matchedRecords: index.index.countMatching(update.namespace, filter) };
    }
    const mutation = index.index.prepareUpdate(update);
    const touched = await index.mutate(mutation);
    return update.kind === 'filter' ? { matchedRecords: touched } : {};
  });

  app.post<{ Params: IndexParams }>(`${prefix}/vectors/delete`, async (request) => {
    const index = indexOf(request.params.indexId);
    await index.mutate(index.index.prepareDelete(parseDeleteRequest(request.body)));
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
  app.post<{ Params: IndexParams }>(`${prefix}/namespaces`, async (request) => {
    const index = indexOf(request.params.indexId);
    const { name, schema } = parseCreateNamespaceRequest(request.body);
    await index.mutate(index.index.prepareCreateNamespace(name, schema));
    return render.renderNamespace(index.index.describeNamespace(name));
  });
  app.get<{ Params: IndexParams & { namespace: string } }>(`${prefix}/namespaces/:namespace`, async (request) => {
    const index = indexOf(request.params.indexId);
    return render.renderNamespace(index.index.describeNamespace(normalizeNamespace(request.params.namespace)));
  });
  app.delete<{ Params: IndexParams & { namespace: string } }>(`${prefix}/namespaces/:namespace`, async (request) => {
    const index = indexOf(request.params.indexId);
    await index.mutate(index.index.prepareDeleteNamespace(normalizeNamespace(request.params.namespace)));
    return {};
  });

  registerDocumentRoutes(app, indexOf, registry.list());

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
