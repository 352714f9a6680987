// The data-plane hot path: resolve (project, index) to its node from the in-process route cache, check the
// key's project, index scope and (only for namespace-scoped keys) namespace, then forward the body bytes
// unchanged to /internal/indexes/<indexId><path> over the node's keep-alive pool with the internal credential,
// and pass the store's status and body back unchanged. Node down or too slow → 503 {"code":14,...}.
import { Inject, Injectable } from '@nestjs/common';
import type { ConiferConfig } from '@conifer/config';
import type { ForwardRequest, ForwardResponse } from '@conifer/store-client';
import { NotFoundError, UnavailableError } from '@conifer/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Histogram } from 'prom-client';
import { assertIndexInScope, assertNamespaceInScope, namespaceInScope } from '../auth/api-key.guard.js';
import type { ApiKeyPrincipal } from '../auth/principal.js';
import { CONFIG } from '../config/runtime.js';
import { MetricsService } from '../health/metrics.service.js';
import { parseIndexHostHeader, type IndexAddress } from '../indexes/index-host.js';
import { IndexRoutes, type IndexRoute } from '../indexes/index-routes.js';
import { filterNamespaceListing, requestedNamespace } from './namespace-scope.js';
import type { DataPlaneOperation } from './operations.js';

@Injectable()
export class DataPlaneProxy {
  private readonly upstreamDuration: Histogram<'operation' | 'outcome'>;
  private readonly hostSuffix: string | undefined;

  constructor(
    @Inject(CONFIG) config: ConiferConfig,
    @Inject(IndexRoutes) private readonly routes: IndexRoutes,
    @Inject(MetricsService) metrics: MetricsService,
  ) {
    this.hostSuffix = config.gateway.indexHostSuffix;
    this.upstreamDuration = new Histogram({
      name: 'conifer_upstream_request_duration_seconds',
      help: 'Gateway to vector-store request duration by data-plane operation and outcome (ok: any HTTP answer)',
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
    const resolved = this.routes.resolve(projectId, indexName);
    let route = checkRoute(resolved instanceof Promise ? await resolved : resolved, indexName);

    const upstream: ForwardRequest = {
      method: request.method,
      path: this.upstreamPath(operation, request),
      body: bodyBytes(request.body),
      contentType: request.headers['content-type'],
      requestId: request.id,
    };
    let response = await this.send(route, operation, upstream);
    if (response.status === 404 && operation.namespace !== 'path') {
      // The node no longer has this index id: the cached route is stale (the index was deleted, or deleted and
      // created again, through another replica). Look it up again and retry once if it now lives elsewhere.
      this.routes.evict(projectId, indexName);
      const fresh = checkRoute(await this.routes.resolve(projectId, indexName), indexName);
      if (fresh.indexId !== route.indexId) {
        route = fresh;
        response = await this.send(route, operation, upstream);
      }
    }
    let body = response.body;
    if (scoped && operation.namespace === 'response' && response.status === 200) {
      body = filterNamespaceListing(operation.name, (namespace) => namespaceInScope(caller, namespace), body);
    }
    void reply
      .status(response.status)
      .header('content-type', response.contentType ?? 'application/json')
      .send(body);
  }

  private async send(route: IndexRoute, operation: DataPlaneOperation, upstream: ForwardRequest): Promise<ForwardResponse> {
    const started = process.hrtime.bigint();
    let outcome = 'ok';
    try {
      return await route.node.client.forward(route.indexId, upstream);
    } catch (error) {
      outcome = error instanceof UnavailableError ? 'unavailable' : 'error';
      throw error;
    } finally {
      this.upstreamDuration.observe({ operation: operation.name, outcome }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private upstreamPath(operation: DataPlaneOperation, request: FastifyRequest): string {
    const queryAt = request.url.indexOf('?');
    const query = queryAt === -1 ? '' : request.url.slice(queryAt);
    if (operation.namespace === 'path') {
      const namespace = (request.params as { namespace: string }).namespace;
      return `${operation.path}/${encodeURIComponent(namespace)}${operation.pathSuffix ?? ''}${query}`;
    }
    return `${operation.path}${query}`;
  }
}

function checkRoute(route: IndexRoute | null, indexName: string): IndexRoute {
  if (!route || route.state === 'Terminating' || route.state === 'InitializationFailed') throw indexNotFound(indexName);
  if (route.state !== 'Ready') throw new UnavailableError(`Index ${indexName} is not ready yet; try again shortly`);
  return route;
}

function indexNotFound(name: string): NotFoundError {
  return new NotFoundError(`Index ${name} not found`);
}

/** The bytes as received (the data-plane JSON parser keeps them); anything else is re-serialised. */
function bodyBytes(body: unknown): Buffer | string | undefined {
  if (body === undefined || body === null) return undefined;
  if (Buffer.isBuffer(body) || typeof body === 'string') return body;
  return JSON.stringify(body);
}
