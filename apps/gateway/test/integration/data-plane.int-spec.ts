// Data-plane routing on the real gateway app (real Postgres and Redis) in front of fake vector-store nodes
// (test doubles of the internal API): what is forwarded (path, query, body bytes, internal token, never the
// Api-Key), what comes back (status and body unchanged), and every refusal in the gRPC-style body.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { FakeVectorStore } from '../support/fake-vector-store.js';
import { TestCatalog, type TestKey } from '../support/auth-gateway.js';
import { INTERNAL_TOKEN, startIndexesGateway, type IndexesGateway } from '../support/indexes-gateway.js';

const spec = { serverless: { cloud: 'aws', region: 'us-east-1' } };
const UPSTREAM_TIMEOUT_MS = 500;
const MAX_BODY_BYTES = 64 * 1024;

describe('data plane forwarding', () => {
  let store: FakeVectorStore;
  let gateway: IndexesGateway;
  let catalog: TestCatalog;
  let projectId: string;
  let editor: TestKey;
  let other: TestKey;
  let indexId: string;
  let base: string;

  async function indexIdOf(name: string): Promise<string> {
    const { rows } = await catalog.pool.query<{ id: string }>('SELECT id FROM indexes WHERE project_id = $1 AND name = $2', [projectId, name]);
    return rows[0]!.id;
  }

  beforeAll(async () => {
    store = await new FakeVectorStore(INTERNAL_TOKEN).start();
    gateway = await startIndexesGateway({
      CONIFER_VECTOR_STORE_URLS: store.url,
      CONIFER_UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
      CONIFER_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      CONIFER_INDEX_HOST_SUFFIX: 'idx.conifer.test',
    });
    catalog = new TestCatalog();
    projectId = await catalog.createProject();
    editor = await catalog.createKey(projectId, { roles: ['ProjectEditor'] });
    other = await catalog.createKey(await catalog.createProject(), { roles: ['ProjectEditor'] });
    const created = await gateway.call('POST', '/indexes', { apiKey: editor.value, body: { name: 'movies', dimension: 2, spec } });
    expect(created.status).toBe(201);
    indexId = await indexIdOf('movies');
    base = `/data/${projectId}/movies`;
  });

  afterAll(async () => {
    await gateway?.close();
    await catalog?.close();
    await store?.stop();
  });

  it('forwards the body bytes unchanged with the internal token and without the Api-Key', async () => {
    const raw = '{ "vectors": [ {"id":"a", "values":[0.1, 0.2]} ],\n  "namespace": "en" }';
    const response = await gateway.call('POST', `${base}/vectors/upsert`, { apiKey: editor.value, raw });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ upsertedCount: 1 });
    const forwarded = store.dataRequests(indexId).at(-1)!;
    expect(forwarded.method).toBe('POST');
    expect(forwarded.url).toBe(`/internal/indexes/${indexId}/vectors/upsert`);
    expect(forwarded.body.toString('utf8')).toBe(raw);
    expect(forwarded.headers['x-conifer-internal-token']).toBe(INTERNAL_TOKEN);
    expect(forwarded.headers['api-key']).toBeUndefined();
    expect(forwarded.headers['content-type']).toBe('application/json');
  });

  it('keeps the query string and encodes namespace path parameters', async () => {
    const fetched = await gateway.call('GET', `${base}/vectors/fetch?ids=a&ids=b%20c&namespace=en`, { apiKey: editor.value });
    expect(fetched.status).toBe(200);
    expect(store.dataRequests(indexId).at(-1)!.url).toBe(`/internal/indexes/${indexId}/vectors/fetch?ids=a&ids=b%20c&namespace=en`);
    await gateway.call('DELETE', `${base}/namespaces/my%20ns%2Fx`, { apiKey: editor.value });
    expect(store.dataRequests(indexId).at(-1)).toMatchObject({ method: 'DELETE', url: `/internal/indexes/${indexId}/namespaces/my%20ns%2Fx` });
    for (const [method, path] of [
      ['POST', '/query'],
      ['POST', '/vectors/update'],
      ['POST', '/vectors/delete'],
      ['POST', '/vectors/fetch_by_metadata'],
      ['GET', '/vectors/list?prefix=a&limit=5'],
      ['POST', '/namespaces'],
      ['GET', '/namespaces/en'],
    ] as const) {
      const response = await gateway.call(method, `${base}${path}`, { apiKey: editor.value, ...(method === 'POST' ? { body: { namespace: 'en', name: 'en' } } : {}) });
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
      expect(store.dataRequests(indexId).at(-1)).toMatchObject({ method, url: `/internal/indexes/${indexId}${path}` });
    }
  });

  it('passes the store\'s error status and body through unchanged', async () => {
    const response = await gateway.call('POST', `${base}/vectors/upsert`, { apiKey: editor.value, body: { vectors: [{ id: 'a', values: [1, 2, 3] }] } });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ code: 3, message: 'Vector dimension does not match the dimension of the index 2', details: [] });
  });

  it('401 without Api-Key, in the gRPC-style body', async () => {
    const response = await gateway.call('POST', `${base}/query`, { body: { topK: 1, vector: [1, 0] } });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ code: 16, message: expect.any(String), details: [] });
  });

  it('404 for a missing index and for another project\'s index alike (code 5)', async () => {
    const missing = await gateway.call('POST', `/data/${projectId}/nope/query`, { apiKey: editor.value, body: {} });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ code: 5, message: 'Index nope not found', details: [] });
    const foreign = await gateway.call('POST', `${base}/query`, { apiKey: other.value, body: {} });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual({ code: 5, message: 'Index movies not found', details: [] });
  });

  it('403 for keys lacking the role or the index in their scope (code 7)', async () => {
    const viewer = await catalog.createKey(projectId, { roles: ['DataPlaneViewer'] });
    const controlOnly = await catalog.createKey(projectId, { roles: ['ControlPlaneEditor'] });
    const scoped = await catalog.createKey(projectId, { roles: ['DataPlaneEditor'], indexScope: ['books'] });
    expect((await gateway.call('POST', `${base}/query`, { apiKey: viewer.value, body: {} })).status).toBe(200);
    const write = await gateway.call('POST', `${base}/vectors/upsert`, { apiKey: viewer.value, body: { vectors: [] } });
    expect(write.status).toBe(403);
    expect(write.body.code).toBe(7);
    expect((await gateway.call('GET', `${base}/vectors/list`, { apiKey: controlOnly.value })).status).toBe(403);
    const outOfScope = await gateway.call('POST', `${base}/query`, { apiKey: scoped.value, body: {} });
    expect(outOfScope.status).toBe(403);
    expect(outOfScope.body).toEqual({ code: 7, message: expect.stringContaining('movies'), details: [] });
  });

  it('namespace scope: 403 outside it, "" and __default__ alike, listings narrowed to it', async () => {
    const key = await catalog.createKey(projectId, { roles: ['DataPlaneEditor'], namespaceScope: ['', 'en'] });
    const call = (method: string, path: string, body?: unknown) => gateway.call(method, `${base}${path}`, { apiKey: key.value, body });
    expect((await call('POST', '/query', { namespace: 'en', topK: 1 })).status).toBe(200);
    expect((await call('POST', '/query', { topK: 1 })).status).toBe(200);
    expect((await call('POST', '/query', { namespace: '__default__', topK: 1 })).status).toBe(200);
    const denied = await call('POST', '/vectors/upsert', { namespace: 'fr', vectors: [] });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe(7);
    expect((await call('GET', '/vectors/fetch?ids=a&namespace=fr')).status).toBe(403);
    expect((await call('GET', '/vectors/list?namespace=en')).status).toBe(200);
    expect((await call('DELETE', '/namespaces/fr')).status).toBe(403);
    expect((await call('POST', '/namespaces', { name: 'fr' })).status).toBe(403);
    const stats = await call('POST', '/describe_index_stats', {});
    expect(stats.body.namespaces).toEqual({ '': { vectorCount: 2 }, en: { vectorCount: 3 } });
    expect(stats.body.totalVectorCount).toBe(5);
    const namespaces = await call('GET', '/namespaces');
    expect(namespaces.body).toEqual({ namespaces: [{ name: '__default__', record_count: 2 }, { name: 'en', record_count: 3 }], total_count: 2 });
    const invalid = await gateway.call('POST', `${base}/query`, { apiKey: key.value, raw: '{"namespace":' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.code).toBe(3);
  });

  it('413 for a body over the limit, refused before parsing, in the gRPC-style body', async () => {
    const raw = JSON.stringify({ vectors: [{ id: 'big', values: [1, 2], metadata: { text: 'x'.repeat(MAX_BODY_BYTES) } }] });
    const before = store.allDataRequests().length;
    const response = await gateway.call('POST', `${base}/vectors/upsert`, { apiKey: editor.value, raw });
    expect(response.status).toBe(413);
    expect(response.body).toEqual({ code: 3, message: expect.any(String), details: [] });
    expect(store.allDataRequests().length).toBe(before);
  });

  it('routes by Host header <index>-<project>.<suffix> as by path prefix', async () => {
    const host = `movies-${projectId}.idx.conifer.test`;
    const described = await gateway.call('GET', '/indexes/movies', { apiKey: editor.value });
    expect(described.body.host).toBe(`http://${host}`);
    const viaHost = async (hostHeader: string, path: string, apiKey: string | undefined, body: string) => {
      const response = await request(gateway.baseUrl + path, {
        method: 'POST',
        headers: { host: hostHeader, 'content-type': 'application/json', ...(apiKey ? { 'api-key': apiKey } : {}) },
        body,
      });
      return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
    };
    const response = await viaHost(host, '/vectors/upsert', editor.value, '{"vectors":[{"id":"h","values":[1,2]}]}');
    expect(response).toEqual({ status: 200, body: { upsertedCount: 1 } });
    expect(store.dataRequests(indexId).at(-1)!.url).toBe(`/internal/indexes/${indexId}/vectors/upsert`);
    const unauthenticated = await viaHost(`${host}:8443`, '/query', undefined, '{}');
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.body).toMatchObject({ code: 16, details: [] });
    const tooLarge = await viaHost(host, '/vectors/upsert', editor.value, 'x'.repeat(MAX_BODY_BYTES + 1));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toMatchObject({ code: 3, details: [] });
    const unknownHost = await viaHost('gateway.conifer.test', '/query', editor.value, '{}');
    expect(unknownHost.status).toBe(404);
  });

  it('records the upstream latency histogram', async () => {
    const metrics = await gateway.call('GET', '/metrics');
    expect(metrics.text).toMatch(/conifer_upstream_request_duration_seconds_count\{operation="upsert",outcome="ok"\} \d+/);
  });

  it('counts every data-plane request in the HTTP and upstream metrics (children cached per label set)', async () => {
    const count = async (pattern: RegExp) => Number(pattern.exec((await gateway.call('GET', '/metrics')).text)?.[1] ?? 0);
    const ok = /conifer_http_requests_total\{route="\/data\/:projectId\/:indexName\/query",method="POST",status="200",outcome="success"\} (\d+)/;
    const denied = /conifer_http_requests_total\{route="\/data\/:projectId\/:indexName\/query",method="POST",status="401",outcome="client_error"\} (\d+)/;
    const upstream = /conifer_upstream_request_duration_seconds_count\{operation="query",outcome="ok"\} (\d+)/;
    const before = [await count(ok), await count(denied), await count(upstream)];
    for (let i = 0; i < 3; i++) {
      const response = await gateway.call('POST', `${base}/query`, { apiKey: editor.value, body: { topK: 1, vector: [1, 0] } });
      expect(response.status).toBe(200);
    }
    expect((await gateway.call('POST', `${base}/query`, { body: { topK: 1, vector: [1, 0] } })).status).toBe(401);
    expect([await count(ok), await count(denied), await count(upstream)]).toEqual([before[0]! + 3, before[1]! + 1, before[2]! + 3]);
  });

  it('503 UNAVAILABLE (code 14) when the node does not answer within the upstream timeout', async () => {
    store.stall = true;
    try {
      const response = await gateway.call('POST', `${base}/query`, { apiKey: editor.value, body: { topK: 1, vector: [1, 0] } });
      expect(response.status).toBe(503);
      expect(response.body).toEqual({ code: 14, message: expect.any(String), details: [] });
    } finally {
      store.stall = false;
    }
  });

  it('registers the node (live, last seen) and is ready while it answers', async () => {
    const { rows } = await catalog.pool.query<{ state: string; last_seen_at: Date | null }>(
      'SELECT state, last_seen_at FROM vector_store_nodes WHERE url = $1',
      [store.url],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.state).toBe('live');
    expect(rows[0]!.last_seen_at).not.toBeNull();
    const ready = await gateway.call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks['vector-store']).toEqual({ ok: true });
  });

  it('503 UNAVAILABLE (code 14) when the node is down; not ready', async () => {
    await store.stop();
    const response = await gateway.call('POST', `${base}/query`, { apiKey: editor.value, body: { topK: 1, vector: [1, 0] } });
    expect(response.status).toBe(503);
    expect(response.body).toEqual({ code: 14, message: expect.any(String), details: [] });
    const ready = await gateway.call('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks['vector-store'].ok).toBe(false);
    const created = await gateway.call('POST', '/indexes', { apiKey: editor.value, body: { name: 'later', dimension: 2, spec } });
    expect(created.status).toBe(503);
    expect(created.body.error.code).toBe('UNAVAILABLE');
  });
});

describe('data plane routing across gateway replicas', () => {
  let store: FakeVectorStore;
  let gateways: IndexesGateway[];
  let catalog: TestCatalog;
  let projectId: string;
  let key: TestKey;

  beforeAll(async () => {
    store = await new FakeVectorStore(INTERNAL_TOKEN).start();
    gateways = await Promise.all([0, 1].map(() => startIndexesGateway({ CONIFER_VECTOR_STORE_URLS: store.url })));
    catalog = new TestCatalog();
    projectId = await catalog.createProject();
    key = await catalog.createKey(projectId, { roles: ['ProjectEditor'] });
  });

  afterAll(async () => {
    await Promise.all((gateways ?? []).map((g) => g.close()));
    await catalog?.close();
    await store?.stop();
  });

  it('a route cached by one replica follows a delete and re-create made through another', async () => {
    const [a, b] = gateways as [IndexesGateway, IndexesGateway];
    const upsert = (gateway: IndexesGateway) =>
      gateway.call('POST', `/data/${projectId}/shared/vectors/upsert`, { apiKey: key.value, body: { vectors: [{ id: 'x', values: [1, 2] }] } });
    expect((await a.call('POST', '/indexes', { apiKey: key.value, body: { name: 'shared', dimension: 2, spec } })).status).toBe(201);
    expect((await upsert(b)).status).toBe(200);
    // b has the old index id cached; the node answers 404 for it, b looks again and retries once.
    expect((await a.call('DELETE', '/indexes/shared', { apiKey: key.value })).status).toBe(202);
    expect((await a.call('POST', '/indexes', { apiKey: key.value, body: { name: 'shared', dimension: 2, spec } })).status).toBe(201);
    const again = await upsert(b);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ upsertedCount: 1 });
    expect((await a.call('DELETE', '/indexes/shared', { apiKey: key.value })).status).toBe(202);
    const gone = await upsert(b);
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({ code: 5, message: 'Index shared not found', details: [] });
  });
});
