// /openapi.json: generated from the controllers by @nestjs/swagger, a valid OpenAPI 3.1 document (checked by
// @readme/openapi-parser, which validates against the official 3.1 schema and resolves every $ref), covering
// every admin and control-plane route the gateway serves, and identical to the copy the console's typed client
// is generated from (apps/console/src/api/openapi.json; UPDATE_OPENAPI=1 rewrites it).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { compileErrors, validate } from '@readme/openapi-parser';
import { buildOpenApiDocument } from '../../src/openapi/openapi.js';
import { call, startGateway } from './admin-fixtures.js';

const CONSOLE_COPY = path.resolve(import.meta.dirname, '../../../console/src/api/openapi.json');

describe('OpenAPI document', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startGateway();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('is served at /openapi.json and is valid OpenAPI 3.1', async () => {
    const reply = await call(app, 'GET', '/openapi.json');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    const document = reply.body;
    expect(document.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(document));
    if (!result.valid) throw new Error(compileErrors(result));
    expect(result.valid).toBe(true);
    // The validator is not a rubber stamp: a dangling reference fails.
    const broken = structuredClone(document);
    broken.paths['/indexes'].post.responses['201'].content['application/json'].schema = { $ref: '#/components/schemas/Nope' };
    expect((await validate(broken)).valid).toBe(false);
  });

  it('describes every admin and control-plane route, and no data-plane or internal one', async () => {
    const document = (await call(app, 'GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(document.paths).flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`));
    expect(operations).toEqual(
      expect.arrayContaining([
        'POST /oauth/token',
        'GET /admin/organizations',
        'POST /admin/projects',
        'DELETE /admin/projects/{projectId}',
        'POST /admin/projects/{projectId}/api-keys',
        'POST /admin/api-keys/{apiKeyId}/rotate',
        'GET /admin/api-keys/{apiKeyId}/usage',
        'GET /admin/projects/{projectId}/usage',
        'POST /admin/service-accounts',
        'GET /admin/audit-events',
        'POST /indexes',
        'PATCH /indexes/{name}',
        'DELETE /indexes/{name}',
      ]),
    );
    expect(operations.filter((o) => /\/(query|vectors|data|healthz|readyz|metrics|namespaces)\b/.test(o))).toEqual([]);
    // Every operation has a summary and a documented success answer (a route without @Doc() would not).
    for (const [p, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods) as [string, any][]) {
        expect([`${method} ${p}`, typeof operation.summary]).toEqual([`${method} ${p}`, 'string']);
        expect(Object.keys(operation.responses).some((status) => /^2\d\d$/.test(status))).toBe(true);
      }
    }
    const mint = document.paths['/admin/projects/{projectId}/api-keys']!.post as any;
    expect(mint.responses['201'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ApiKeyWithSecret' });
    expect(mint.security).toEqual([{ bearer: [] }]);
    expect((document.paths['/indexes']!.post as any).security).toEqual([{ ApiKey: [] }]);
  });

  it('matches the copy the console client is generated from', () => {
    const generated = `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`;
    if (process.env.UPDATE_OPENAPI) writeFileSync(CONSOLE_COPY, generated);
    expect(readFileSync(CONSOLE_COPY, 'utf8')).toBe(generated);
  });
});
