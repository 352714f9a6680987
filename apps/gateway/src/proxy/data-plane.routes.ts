// Pinecone's data plane (DESIGN §4) served as plain Fastify routes, below Nest: under the index host
// /data/<projectId>/<indexName>/<operation>, or /<operation> on a Host of its own
// (<indexName>-<projectId>.<suffix>). One route per row of proxy/operations.ts.
//
// Why not a Nest controller like the rest of the gateway: the data plane's whole job is "check the key, forward
// the bytes", and the Nest layers (router wrapper, guard, passport's authenticate, param decorators, exception
// zone) cost more than the 0.5 ms budget the gateway may add (bench/RESULTS.md). The guarantees stay the same:
// the key is checked by the same Api-Key strategy over the same KeyVerifier (cache tiers, revocation, rate limit,
// per-address throttle of bad keys), then the operation's permission (role), index and namespace scope; errors
// render through the same mapping as the Nest filter, in the gRPC-style body; request ids, the request log line
// and the HTTP metrics come from the app-wide Fastify hooks (app.ts), which apply to these routes too.
//
// The body is always kept as the received bytes (size-limited while read, never parsed except for a namespace
// scope check, never re-serialised), whatever the URL looks like (e.g. a leading //): "is this the data plane"
// is decided by the matched route, not by the raw URL.
import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyAdapter } from '@nestjs/platform-fastify';
import type { ConiferConfig } from '@conifer/config';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { LOG_SEQ_HEADER } from '@conifer/store-client';
import { DATA_PLANE_LIMITS, grpcErrorBody, PermissionDeniedError, rolesAllow, type Permission } from '@conifer/contracts';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { API_KEY_HEADER, ApiKeyStrategy, REQUEST_THROTTLE, REQUEST_VERIFIER } from '../auth/api-key.strategy.js';
import { KeyFailureThrottle } from '../auth/key-failure-throttle.js';
import { KeyVerifier } from '../auth/key-verifier.js';
import type { ApiKeyPrincipal } from '../auth/principal.js';
import { errorToRender } from '../common/error.filter.js';
import { YOUNG_COLLECTION_EVERY_BYTES, YoungCollections, youngCollector } from '../common/young-collections.js';
import { LOGGER, requestLineLogger } from '../common/logger.js';
import { MetricsService } from '../health/metrics.service.js';
import { CONFIG } from '../config/runtime.js';
import { DataPlaneFront } from './data-plane.front.js';
import { DataPlaneProxy, type DataPlaneCall } from './data-plane.proxy.js';
import { DataPlaneReports, outcomeOfStatus } from './data-plane.reports.js';
import { OPERATIONS, type DataPlaneOperation } from './operations.js';

const PREFIX = '/data/:projectId/:indexName';

type DataPlaneRequest = FastifyRequest & { dataPlane?: boolean; caller: ApiKeyPrincipal | null; operation: DataPlaneOperation | null };

/** The body limit of an operation: the store's own (upsert: 2 MB as at Pinecone), so the gateway answers 413 itself. */
function bodyLimitOf(operation: DataPlaneOperation, maxBodyBytes: number): number {
  return operation === OPERATIONS.upsert ? Math.min(maxBodyBytes, DATA_PLANE_LIMITS.maxUpsertBytes) : maxBodyBytes;
}

/**
 * What each roles array allows, computed once: a key's principal carries the cached key's own `roles` array, so
 * every request of a key finds its answer here instead of scanning roles × grants (arrays are never mutated).
 */
const permissionsByRoles = new WeakMap<readonly string[], Map<Permission, boolean>>();

function rolesAllowCached(roles: readonly string[], permission: Permission): boolean {
  let known = permissionsByRoles.get(roles);
  if (known === undefined) {
    known = new Map();
    permissionsByRoles.set(roles, known);
  }
  let allowed = known.get(permission);
  if (allowed === undefined) {
    allowed = rolesAllow(roles, permission);
    known.set(permission, allowed);
  }
  return allowed;
}

function forbidden(operation: DataPlaneOperation): PermissionDeniedError {
  return new PermissionDeniedError(`This API key's roles do not allow this operation (${operation.permission} required)`);
}

@Injectable()
export class DataPlaneRoutes {
  /** Young-generation collections for the socket buffers request bodies arrive in (common/young-collections.ts). */
  private readonly bodies = new YoungCollections(YOUNG_COLLECTION_EVERY_BYTES, youngCollector());

  constructor(
    @Inject(HttpAdapterHost) adapterHost: HttpAdapterHost,
    @Inject(CONFIG) config: ConiferConfig,
    @Inject(ApiKeyStrategy) private readonly strategy: ApiKeyStrategy,
    @Inject(KeyVerifier) private readonly verifier: KeyVerifier,
    @Inject(KeyFailureThrottle) private readonly throttle: KeyFailureThrottle,
    @Inject(DataPlaneProxy) private readonly proxy: DataPlaneProxy,
    @Inject(DataPlaneReports) private readonly reports: DataPlaneReports,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {
    const adapter = adapterHost.httpAdapter as unknown as FastifyAdapter | undefined;
    if (!adapter || typeof adapter.getInstance !== 'function') return;
    const maxBodyBytes = config.gateway.maxBodyBytes;
    const fastify = adapter.getInstance();
    this.installFront(fastify, config, maxBodyBytes);
    void fastify.register(async (scope: FastifyInstance) => this.install(scope, maxBodyBytes));
  }

  /**
   * The front path (data-plane.front.ts) on the HTTP server's 'request' event, ahead of Fastify's own handler,
   * which gets every request the front path declines. Closing the app hands everything back to Fastify first.
   */
  private installFront(fastify: FastifyInstance, config: ConiferConfig, maxBodyBytes: number): void {
    const server = fastify.server as Server | undefined;
    const fastifyHandlers = server?.listeners('request') ?? [];
    if (server === undefined || fastifyHandlers.length !== 1) return;
    const fastifyHandler = fastifyHandlers[0] as (request: IncomingMessage, response: ServerResponse) => void;
    const strategy = this.strategy;
    const verifier = this.verifier;
    const throttle = this.throttle;
    const proxy = this.proxy;
    const front = new DataPlaneFront({
      validateWarm: (headers, ip, connection) => strategy.validateWarmOnConnection(headers[API_KEY_HEADER], ip, verifier, throttle, connection),
      validate: (headers, ip) => strategy.validate({ headers, ip, [REQUEST_VERIFIER]: verifier, [REQUEST_THROTTLE]: throttle }),
      checkRole: (caller, operation) => {
        if (!rolesAllowCached(caller.roles, operation.permission)) throw forbidden(operation);
      },
      forward: (caller, operation, call) => proxy.forward(caller, operation, call),
      metrics: this.metrics,
      reports: this.reports,
      logger: this.logger,
      requestLog: requestLineLogger(this.logger),
      trustProxy: config.gateway.trustProxy,
      indexHostSuffix: config.gateway.indexHostSuffix,
      bodies: this.bodies,
    });
    for (const operation of Object.values(OPERATIONS) as DataPlaneOperation[]) front.add(operation, bodyLimitOf(operation, maxBodyBytes));
    server.removeListener('request', fastifyHandler);
    server.on('request', function frontOrFastify(this: Server, request: IncomingMessage, response: ServerResponse) {
      if (!front.handle(request, response)) fastifyHandler.call(this, request, response);
    });
    fastify.addHook('preClose', (done) => {
      front.close();
      done();
    });
  }

  private install(scope: FastifyInstance, maxBodyBytes: number): void {
    scope.decorateRequest('caller', null);
    scope.decorateRequest('operation', null);
    // Only JSON is accepted (anything else: 415), kept as bytes.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    scope.setErrorHandler((error: FastifyError, request, reply) => this.renderError(error, request, reply));

    const authenticate = this.authenticate.bind(this);
    const finished = this.finished.bind(this);
    for (const operation of Object.values(OPERATIONS) as DataPlaneOperation[]) {
      // Returning the reply tells Fastify the answer is under way (a streamed body may still be flowing).
      const handler = async (request: FastifyRequest, reply: FastifyReply) => {
        const forwarded = this.proxy.forward((request as DataPlaneRequest).caller!, operation, request as unknown as DataPlaneCall);
        // Counted once the forward has queued the body's write (a collection due runs after that write, next turn).
        if (Buffer.isBuffer(request.body)) this.bodies.received(request.body.length);
        const answer = await forwarded;
        reply.status(answer.status).header('content-type', answer.contentType ?? 'application/json');
        if (answer.logSeq !== undefined) reply.header(LOG_SEQ_HEADER, answer.logSeq);
        if (answer.whole !== undefined) return reply.send(answer.whole);
        if (answer.contentLength !== undefined) reply.header('content-length', answer.contentLength);
        return reply.send(answer.body);
      };
      const onRequest = (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void) => {
        const r = request as DataPlaneRequest;
        r.dataPlane = true;
        r.operation = operation;
        // A warm key is checked without a promise; anything else (cold, refused, rate-limited) takes the full path.
        const warm = this.strategy.validateWarm(this.authRequest(r));
        if (warm === undefined) {
          authenticate(r, operation).then(() => done(), done);
          return;
        }
        r.caller = warm;
        done(rolesAllowCached(warm.roles, operation.permission) ? undefined : forbidden(operation));
      };
      for (const url of [`${PREFIX}${operation.route}`, operation.route]) {
        scope.route({ method: operation.method, url, bodyLimit: bodyLimitOf(operation, maxBodyBytes), onRequest, onResponse: finished, handler });
      }
    }
  }

  /** What the strategy reads of a request: its headers and address, and this app's verifier and throttle. */
  private authRequest(request: DataPlaneRequest) {
    return { headers: request.headers, ip: request.ip, [REQUEST_VERIFIER]: this.verifier, [REQUEST_THROTTLE]: this.throttle };
  }

  /** The key (same strategy and verifier as every other route), then the operation's permission. */
  private async authenticate(request: DataPlaneRequest, operation: DataPlaneOperation): Promise<void> {
    const caller = await this.strategy.validate(this.authRequest(request));
    // Known before the role check, so that a refusal is reported (and counted as an error) against the key.
    request.caller = caller;
    if (!rolesAllowCached(caller.roles, operation.permission)) throw forbidden(operation);
  }

  private finished(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
    const r = request as DataPlaneRequest;
    if (this.reports.hasListeners) {
      const caller = r.caller;
      this.reports.finished({
        apiKeyId: caller?.apiKeyId ?? null,
        keyId: caller?.keyId ?? null,
        projectId: caller?.projectId ?? null,
        operation: r.operation?.name ?? 'unknown',
        status: reply.statusCode,
        outcome: outcomeOfStatus(reply.statusCode),
        durationMs: reply.elapsedTime,
        requestId: request.id,
      });
    }
    done();
  }

  private renderError(exception: unknown, request: FastifyRequest, reply: FastifyReply): void {
    const error = errorToRender(exception, request, this.logger);
    void reply.status(error.httpStatus).headers(error.headers()).type('application/json').send(grpcErrorBody(error));
  }
}
