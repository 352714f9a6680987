// The data plane's front path: the common data-plane requests answered on Node's 'request' event, before
// Fastify's router, hooks, request/reply objects and content-type parsers (bench/RESULTS.md, issue 13: those
// layers cost the gateway more per request than nginx's whole hop). Everything else — and any data-plane request
// that is not plain — goes to Fastify unchanged, whose routes (data-plane.routes.ts) answer it as before.
//
// "Plain", decided from the request line and headers alone, before anything is read, verified or counted:
// - any data-plane route (proxy/operations.ts: query, upsert, fetch, list, update, delete, describe_index_stats,
//   namespaces, documents) under /data/<projectId>/<indexName>, or on an index host, with every path segment a
//   plain token (nothing Fastify would decode or normalise: no %, no doubled or trailing slash);
// - GET or DELETE without a body, or POST with `Content-Type: application/json`, a Content-Length within the
//   route's body limit and no Transfer-Encoding.
// Anything else (HEAD, chunked or oversized bodies, other media types, encoded paths, a gateway that is closing)
// is declined, and Fastify answers it exactly as it did before this path existed: 413, 415, 404 and 503 keep
// their single source.
//
// The guarantees are the Fastify routes': the key is checked by the same ApiKeyStrategy over the same
// KeyVerifier (warm: synchronous; anything else: the full async path, which decides every refusal), then the
// operation's role, then the proxy's project, index and namespace scope; errors render through the same
// errorToRender and grpcErrorBody; the request id (X-Request-Id in, X-Request-Id out), the
// conifer_http_requests_total / duration metrics under the same route labels, the one "request" log line at info
// and the data-plane report are produced here as the app's Fastify hooks produce them for other routes.
//
// Per request it allocates the call record and the response's header array; the body is the received chunk
// itself when it came in one, else the list of its chunks, forwarded as they are (never joined unless something
// reads it whole: a namespace-scoped key's namespace check). Listeners are shared functions reading the record
// off the request/response.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { pipeline, type Readable } from 'node:stream';
import proxyAddr from '@fastify/proxy-addr';
import type { TrustedProxies } from '@conifer/config';
import { grpcErrorBody, InvalidArgumentError } from '@conifer/contracts';
import { LOG_SEQ_HEADER } from '@conifer/store-client';
import type { Logger } from 'pino';
import type { KeyMemoHolder } from '../auth/api-key.strategy.js';
import type { ApiKeyPrincipal } from '../auth/principal.js';
import { errorToRender } from '../common/error.filter.js';
import { requestIdOf } from '../common/request-id.js';
import type { MetricsService } from '../health/metrics.service.js';
import { isIndexHost } from '../indexes/index-host.js';
import type { DataPlaneAnswer, DataPlaneCall } from './data-plane.proxy.js';
import { outcomeOfStatus, type DataPlaneReports } from './data-plane.reports.js';
import type { DataPlaneOperation } from './operations.js';

/** A route the front path serves: its operation, body limit and the metrics' route label (Fastify's route URL). */
interface FrontRoute {
  readonly operation: DataPlaneOperation;
  readonly bodyLimit: number;
  /** As errorToRender names a route (Fastify's routeOptions). */
  readonly routeOptions: { readonly url: string };
}

interface FrontRoutes {
  /** '/data/:projectId/:indexName<route>' */
  readonly prefixed: FrontRoute;
  /** '<route>' on an index host */
  readonly hosted: FrontRoute;
}

/** What the front path needs of the gateway (DataPlaneRoutes hands it over). */
export interface DataPlaneFrontDeps {
  /**
   * The key check: synchronous for a warm key (undefined otherwise; the connection remembers the key it last
   * presented), else the full path (throws the refusal).
   */
  validateWarm(headers: IncomingMessage['headers'], ip: string, connection: KeyMemoHolder): ApiKeyPrincipal | undefined;
  validate(headers: IncomingMessage['headers'], ip: string): Promise<ApiKeyPrincipal>;
  /** The operation's permission for the key's roles (throws PermissionDeniedError). */
  checkRole(caller: ApiKeyPrincipal, operation: DataPlaneOperation): void;
  forward(caller: ApiKeyPrincipal, operation: DataPlaneOperation, call: DataPlaneCall): Promise<DataPlaneAnswer>;
  readonly metrics: MetricsService;
  readonly reports: DataPlaneReports;
  readonly logger: Logger;
  /** The "request" line's logger (common/logger.ts requestLineLogger). */
  readonly requestLog: Logger;
  readonly trustProxy: TrustedProxies;
  readonly indexHostSuffix: string | undefined;
  /** Told each forwarded body's size (young-generation collections for the read buffers). */
  readonly bodies?: { received(bytes: number): void };
}

const CALL = Symbol('conifer.dataPlane.call');
/** A path segment Fastify would take as it is (no percent-decoding, no delimiter), within its maxParamLength. */
const PLAIN_SEGMENT = /^[A-Za-z0-9._~-]{1,1024}$/;
const DATA_PREFIX = '/data/';
const NO_PARAMS: Readonly<Record<string, string | undefined>> = Object.freeze({});
const JSON_TYPE = 'application/json';
/** What Fastify's reply answers an error body with (`.type('application/json')` and a serialised object). */
const ERROR_TYPE = 'application/json; charset=utf-8';
const NAMESPACES = '/namespaces/';
const NAMESPACE_ROUTE = '/namespaces/:namespace';

type Carrier = { [CALL]?: Call };

/** One data-plane request on the front path: what the proxy reads (DataPlaneCall) and what the end reports. */
class Call implements DataPlaneCall {
  /** The body's first chunk (the whole body when it came in one). */
  first: Buffer | undefined = undefined;
  /** Every chunk, when there were several. */
  parts: Buffer[] | undefined = undefined;
  received = 0;
  private joined: Buffer | undefined = undefined;
  caller: ApiKeyPrincipal | null = null;
  private parsedQuery: unknown = undefined;

  constructor(
    readonly front: DataPlaneFront,
    readonly route: FrontRoute,
    readonly method: string,
    readonly url: string,
    readonly headers: IncomingMessage['headers'],
    readonly params: Record<string, string | undefined>,
    readonly id: string,
    readonly ip: string,
    readonly contentLength: number,
    readonly started: number,
    readonly response: ServerResponse,
  ) {}

  /** The body whole: its chunks are joined only when something reads it so (the forward sends bodyParts). */
  get body(): Buffer | undefined {
    if (this.parts === undefined) return this.first;
    this.joined ??= Buffer.concat(this.parts, this.received);
    return this.joined;
  }

  get bodyParts(): readonly Buffer[] | undefined {
    return this.parts;
  }

  /** Parsed on first use only (a namespace-scoped key's fetch, list or listing). */
  get query(): unknown {
    if (this.parsedQuery === undefined) {
      const at = this.url.indexOf('?');
      this.parsedQuery = at === -1 ? {} : parseQuery(this.url.slice(at + 1));
    }
    return this.parsedQuery;
  }

  get routeOptions(): { readonly url: string } {
    return this.route.routeOptions;
  }
}

export class DataPlaneFront {
  /** method → route below the index → the two ways it is reached; routes with :namespace kept apart. */
  private readonly routes = new Map<string, { readonly plain: Map<string, FrontRoutes>; readonly namespaced: Map<string, FrontRoutes> }>();
  private readonly trust: ((address: string, hop: number) => boolean) | undefined;
  private closing = false;
  /** The :namespace of the last namespaceRoute lookup that matched (read at once by handle). */
  private namespace: string | undefined = undefined;

  constructor(private readonly deps: DataPlaneFrontDeps) {
    const trusted = deps.trustProxy;
    // As app.ts configures Fastify's trustProxy: a hop count trusts the first N hops, else addresses/CIDRs.
    this.trust = trusted === false ? undefined : typeof trusted === 'number' ? (_address, hop) => hop < trusted : proxyAddr.compile([...trusted]);
  }

  /** Serves `operation` on the front path (of path parameters, only a namespace right after /namespaces/). */
  add(operation: DataPlaneOperation, bodyLimit: number): void {
    const parameters = operation.route.split(':').length - 1;
    if (parameters > 1 || (parameters === 1 && !operation.route.startsWith(NAMESPACE_ROUTE))) return;
    let byMethod = this.routes.get(operation.method);
    if (byMethod === undefined) this.routes.set(operation.method, (byMethod = { plain: new Map(), namespaced: new Map() }));
    (parameters === 0 ? byMethod.plain : byMethod.namespaced).set(operation.route, {
      prefixed: { operation, bodyLimit, routeOptions: { url: `/data/:projectId/:indexName${operation.route}` } },
      hosted: { operation, bodyLimit, routeOptions: { url: operation.route } },
    });
  }

  /** From now on every request goes to Fastify (which answers 503 while the gateway closes). */
  close(): void {
    this.closing = true;
  }

  /**
   * The route of a path below the index that names a namespace (/namespaces/<ns>[/documents/<op>]), a plain
   * segment as Fastify would pass it (no %-decoding to do); `namespace` holds it until the next lookup.
   */
  private namespaceRoute(namespaced: Map<string, FrontRoutes>, below: string): FrontRoutes | undefined {
    this.namespace = undefined;
    if (!below.startsWith(NAMESPACES)) return undefined;
    const end = below.indexOf('/', NAMESPACES.length);
    const namespace = end === -1 ? below.slice(NAMESPACES.length) : below.slice(NAMESPACES.length, end);
    if (!PLAIN_SEGMENT.test(namespace)) return undefined;
    if (namespaced.size === 0) return undefined;
    const routes = namespaced.get(end === -1 ? NAMESPACE_ROUTE : NAMESPACE_ROUTE + below.slice(end));
    if (routes !== undefined) this.namespace = namespace;
    return routes;
  }

  /** Takes the request when it is a plain data-plane request (true), else leaves it untouched (false). */
  handle(request: IncomingMessage, response: ServerResponse): boolean {
    if (this.closing) return false;
    const byMethod = this.routes.get(request.method!);
    if (byMethod === undefined) return false;
    this.namespace = undefined;
    const url = request.url!;
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const headers = request.headers;
    let route: FrontRoute | undefined;
    let params: Record<string, string | undefined>;
    if (path.startsWith(DATA_PREFIX)) {
      const projectEnd = path.indexOf('/', DATA_PREFIX.length);
      if (projectEnd === -1) return false;
      const indexEnd = path.indexOf('/', projectEnd + 1);
      if (indexEnd === -1) return false;
      const below = path.slice(indexEnd);
      const routes = byMethod.plain.get(below) ?? this.namespaceRoute(byMethod.namespaced, below);
      if (routes === undefined) return false;
      route = routes.prefixed;
      const projectId = path.slice(DATA_PREFIX.length, projectEnd);
      const indexName = path.slice(projectEnd + 1, indexEnd);
      if (!PLAIN_SEGMENT.test(projectId) || !PLAIN_SEGMENT.test(indexName)) return false;
      const namespace = this.namespace;
      params = namespace === undefined ? { projectId, indexName } : { projectId, indexName, namespace };
    } else {
      const suffix = this.deps.indexHostSuffix;
      if (suffix === undefined || !isIndexHost(headers.host, suffix)) return false;
      const routes = byMethod.plain.get(path) ?? this.namespaceRoute(byMethod.namespaced, path);
      if (routes === undefined) return false;
      route = routes.hosted;
      const namespace = this.namespace;
      params = namespace === undefined ? NO_PARAMS : { namespace };
    }
    // The body: none for GET; for POST, JSON with a length within the limit. Anything else is Fastify's to answer.
    if (headers['transfer-encoding'] !== undefined) return false;
    const declared = headers['content-length'];
    let contentLength = 0;
    if (request.method === 'GET' || request.method === 'DELETE') {
      if (declared !== undefined && declared !== '0') return false;
    } else {
      if (headers['content-type'] !== JSON_TYPE || declared === undefined) return false;
      contentLength = Number(declared);
      if (!(contentLength > 0 && contentLength <= route.bodyLimit)) return false;
    }

    const ip = this.trust === undefined ? (request.socket.remoteAddress ?? 'unknown') : proxyAddr(request, this.trust);
    const call = new Call(this, route, request.method!, url, headers, params, requestIdOf(headers), ip, contentLength, performance.now(), response);
    (response as Carrier)[CALL] = call;
    response.once('close', responseClosed);
    // A warm key is checked without a promise; anything else (cold, refused, rate-limited) takes the full path.
    const warm = this.deps.validateWarm(headers, ip, request.socket as KeyMemoHolder);
    if (warm === undefined) {
      this.deps.validate(headers, ip).then(
        (caller) => this.authenticated(call, request, caller),
        (error: unknown) => this.fail(call, error),
      );
    } else {
      this.authenticated(call, request, warm);
    }
    return true;
  }

  private authenticated(call: Call, request: IncomingMessage, caller: ApiKeyPrincipal): void {
    // Known before the role check, so that a refusal is reported (and counted) against the key.
    call.caller = caller;
    try {
      this.deps.checkRole(caller, call.route.operation);
    } catch (error) {
      this.fail(call, error);
      return;
    }
    if (call.contentLength === 0) {
      void this.forward(call);
      return;
    }
    (request as Carrier)[CALL] = call;
    request.on('data', bodyChunk);
    request.once('end', bodyEnd);
    request.once('error', bodyError);
  }

  /** The whole body arrived. */
  bodyComplete(call: Call): void {
    if (call.received !== call.contentLength) {
      this.fail(call, new InvalidArgumentError('Request body size did not match Content-Length'));
      return;
    }
    void this.forward(call);
    // Counted once the forward has queued the body's write (a collection due runs after that write, next turn).
    this.deps.bodies?.received(call.received);
  }

  private async forward(call: Call): Promise<void> {
    let answer: DataPlaneAnswer;
    try {
      answer = await this.deps.forward(call.caller!, call.route.operation, call);
    } catch (error) {
      this.fail(call, error);
      return;
    }
    const response = call.response;
    if (response.destroyed) {
      if (answer.whole === undefined) answer.body.destroy();
      return;
    }
    const headers: string[] = ['content-type', answer.contentType ?? JSON_TYPE, 'x-request-id', call.id];
    if (answer.logSeq !== undefined) headers.push(LOG_SEQ_HEADER, answer.logSeq);
    if (answer.whole !== undefined) {
      headers.push('content-length', String(answer.whole.length));
      response.writeHead(answer.status, headers);
      response.end(answer.whole);
      return;
    }
    if (answer.contentLength !== undefined) headers.push('content-length', String(answer.contentLength));
    response.writeHead(answer.status, headers);
    pipeline(answer.body as Readable, response, streamEnded);
  }

  /** A refusal or failure, in the data plane's gRPC-style shape (as the Fastify routes' error handler renders it). */
  fail(call: Call, exception: unknown): void {
    const response = call.response;
    if (response.headersSent || response.destroyed) {
      response.destroy();
      return;
    }
    const error = errorToRender(exception, call, this.deps.logger);
    const body = JSON.stringify(grpcErrorBody(error));
    const headers: string[] = ['content-type', ERROR_TYPE, 'content-length', String(Buffer.byteLength(body)), 'x-request-id', call.id];
    for (const [name, value] of Object.entries(error.headers())) headers.push(name, String(value));
    response.writeHead(error.httpStatus, headers);
    response.end(body);
  }

  /** The answer was sent: metrics, the log line and the report, once. */
  finished(call: Call, status: number): void {
    const elapsedMs = performance.now() - call.started;
    const route = call.route.routeOptions.url;
    const { metrics, requestLog, reports } = this.deps;
    metrics.observeRequest(route, call.method, status, elapsedMs / 1000);
    if (requestLog.isLevelEnabled('info')) {
      requestLog.info({ reqId: call.id, method: call.method, route, status, ms: Math.round(elapsedMs * 100) / 100 }, 'request');
    }
    if (reports.hasListeners) {
      const caller = call.caller;
      reports.finished({
        apiKeyId: caller?.apiKeyId ?? null,
        keyId: caller?.keyId ?? null,
        projectId: caller?.projectId ?? null,
        operation: call.route.operation.name,
        status,
        outcome: outcomeOfStatus(status),
        durationMs: elapsedMs,
        requestId: call.id,
      });
    }
  }
}

// Listeners shared by every request (no closure per request): the call rides on the request/response.

/** As Fastify's onResponse: an answer that was sent is reported; a connection gone before that is not. */
function responseClosed(this: ServerResponse): void {
  if (!this.writableFinished) return;
  const call = (this as Carrier)[CALL]!;
  call.front.finished(call, this.statusCode);
}

function bodyChunk(this: IncomingMessage, chunk: Buffer): void {
  const call = (this as Carrier)[CALL]!;
  call.received += chunk.length;
  if (call.first === undefined) call.first = chunk;
  else if (call.parts === undefined) call.parts = [call.first, chunk];
  else call.parts.push(chunk);
}

function bodyEnd(this: IncomingMessage): void {
  const call = (this as Carrier)[CALL]!;
  call.front.bodyComplete(call);
}

/** The client went away while sending: nothing to answer (the response's close reports it). */
function bodyError(this: IncomingMessage): void {
  this.removeListener('data', bodyChunk);
  this.removeListener('end', bodyEnd);
}

function streamEnded(error: Error | null | undefined): void {
  // A store answer broken off mid-stream: pipeline has destroyed the response (the client sees a cut answer).
  void error;
}
