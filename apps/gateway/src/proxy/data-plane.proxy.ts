// The data-plane hot path: resolve (project, index) to its node from the in-process route cache, check the
// key's project, index scope and (only for namespace-scoped keys) namespace, then forward the body bytes
// unchanged to /internal/indexes/<indexId><path> over the node's keep-alive pool with the internal credential,
// and pass the store's status and body back unchanged. The answer is streamed: the gateway never holds a large
// body whole (it is read into memory only when a scoped listing must be narrowed or a stale route retried).
// Node down or too slow before answering → 503 {"code":14,...}.
//
// An index with several replicas (issue 17, docs/REPLICATION.md): a write goes to one live replica (round-robin) and
// is retried on another only when the connection was refused (it provably never arrived); a read goes to the
// live replica that is caught up, with the fewest requests in flight, and is retried once on another replica
// after a connection failure, a time-out or a 503. Read-your-writes: the gateway remembers, per (API key,
// index), the highest X-Conifer-Log-Seq a write answered and sends it as X-Conifer-Min-Seq on that key's reads
// (a replica behind it waits, bounded, or answers 503 and the read moves on); clients see X-Conifer-Log-Seq
// and may send X-Conifer-Min-Seq themselves, which carries read-your-writes across gateway replicas. An index
// with one replica takes the plain path: no replica choice, no extra await or allocation.
import { Inject, Injectable } from '@nestjs/common';
import type { ConiferConfig } from '@conifer/config';
import { LOG_SEQ_HEADER, MIN_SEQ_HEADER, type ForwardRequest, type StreamedResponse } from '@conifer/store-client';
import { InvalidArgumentError, NotFoundError, UnavailableError } from '@conifer/contracts';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { Histogram } from 'prom-client';
import { assertIndexInScope, assertNamespaceInScope, namespaceInScope } from '../auth/api-key.guard.js';
import type { ApiKeyPrincipal } from '../auth/principal.js';
import { CONFIG } from '../config/runtime.js';
import { MetricsService } from '../health/metrics.service.js';
import { parseIndexHostHeader, type IndexAddress } from '../indexes/index-host.js';
import { IndexRoutes, type IndexRoute } from '../indexes/index-routes.js';
import { VectorStoreNodes, type StoreNode } from '../indexes/vector-store-nodes.service.js';
import { filterNamespaceListing, parseScopedListingQuery, requestedNamespace, scopedListingUpstream, scopedNamespacePage } from './namespace-scope.js';
import type { DataPlaneOperation } from './operations.js';

type Params = Record<string, string | undefined>;

/** What the proxy reads of a data-plane request: a FastifyRequest has these, and so has the front path's call. */
export interface DataPlaneCall {
  readonly method: string;
  /** The URL as received (the query string is forwarded as it is). */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** projectId and indexName under /data/<project>/<index> (absent on an index host), and the route's own. */
  readonly params: Params;
  /** The parsed query string (read only for a namespace-scoped key). */
  readonly query: unknown;
  /** The received bytes (a Buffer), or undefined for a request without a body. */
  readonly body: unknown;
  /** The same bytes in the pieces they were received in, when there were several (forwarded without joining them). */
  readonly bodyParts?: readonly Buffer[];
  readonly id: string;
}

/** The answer to pass on: the store client's own StreamedResponse, or one made here (narrowed listing, stale 404). */
export type DataPlaneAnswer = Pick<StreamedResponse, 'status' | 'contentType' | 'contentLength' | 'logSeq' | 'whole' | 'body'>;

function wholeAnswer(status: number, contentType: string | undefined, logSeq: string | undefined, whole: Buffer): DataPlaneAnswer {
  return {
    status,
    contentType,
    contentLength: whole.length,
    logSeq,
    whole,
    get body(): Readable {
      return Readable.from([whole]);
    },
  };
}
type UpstreamOutcome = 'ok' | 'unavailable' | 'error';

const SEQUENCE = /^\d{1,15}$/;
/** Bound of the remembered (API key, index) → log sequence entries (cleared when reached: the client's header remains). */
const MAX_REMEMBERED = 100_000;

@Injectable()
export class DataPlaneProxy {
  private readonly upstreamDuration: Histogram<'operation' | 'outcome'>;
  private readonly hostSuffix: string | undefined;
  private readonly replicaReadTimeoutMs: number;
  /** Per operation: builds the store-side path from the route's parameters (percent-encoded again). */
  private readonly paths = new Map<DataPlaneOperation, (params: Params) => string>();
  /** Per operation: the upstream histogram's children for ok / unavailable / error (no label object per request). */
  private readonly upstreamTimers = new Map<DataPlaneOperation, Record<UpstreamOutcome, { observe(seconds: number): void }>>();
  /** Per API key and replicated index: the highest log sequence a write of that key was answered with. */
  private readonly written = new Map<string, number>();
  /** Rotates the starting replica, so that ties (and writes) spread round-robin. */
  private turn = 0;

  constructor(
    @Inject(CONFIG) config: ConiferConfig,
    @Inject(IndexRoutes) private readonly routes: IndexRoutes,
    @Inject(MetricsService) metrics: MetricsService,
    @Inject(VectorStoreNodes) private readonly nodes: VectorStoreNodes,
  ) {
    this.hostSuffix = config.gateway.indexHostSuffix;
    this.replicaReadTimeoutMs = config.gateway.replicaReadTimeoutMs;
    this.upstreamDuration = new Histogram({
      name: 'conifer_upstream_request_duration_seconds',
      help: 'Gateway to vector-store request duration (until the answer\'s headers; small answers: until their last byte) by data-plane operation and outcome (ok: any HTTP answer)',
      labelNames: ['operation', 'outcome'] as const,
      buckets: [0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30],
      registers: [metrics.registry],
    });
  }

  /** The index a request is for: from the /data/<project>/<index> prefix, else from the Host header. */
  address(request: DataPlaneCall): IndexAddress {
    const params = request.params as { projectId?: string; indexName?: string };
    if (params.projectId !== undefined && params.indexName !== undefined) {
      return { projectId: params.projectId, indexName: params.indexName };
    }
    const fromHost = parseIndexHostHeader(request.headers.host, this.hostSuffix);
    if (!fromHost) throw new NotFoundError('Not found');
    return fromHost;
  }

  /**
   * Forwards one data-plane request and returns the store's answer to pass on (status, content type, log
   * sequence, body whole or streaming); the caller writes it (a Fastify reply, or the raw response of the front
   * path, data-plane.front.ts). Refusals (scope, missing index, store down) are thrown as ConiferErrors.
   */
  async forward(caller: ApiKeyPrincipal, operation: DataPlaneOperation, request: DataPlaneCall): Promise<DataPlaneAnswer> {
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
    const clientMinSeq = request.headers[MIN_SEQ_HEADER];
    if (clientMinSeq !== undefined && (typeof clientMinSeq !== 'string' || !SEQUENCE.test(clientMinSeq))) {
      throw new InvalidArgumentError(`${MIN_SEQ_HEADER} must be a log sequence number (decimal digits), as returned in ${LOG_SEQ_HEADER}`);
    }

    // The pieces as received when there are several (read first: `body` would join them).
    const body = request.bodyParts ?? request.body;
    const upstream: ForwardRequest = scopedListing
      ? { ...scopedListingUpstream, requestId: request.id, minSeq: clientMinSeq }
      : {
          method: request.method,
          path: this.upstreamPath(operation, request),
          // The data-plane routes keep the received bytes (never parsed, never re-serialised).
          body: Buffer.isBuffer(body) || Array.isArray(body) ? (body as Buffer | readonly Buffer[]) : undefined,
          contentType: request.headers['content-type'],
          requestId: request.id,
          minSeq: clientMinSeq,
        };
    let response = await this.dispatch(caller, route, operation, upstream);
    if (response.status === 404 && operation.namespace !== 'path') {
      // The node no longer has this index id: the cached route is stale (the index was deleted, or deleted and
      // created again, through another replica). Look it up again and retry once if it now lives elsewhere.
      const notFound = await response.bytes();
      this.routes.evict(projectId, indexName);
      const fresh = checkRoute(await this.routes.resolve(projectId, indexName), indexName);
      if (fresh.indexId === route.indexId) return wholeAnswer(404, response.contentType, undefined, notFound);
      route = fresh;
      response = await this.dispatch(caller, route, operation, upstream);
    }
    if (scoped && operation.namespace === 'response' && response.status === 200) {
      const allowed = (namespace: string) => namespaceInScope(caller, namespace);
      const bytes = await response.bytes();
      const narrowed = scopedListing ? scopedNamespacePage(scopedListing, allowed, bytes) : filterNamespaceListing(operation.name, allowed, bytes);
      return wholeAnswer(200, response.contentType, response.logSeq, narrowed);
    }
    // The store client's answer as it is (no copy): small answers arrive whole, larger ones stream.
    return response;
  }

  /** One replica: the plain forward (no replica choice, no extra allocation); several: `replicated`. */
  private dispatch(caller: ApiKeyPrincipal, route: IndexRoute, operation: DataPlaneOperation, upstream: ForwardRequest): Promise<StreamedResponse> {
    return route.replicas.length === 1 ? this.send(route.node, route, operation, upstream) : this.replicated(caller, route, operation, upstream);
  }

  /** A request to an index with several replicas: the replica choice, the one retry, read-your-writes. */
  async replicated(caller: ApiKeyPrincipal, route: IndexRoute, operation: DataPlaneOperation, upstream: ForwardRequest): Promise<StreamedResponse> {
    const write = operation.permission === 'data:write';
    const key = `${caller.apiKeyId}/${route.indexId}`;
    let request = upstream;
    let minSeq: number | undefined;
    if (!write) {
      const remembered = this.written.get(key);
      const asked = upstream.minSeq === undefined ? undefined : Number(upstream.minSeq);
      minSeq = remembered === undefined ? asked : asked === undefined ? remembered : Math.max(asked, remembered);
      if (minSeq !== undefined && minSeq !== asked) request = { ...upstream, minSeq: String(minSeq) };
    } else if (upstream.minSeq !== undefined) {
      request = { ...upstream, minSeq: undefined };
    }
    const first = chooseReplica(route, write, minSeq, undefined, this.turn++);
    if (!first) throw new UnavailableError('No replica of this index is available; try again shortly');
    let response: StreamedResponse;
    try {
      // A read's first replica gets the shorter time-out: another replica can answer if it hangs.
      response = await this.send(first, route, operation, write ? request : { ...request, headersTimeoutMs: this.replicaReadTimeoutMs });
    } catch (error) {
      const refused = connectionRefused(error);
      if (refused || connectionBroken(error)) this.nodes.markDown(first.id);
      // A write that may have reached its replica is not sent again (it could be applied twice).
      if (write && !refused) throw error;
      const second = chooseReplica(route, write, minSeq, first, this.turn++);
      if (!second) throw error;
      response = await this.send(second, route, operation, request);
    }
    // A read answered 503 (the replica is behind the sequence asked for, or cannot serve), or any request answered
    // 404 (the replica lost the index, e.g. its node restarted with an empty disk, until repair re-creates it:
    // nothing was applied): one more try on another replica.
    if ((!write && response.status === 503) || response.status === 404) {
      const second = chooseReplica(route, write, minSeq, first, this.turn++);
      if (second) {
        await response.bytes().catch(() => undefined);
        try {
          response = await this.send(second, route, operation, request);
        } catch (error) {
          if (connectionRefused(error) || connectionBroken(error)) this.nodes.markDown(second.id);
          throw error;
        }
      }
    }
    if (write && response.logSeq !== undefined && response.status < 300) this.remember(key, response.logSeq);
    return response;
  }

  private remember(key: string, logSeq: string): void {
    if (!SEQUENCE.test(logSeq)) return;
    const seq = Number(logSeq);
    const known = this.written.get(key);
    if (known !== undefined && known >= seq) return;
    if (known === undefined && this.written.size >= MAX_REMEMBERED) this.written.clear();
    this.written.set(key, seq);
  }

  private async send(node: StoreNode, route: IndexRoute, operation: DataPlaneOperation, upstream: ForwardRequest): Promise<StreamedResponse> {
    const started = performance.now();
    let outcome: UpstreamOutcome = 'ok';
    node.outstanding++;
    try {
      return await node.client.forwardStreaming(route.indexId, upstream);
    } catch (error) {
      outcome = error instanceof UnavailableError ? 'unavailable' : 'error';
      throw error;
    } finally {
      node.outstanding--;
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
      timers[outcome].observe((performance.now() - started) / 1000);
    }
  }

  private upstreamPath(operation: DataPlaneOperation, request: DataPlaneCall): string {
    const queryAt = request.url.indexOf('?');
    const query = queryAt === -1 ? '' : request.url.slice(queryAt);
    let build = this.paths.get(operation);
    if (build === undefined) {
      build = pathBuilder(operation.route);
      this.paths.set(operation, build);
    }
    return build(request.params) + query;
  }
}

/**
 * The replica for a request (undefined: none left). Skips nodes that are down and `exclude`. A write takes the
 * next live replica in turn, preferring caught-up ones. A read prefers, in order: a replica whose last status
 * says it is ready and has applied minSeq; a ready one behind it (it waits for minSeq, bounded); one not
 * reported yet; one still catching up. Among equals, the fewest requests in flight, then the turn.
 */
export function chooseReplica(route: IndexRoute, write: boolean, minSeq: number | undefined, exclude: StoreNode | undefined, turn: number): StoreNode | undefined {
  const replicas = route.replicas;
  const count = replicas.length;
  let best: StoreNode | undefined;
  let bestTier = Infinity;
  for (let i = 0; i < count; i++) {
    const node = replicas[(turn + i) % count]!;
    if (!node.live || node === exclude) continue;
    const status = node.replicas.get(route.indexId);
    let tier: number;
    if (status === undefined) tier = 2;
    else if (status.state === 'catching-up') tier = 3;
    else if (write || minSeq === undefined || status.appliedSeq === undefined || status.appliedSeq >= minSeq) tier = 0;
    else tier = 1;
    if (tier < bestTier || (tier === bestTier && !write && node.outstanding < best!.outstanding)) {
      best = node;
      bestTier = tier;
    }
  }
  return best;
}

function failureCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  return codes;
}

/** The connection was refused: the request never reached the node. */
function connectionRefused(error: unknown): boolean {
  return failureCodes(error).includes('ECONNREFUSED');
}

/** The connection broke (reset, closed): the node is gone, though the request may have reached it. */
function connectionBroken(error: unknown): boolean {
  return failureCodes(error).some((code) => code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED');
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
