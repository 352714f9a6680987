// The data-plane hot path: resolve (project, index) to its node from the in-process route cache, check the
// key's project, index scope and (only for namespace-scoped keys) namespace, then forward the body bytes
// unchanged to /internal/indexes/<indexId><path> over the node's keep-alive pool with the internal credential,
// and pass the store's status and body back unchanged. The answer is streamed: the gateway never holds a large
// body whole (it is read into memory only when a scoped listing must be narrowed or a stale route retried).
// Node down or too slow before answering → 503 {"code":14,...}.
import { Inject, Injectable } from '@nestjs/common';
import type { ConiferConfig } from '@conifer/config';
import type { ForwardRequest, StreamedResponse } from '@conifer/store-client';
import { NotFoundError, UnavailableError } from '@conifer/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Histogram } from 'prom-client';
import { assertIndexInScope, assertNamespaceInScope, namespaceInScope } from '../auth/api-key.guard.js';
import type { ApiKeyPrincipal } from '../auth/principal.js';
import { CONFIG } from '../config/runtime.js';
import { MetricsService } from '../health/metrics.service.js';
import { parseIndexHostHeader, type IndexAddress } from '../indexes/index-host.js';
import { IndexRoutes, type IndexRoute } from '../indexes/index-routes.js';
import { filterNamespaceListing, parseScopedListingQuery, requestedNamespace, scopedListingUpstream, scopedNamespacePage } from './namespace-scope.js';
import type { DataPlaneOperation } from './operations.js';

type Params = Record<string, string | undefined>;
type UpstreamOutcome = 'ok' | 'unavailable' | 'error';

@Injectable()
export class DataPlaneProxy {
  private readonly upstreamDuration: Histogram<'operation' | 'outcome'>;
  private readonly hostSuffix: string | undefined;
  /** Per operation: builds the store-side path from the route's parameters (percent-encoded again). */
  private readonly paths = new Map<DataPlaneOperation, (params: Params) => string>();
  /** Per operation: the upstream histogram's children for ok / unavailable / error (no label object per request). */
  private readonly upstreamTimers = new Map<DataPlaneOperation, Record<UpstreamOutcome, { observe(seconds: number): void }>>();

  constructor(
    @Inject(CONFIG) config: ConiferConfig,
    @Inject(IndexRoutes) private readonly routes: IndexRoutes,
    @Inject(MetricsService) metrics: MetricsService,
  ) {
    this.hostSuffix = config.gateway.indexHostSuffix;
    this.upstreamDuration = new Histogram({
      name: 'conifer_upstream_request_duration_seconds',
      help: 'Gateway to vector-store request duration (until the answer\'s headers; small answers: until their last byte) by data-plane operation and outcome (ok: any HTTP answer)',
      labelNames: ['operation', 'outcome'] as const,
      buckets: [0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30],
      registers: [metrics.registry],
    });
  }

  /** The index a request is for: from the /data/<project>/<index> prefix, else from the Host header. */
  address(request: FastifyRequest): IndexAddress {
    const params = request.params as { projectId?: string; indexName?: string };
    if (params.projectId !== undefined && params.indexName !== undefined) {
      return { projectId: params.projectId, indexName: params.indexName };
    }
    const fromHost = parseIndexHostHeader(request.headers.host, this.hostSuffix);
    if (!fromHost) throw new NotFoundError('Not found');
    return fromHost;
  }

  async forward(caller: ApiKeyPrincipal, operation: DataPlaneOperation, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const { projectId, indexName } = this.address(request);
    // Another project's index is indistinguishable from a missing one.
    if (projectId !== caller.projectId) throw indexNotFound(indexName);
    assertIndexInScope(caller, indexName);
    const scoped = caller.namespaceScope.length > 0;
    if (scoped && operation.namespace !== 'response') {
      assertNamespaceInScope(caller, requestedNamespace(operation.namespace, request));
    }
    // A scoped key's namespace listing is paginated here, over the namespaces it may see.
    const scopedListing = scoped && operation.name === 'list_namespaces' ? parseScopedListingQuery(request.query) : undefined;
    const resolved = this.routes.resolve(projectId, indexName);
    let route = checkRoute(resolved instanceof Promise ? await resolved : resolved, indexName);

    const body = request.body;
    const upstream: ForwardRequest = scopedListing
      ? { ...scopedListingUpstream, requestId: request.id }
      : {
          method: request.method,
          path: this.upstreamPath(operation, request),
          // The data-plane routes keep the received bytes (never parsed, never re-serialised).
          body: Buffer.isBuffer(body) ? body : undefined,
          contentType: request.headers['content-type'],
          requestId: request.id,
        };
    let response = await this.send(route, operation, upstream);
    if (response.status === 404 && operation.namespace !== 'path') {
      // The node no longer has this index id: the cached route is stale (the index was deleted, or deleted and
      // created again, through another replica). Look it up again and retry once if it now lives elsewhere.
      const notFound = await response.bytes();
      this.routes.evict(projectId, indexName);
      const fresh = checkRoute(await this.routes.resolve(projectId, indexName), indexName);
      if (fresh.indexId === route.indexId) {
        void reply.status(404).header('content-type', response.contentType ?? 'application/json').send(notFound);
        return;
      }
      route = fresh;
      response = await this.send(route, operation, upstream);
    }
    reply.status(response.status).header('content-type', response.contentType ?? 'application/json');
    if (scoped && operation.namespace === 'response' && response.status === 200) {
      const allowed = (namespace: string) => namespaceInScope(caller, namespace);
      const bytes = await response.bytes();
      const narrowed = scopedListing ? scopedNamespacePage(scopedListing, allowed, bytes) : filterNamespaceListing(operation.name, allowed, bytes);
      void reply.send(narrowed);
      return;
    }
    if (response.whole !== undefined) {
      // Small answers (almost all of them) arrive whole from the store client and are written at once.
      void reply.send(response.whole);
      return;
    }
    if (response.contentLength !== undefined) reply.header('content-length', response.contentLength);
    void reply.send(response.body);
  }

  private async send(route: IndexRoute, operation: DataPlaneOperation, upstream: ForwardRequest): Promise<StreamedResponse> {
    const started = process.hrtime.bigint();
    let outcome: UpstreamOutcome = 'ok';
    try {
      return await route.node.client.forwardStreaming(route.indexId, upstream);
    } catch (error) {
      outcome = error instanceof UnavailableError ? 'unavailable' : 'error';
      throw error;
    } finally {
      let timers = this.upstreamTimers.get(operation);
      if (timers === undefined) {
        const name = operation.name;
        timers = {
          ok: this.upstreamDuration.labels(name, 'ok'),
          unavailable: this.upstreamDuration.labels(name, 'unavailable'),
          error: this.upstreamDuration.labels(name, 'error'),
        };
        this.upstreamTimers.set(operation, timers);
      }
      timers[outcome].observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private upstreamPath(operation: DataPlaneOperation, request: FastifyRequest): string {
    const queryAt = request.url.indexOf('?');
    const query = queryAt === -1 ? '' : request.url.slice(queryAt);
    let build = this.paths.get(operation);
    if (build === undefined) {
      build = pathBuilder(operation.route);
      this.paths.set(operation, build);
    }
    return build(request.params as Params) + query;
  }
}

/** '/namespaces/:namespace' → (params) => '/namespaces/' + encodeURIComponent(params.namespace). */
function pathBuilder(route: string): (params: Params) => string {
  const parts = route.split('/').map((segment) => (segment.startsWith(':') ? { param: segment.slice(1) } : { text: segment }));
  if (parts.every((part) => 'text' in part)) return () => route;
  return (params) => parts.map((part) => ('text' in part ? part.text : encodeURIComponent(params[part.param!] ?? ''))).join('/');
}

function checkRoute(route: IndexRoute | null, indexName: string): IndexRoute {
  if (!route || route.state === 'Terminating' || route.state === 'InitializationFailed') throw indexNotFound(indexName);
  if (route.state !== 'Ready') throw new UnavailableError(`Index ${indexName} is not ready yet; try again shortly`);
  return route;
}

function indexNotFound(name: string): NotFoundError {
  return new NotFoundError(`Index ${name} not found`);
}
