// HTTP plumbing of the data plane, installed on the Fastify instance before routes are registered:
// - requests under an index host (Host <index>-<project>.<suffix>) are marked data-plane at onRequest, so every
//   error (401 from the guard, 413 from the body limit…) renders as the gRPC-style body;
// - every Nest route gets Fastify's default JSON parser, size-limited; the data-plane routes
//   (data-plane.routes.ts) have their own scope, which keeps bodies as the received bytes.
import { isUtf8 } from 'node:buffer';
import { Inject, Injectable } from '@nestjs/common';
import { InvalidArgumentError } from '@conifer/contracts';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyAdapter } from '@nestjs/platform-fastify';
import type { ConiferConfig } from '@conifer/config';
import type { FastifyRequest } from 'fastify';
import { CONFIG } from '../config/runtime.js';
import { isIndexHost } from '../indexes/index-host.js';

@Injectable()
export class DataPlaneHttp {
  constructor(@Inject(HttpAdapterHost) adapterHost: HttpAdapterHost, @Inject(CONFIG) config: ConiferConfig) {
    const adapter = adapterHost.httpAdapter as unknown as FastifyAdapter | undefined;
    if (!adapter || typeof adapter.useBodyParser !== 'function') return;
    const fastify = adapter.getInstance();
    const suffix = config.gateway.indexHostSuffix;
    if (suffix) {
      fastify.addHook('onRequest', (request, _reply, done) => {
        if (isIndexHost(request.headers.host, suffix)) (request as FastifyRequest & { dataPlane?: boolean }).dataPlane = true;
        done();
      });
    }
    const { onProtoPoisoning, onConstructorPoisoning } = fastify.initialConfig as {
      onProtoPoisoning?: 'error' | 'remove' | 'ignore';
      onConstructorPoisoning?: 'error' | 'remove' | 'ignore';
    };
    const parseJson = fastify.getDefaultJsonParser(onProtoPoisoning ?? 'error', onConstructorPoisoning ?? 'error');
    adapter.useBodyParser('application/json', false, { bodyLimit: config.gateway.maxBodyBytes }, (request, body, done) => {
      // JSON is UTF-8 (RFC 8259): bytes that are not would silently become U+FFFD (issue 14 item 15).
      if (Buffer.isBuffer(body) && !isUtf8(body)) {
        done(new InvalidArgumentError('Request body is not valid UTF-8'), undefined);
        return;
      }
      parseJson(request as FastifyRequest, body as unknown as string, done);
    });
  }
}
