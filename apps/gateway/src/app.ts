// Builds the gateway application (used by main.ts and by tests, which run gateways in-process).
import 'reflect-metadata';
import { Module, type DynamicModule, type ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { TrustedProxies } from '@conifer/config';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import { serveConsole } from './console/console.static.js';
import { ErrorFilter } from './common/error.filter.js';
import { clientErrorHandler, frameworkErrors } from './common/framework-errors.js';
import { PinoNestLogger, requestLineLogger } from './common/logger.js';
import { requestIdOf } from './common/request-id.js';
import type { GatewayRuntime } from './config/runtime.js';
import { MetricsService } from './health/metrics.service.js';
import { serveOpenApiDocument } from './openapi/openapi.js';

/** Fastify's trustProxy: a hop count becomes proxy-addr's "trust the first N hops" (as Fastify does for numbers). */
function fastifyTrustProxy(trusted: TrustedProxies): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (trusted === false) return false;
  if (typeof trusted === 'number') return (_address: string, hop: number) => hop < trusted;
  return [...trusted];
}

export interface GatewayAppOptions {
  /**
   * Modules imported after the application's own (tests: extra routes, or a global module whose providers
   * replace the application's, e.g. a recording LastUsedSink or a fake ProjectIndexRemover).
   */
  readonly imports?: NonNullable<ModuleMetadata['imports']>;
  /** Throw bootstrap errors instead of aborting the process (Nest's default aborts). */
  readonly abortOnError?: boolean;
}

@Module({})
class GatewayRootModule {}

function rootModule(runtime: GatewayRuntime, logger: Logger, imports: GatewayAppOptions['imports']): DynamicModule {
  const app = AppModule.forRoot(runtime, logger);
  return imports === undefined || imports.length === 0 ? app : { module: GatewayRootModule, imports: [app, ...imports] };
}

export async function createGatewayApp(runtime: GatewayRuntime, logger: Logger, options: GatewayAppOptions = {}): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: runtime.config.gateway.maxBodyBytes,
    // A stalled or trickling client must not hold a connection for ever (slowloris).
    requestTimeout: runtime.config.requestTimeoutMs,
    // Only the configured load balancers' X-Forwarded-For is believed (a hop count or their addresses/CIDRs).
    trustProxy: fastifyTrustProxy(runtime.config.gateway.trustProxy),
    // Client libraries given a controller URL with a trailing slash call //indexes.
    routerOptions: { ignoreDuplicateSlashes: true, ignoreTrailingSlash: true, maxParamLength: 1024 },
    requestIdHeader: false,
    genReqId: (request: { headers: Record<string, string | string[] | undefined> }) => requestIdOf(request.headers),
    forceCloseConnections: 'idle',
    // Errors Fastify and Node answer before any route runs, in Pinecone's shape too.
    frameworkErrors,
    clientErrorHandler,
  });
  const app = await NestFactory.create<NestFastifyApplication>(rootModule(runtime, logger, options.imports), adapter, {
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    bufferLogs: false,
    ...(options.abortOnError === undefined ? {} : { abortOnError: options.abortOnError }),
  });
  const fastify = app.getHttpAdapter().getInstance();

  const metrics = app.get(MetricsService);
  const requestLog = requestLineLogger(logger);
  // Callback-style hooks (no promise per request): they run on every request, the data plane's included.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions?.url ?? 'unmatched';
    const elapsed = reply.elapsedTime;
    metrics.observeRequest(route, request.method, reply.statusCode, elapsed / 1000);
    if (requestLog.isLevelEnabled('info')) {
      requestLog.info({ reqId: request.id, method: request.method, route, status: reply.statusCode, ms: Math.round(elapsed * 100) / 100 }, 'request');
    }
    done();
  });

  app.useGlobalFilters(new ErrorFilter(logger));
  // The OpenAPI document of the admin API and control plane, and the operator console (apps/console).
  serveOpenApiDocument(app, runtime.config.gateway.publicUrl);
  await serveConsole(app, logger);
  return app;
}
