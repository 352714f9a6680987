// Builds the gateway application (used by main.ts and by tests, which run gateways in-process).
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import { serveConsole } from './console/console.static.js';
import { ErrorFilter } from './common/error.filter.js';
import { clientErrorHandler, frameworkErrors } from './common/framework-errors.js';
import { PinoNestLogger } from './common/logger.js';
import type { GatewayRuntime } from './config/runtime.js';
import { MetricsService } from './health/metrics.service.js';
import { serveOpenApiDocument } from './openapi/openapi.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export async function createGatewayApp(runtime: GatewayRuntime, logger: Logger): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: runtime.config.gateway.maxBodyBytes,
    // A stalled or trickling client must not hold a connection for ever (slowloris).
    requestTimeout: runtime.config.requestTimeoutMs,
    trustProxy: runtime.config.gateway.trustProxy,
    // Client libraries given a controller URL with a trailing slash call //indexes.
    routerOptions: { ignoreDuplicateSlashes: true, ignoreTrailingSlash: true, maxParamLength: 1024 },
    requestIdHeader: false,
    genReqId: (request: { headers: Record<string, string | string[] | undefined> }) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    forceCloseConnections: 'idle',
    // Errors Fastify and Node answer before any route runs, in Pinecone's shape too.
    frameworkErrors,
    clientErrorHandler,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(runtime, logger), adapter, {
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    bufferLogs: false,
  });
  const fastify = app.getHttpAdapter().getInstance();

  const metrics = app.get(MetricsService);
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions?.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.observeRequest(route, request.method, reply.statusCode, seconds);
    logger.info(
      { reqId: request.id, method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100 },
      'request',
    );
  });

  app.useGlobalFilters(new ErrorFilter(logger));
  // The OpenAPI document of the admin API and control plane, and the operator console (apps/console).
  serveOpenApiDocument(app, runtime.config.gateway.publicUrl);
  await serveConsole(app, logger);
  return app;
}
