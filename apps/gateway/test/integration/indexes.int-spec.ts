// Control plane (/indexes) on the real gateway app with real Postgres and Redis, and fake vector-store nodes
// (test doubles of the internal API): wire shapes, lifecycle, placement, and every refusal by status.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestCatalog, type TestKey } from '../support/auth-gateway.js';
import { FakeVectorStore } from '../support/fake-vector-store.js';
import { INTERNAL_TOKEN, startIndexesGateway, type IndexesGateway } from '../support/indexes-gateway.js';

const spec = { serverless: { cloud: 'aws', region: 'us-east-1' } };

describe('control plane /indexes', () => {
  let stores: FakeVectorStore[];
  let gateway: IndexesGateway;
  let catalog: TestCatalog;
  let projectId: string;
  let otherProjectId: string;
  let editor: TestKey;
  let viewer: TestKey;
  let dataEditor: TestKey;
  let other: TestKey;

  beforeAll(async () => {
    stores = await Promise.all([new FakeVectorStore(INTERNAL_TOKEN).start(), new FakeVectorStore(INTERNAL_TOKEN).start()]);
    gateway = await startIndexesGateway({
      CONIFER_VECTOR_STORE_URLS: stores.map((s) => s.url).join(','),
      CONIFER_PUBLIC_URL: 'http://conifer.test:8080',
    });
    catalog = new TestCatalog();
    projectId = await catalog.createProject();
    otherProjectId = await catalog.createProject();
    editor = await catalog.createKey(projectId, { roles: ['ProjectEditor'] });
    viewer = await catalog.createKey(projectId, { roles: ['ProjectViewer'] });
    dataEditor = await catalog.createKey(projectId, { roles: ['DataPlaneEditor'] });
    other = await catalog.createKey(otherProjectId, { roles: ['ProjectEditor'] });
  });

  afterAll(async () => {
    await gateway?.close();
    await catalog?.close();
    await Promise.all((stores ?? []).map((s) => s.stop()));
  });

  it('201 create returns the IndexModel, ready, with host and read_capacity', async () => {
    const response = await gateway.call('POST', '/indexes', {
      apiKey: editor.value,
      // What client 8.2 sends; the 2026-07 shape is covered below.
      headers: { 'x-pinecone-api-version': '2026-04' },
      body: { name: 'docs', dimension: 8, metric: 'dotproduct', spec, tags: { env: 'test' } },
    });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({
      name: 'docs',
      dimension: 8,
      metric: 'dotproduct',
      host: `http://conifer.test:8080/data/${projectId}/docs`,
      spec: { serverless: { cloud: 'aws', region: 'us-east-1', read_capacity: { mode: 'OnDemand', status: { state: 'Ready' } } } },
      status: { ready: true, state: 'Ready' },
      deletion_protection: 'disabled',
      tags: { env: 'test' },
      vector_type: 'dense',
    });
    const created = stores.flatMap((s) => [...s.indexes.values()]);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ dimension: 8, metric: 'dotproduct', vectorType: 'dense' });
  });

  it('answers each API version in its own shape, and 400 for an unknown version', async () => {
    const v9 = await gateway.call('GET', '/indexes/docs', { apiKey: editor.value, headers: { 'x-pinecone-api-version': '2026-07' } });
    expect(v9.status).toBe(200);
    expect(v9.body).toEqual({
      name: 'docs',
      host: `http://conifer.test:8080/data/${projectId}/docs`,
      status: { ready: true, state: 'Ready' },
      deployment: { deployment_type: 'managed', cloud: 'aws', region: 'us-east-1' },
      read_capacity: { mode: 'OnDemand', status: { state: 'Ready' } },
      schema: { fields: { _values: { type: 'dense_vector', dimension: 8, metric: 'dotproduct' } } },
      tags: { env: 'test' },
      deletion_protection: 'disabled',
    });
    const python = await gateway.call('GET', '/indexes', { apiKey: editor.value, headers: { 'x-pinecone-api-version': '2025-10' } });
    expect(python.body.indexes[0]).toMatchObject({ name: 'docs', dimension: 8, vector_type: 'dense' });
    expect(python.body.indexes[0].deployment).toBeUndefined();
    const unknown = await gateway.call('GET', '/indexes', { apiKey: editor.value, headers: { 'x-pinecone-api-version': '2030-01' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/2026-07/) }, status: 400 });
    const created = await gateway.call('POST', '/indexes', {
      apiKey: editor.value,
      headers: { 'x-pinecone-api-version': '2026-07' },
      body: { name: 'typed', schema: { fields: { _values: { type: 'dense_vector', dimension: 2, metric: 'cosine' }, genre: { type: 'string', filterable: true } } } },
    });
    expect(created.status).toBe(201);
    // The store got the schema in the wire shape, and the catalog keeps it.
    expect(stores.flatMap((s) => [...s.indexes.values()]).find((settings) => settings.dimension === 2)?.schema?.fields.genre).toEqual({ type: 'string', filterable: true });
    const classic = await gateway.call('GET', '/indexes/typed', { apiKey: editor.value, headers: { 'x-pinecone-api-version': '2025-10' } });
    expect(classic.body.spec.serverless.schema).toEqual({ fields: { genre: { filterable: true } } });
    expect((await gateway.call('DELETE', '/indexes/typed', { apiKey: editor.value })).status).toBe(202);
  });

  it('places indexes on the least loaded node', async () => {
    await gateway.call('POST', '/indexes', { apiKey: editor.value, body: { name: 'placed', dimension: 4, spec } });
    expect(stores.map((s) => s.indexes.size)).toEqual([1, 1]);
  });

  it('201 sparse index: no dimension in the model, dotproduct', async () => {
    const response = await gateway.call('POST', '/indexes', { apiKey: editor.value, body: { name: 'sparse', vector_type: 'sparse', spec } });
    expect(response.status).toBe(201);
    expect('dimension' in response.body).toBe(false);
    expect(response.body).toMatchObject({ metric: 'dotproduct', vector_type: 'sparse' });
  });

  it('409 ALREADY_EXISTS on a duplicate name', async () => {
    const response = await gateway.call('POST', '/indexes', { apiKey: editor.value, body: { name: 'docs', dimension: 8, spec } });
    expect(response.status).toBe(409);
    expect(response.body).toEqual({
      error: { code: 'ALREADY_EXISTS', message: expect.any(String) },
      status: 409,
      message: expect.any(String),
    });
  });

  it('400 INVALID_ARGUMENT for bad names, dimensions and specs', async () => {
    for (const body of [
      { name: 'Docs', dimension: 8, spec },
      { name: 'a'.repeat(46), dimension: 8, spec },
      { name: 'ok', dimension: 0, spec },
      { name: 'ok', dimension: 8 },
      { name: 'ok', dimension: 8, spec: { pod: { environment: 'x', pod_type: 'p1.x1' } } },
    ]) {
      const response = await gateway.call('POST', '/indexes', { apiKey: editor.value, body });
      expect({ body, status: response.status }).toEqual({ body, status: 400 });
      expect(response.body.error.code).toBe('INVALID_ARGUMENT');
      expect(typeof response.body.message).toBe('string');
    }
    expect((await gateway.call('POST', '/indexes', { apiKey: editor.value, raw: '{"name":' })).status).toBe(400);
  });

  it('200 list and describe; percent-encoded names and //indexes work', async () => {
    const list = await gateway.call('GET', '//indexes', { apiKey: viewer.value });
    expect(list.status).toBe(200);
    expect(list.body.indexes.map((i: { name: string }) => i.name)).toEqual(['docs', 'placed', 'sparse']);
    const described = await gateway.call('GET', '/indexes/%64ocs', { apiKey: viewer.value });
    expect(described.status).toBe(200);
    expect(described.body).toEqual(list.body.indexes[0]);
  });

  it('404 for another project\'s index, exactly like a missing one', async () => {
    const missing = await gateway.call('GET', '/indexes/nope', { apiKey: other.value });
    const foreign = await gateway.call('GET', '/indexes/docs', { apiKey: other.value });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual({ ...missing.body, error: { ...missing.body.error, message: expect.any(String) }, message: expect.any(String) });
    expect(foreign.body.error.code).toBe('NOT_FOUND');
    expect((await gateway.call('DELETE', '/indexes/docs', { apiKey: other.value })).status).toBe(404);
    expect((await gateway.call('GET', '/indexes', { apiKey: other.value })).body).toEqual({ indexes: [] });
  });

  it('403 PERMISSION_DENIED for DataPlane keys and for viewers writing; 401 without a key', async () => {
    const dataList = await gateway.call('GET', '/indexes', { apiKey: dataEditor.value });
    expect(dataList.status).toBe(403);
    expect(dataList.body.error.code).toBe('PERMISSION_DENIED');
    expect((await gateway.call('GET', '/indexes/docs', { apiKey: dataEditor.value })).status).toBe(403);
    expect((await gateway.call('POST', '/indexes', { apiKey: viewer.value, body: { name: 'x', dimension: 2, spec } })).status).toBe(403);
    expect((await gateway.call('DELETE', '/indexes/docs', { apiKey: viewer.value })).status).toBe(403);
    expect((await gateway.call('GET', '/indexes')).status).toBe(401);
  });

  it('index scope: list shows only scoped indexes, describe of others 404', async () => {
    const scoped = await catalog.createKey(projectId, { roles: ['ProjectViewer'], indexScope: ['placed'] });
    const list = await gateway.call('GET', '/indexes', { apiKey: scoped.value });
    expect(list.body.indexes.map((i: { name: string }) => i.name)).toEqual(['placed']);
    expect((await gateway.call('GET', '/indexes/docs', { apiKey: scoped.value })).status).toBe(404);
  });

  it('202 configure: deletion protection and merged tags ("" removes one)', async () => {
    const response = await gateway.call('PATCH', '/indexes/docs', {
      apiKey: editor.value,
      body: { deletion_protection: 'enabled', tags: { env: '', team: 'search' } },
    });
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ name: 'docs', deletion_protection: 'enabled', tags: { team: 'search' } });
    expect((await gateway.call('GET', '/indexes/docs', { apiKey: viewer.value })).body.tags).toEqual({ team: 'search' });
    expect((await gateway.call('PATCH', '/indexes/docs', { apiKey: editor.value, body: { deletion_protection: 'maybe' } })).status).toBe(400);
  });

  it('403 FORBIDDEN deleting a protected index; 202 once protection is off, then 404', async () => {
    const refused = await gateway.call('DELETE', '/indexes/docs', { apiKey: editor.value });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('FORBIDDEN');
    await gateway.call('PATCH', '/indexes/docs', { apiKey: editor.value, body: { deletion_protection: 'disabled' } });
    const before = stores.reduce((n, s) => n + s.indexes.size, 0);
    const deleted = await gateway.call('DELETE', '/indexes/docs', { apiKey: editor.value });
    expect(deleted.status).toBe(202);
    expect(deleted.text).toBe('');
    expect(stores.reduce((n, s) => n + s.indexes.size, 0)).toBe(before - 1);
    expect((await gateway.call('GET', '/indexes/docs', { apiKey: editor.value })).status).toBe(404);
    expect((await gateway.call('DELETE', '/indexes/docs', { apiKey: editor.value })).status).toBe(404);
  });

  it('a deleted name can be created again', async () => {
    const response = await gateway.call('POST', '/indexes', { apiKey: editor.value, body: { name: 'docs', dimension: 3, spec } });
    expect(response.status).toBe(201);
    expect(response.body.dimension).toBe(3);
  });

  it('503 UNAVAILABLE when the node fails to create the index, and the name stays free', async () => {
    for (const store of stores) store.failCreates = true;
    const response = await gateway.call('POST', '/indexes', { apiKey: editor.value, body: { name: 'flaky', dimension: 3, spec } });
    for (const store of stores) store.failCreates = false;
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('UNAVAILABLE');
    expect((await gateway.call('GET', '/indexes/flaky', { apiKey: editor.value })).status).toBe(404);
    expect((await gateway.call('POST', '/indexes', { apiKey: editor.value, body: { name: 'flaky', dimension: 3, spec } })).status).toBe(201);
  });

  it('the ProjectIndexRemover removes every index of a project, protected ones included', async () => {
    const { ProjectIndexRemover } = await import('../../src/tenants/project-index-remover.js');
    const projectB = await catalog.createProject();
    const keyB = await catalog.createKey(projectB, { roles: ['ProjectEditor'] });
    await gateway.call('POST', '/indexes', { apiKey: keyB.value, body: { name: 'a', dimension: 3, spec, deletion_protection: 'enabled' } });
    await gateway.call('POST', '/indexes', { apiKey: keyB.value, body: { name: 'b', dimension: 3, spec } });
    expect(await gateway.app.get(ProjectIndexRemover).removeAllIndexes(projectB)).toBe(2);
    expect((await gateway.call('GET', '/indexes', { apiKey: keyB.value })).body).toEqual({ indexes: [] });
  });

  it('reconciliation finishes a creation interrupted before the node was called', async () => {
    const { IndexesService } = await import('../../src/indexes/indexes.service.js');
    const created = await gateway.call('POST', '/indexes', { apiKey: editor.value, body: { name: 'interrupted', dimension: 3, spec } });
    expect(created.status).toBe(201);
    const { rows } = await catalog.pool.query<{ id: string }>(
      "UPDATE indexes SET state = 'Initializing', updated_at = now() - interval '10 minutes' WHERE project_id = $1 AND name = 'interrupted' RETURNING id",
      [projectId],
    );
    for (const store of stores) store.indexes.delete(rows[0]!.id);
    expect((await gateway.call('GET', '/indexes/interrupted', { apiKey: viewer.value })).body.status).toEqual({ ready: false, state: 'Initializing' });
    await gateway.app.get(IndexesService).reconcile();
    expect((await gateway.call('GET', '/indexes/interrupted', { apiKey: viewer.value })).body.status).toEqual({ ready: true, state: 'Ready' });
    expect(stores.some((s) => s.indexes.has(rows[0]!.id))).toBe(true);
  });
});
