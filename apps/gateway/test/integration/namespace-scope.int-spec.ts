// Keys scoped to namespaces (issue 14, items 1, 2 and 6) on the real gateway app (real Postgres and Redis) in
// front of a fake vector-store node: a repeated ?namespace= is refused (the store would have read another value
// than the one checked), control-plane writes are refused whatever the roles, and the namespace listing is
// paginated over the namespaces the key may see.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeVectorStore } from '../support/fake-vector-store.js';
import { TestCatalog, type TestKey } from '../support/auth-gateway.js';
import { INTERNAL_TOKEN, startIndexesGateway, type IndexesGateway } from '../support/indexes-gateway.js';

const spec = { serverless: { cloud: 'aws', region: 'us-east-1' } };

describe('namespace-scoped keys', () => {
  let store: FakeVectorStore;
  let gateway: IndexesGateway;
  let catalog: TestCatalog;
  let projectId: string;
  let editor: TestKey;
  let scoped: TestKey;
  let base: string;

  beforeAll(async () => {
    store = await new FakeVectorStore(INTERNAL_TOKEN).start();
    gateway = await startIndexesGateway({ CONIFER_VECTOR_STORE_URLS: store.url });
    catalog = new TestCatalog();
    projectId = await catalog.createProject();
    editor = await catalog.createKey(projectId, { roles: ['ProjectEditor'] });
    scoped = await catalog.createKey(projectId, { roles: ['ProjectEditor'], namespaceScope: ['', 'en'] });
    expect((await gateway.call('POST', '/indexes', { apiKey: editor.value, body: { name: 'movies', dimension: 2, spec } })).status).toBe(201);
    base = `/data/${projectId}/movies`;
  });

  afterAll(async () => {
    await gateway?.close();
    await catalog?.close();
    await store?.stop();
  });

  it('400 for a repeated ?namespace= on fetch and list, never forwarded (the store read the last value)', async () => {
    const forwardedBefore = store.allDataRequests().length;
    for (const path of ['/vectors/fetch?ids=x&namespace=en&namespace=fr', '/vectors/list?namespace=en&namespace=fr']) {
      const response = await gateway.call('GET', `${base}${path}`, { apiKey: scoped.value });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ code: 3, message: expect.stringContaining('namespace'), details: [] });
    }
    expect(store.allDataRequests().length).toBe(forwardedBefore);
    expect((await gateway.call('GET', `${base}/vectors/fetch?ids=x&namespace=en`, { apiKey: scoped.value })).status).toBe(200);
  });

  it('403 for control-plane writes by a namespace-scoped key, whatever its roles; reads still work', async () => {
    const del = await gateway.call('DELETE', '/indexes/movies', { apiKey: scoped.value });
    expect(del.status).toBe(403);
    expect(del.body).toMatchObject({ error: { code: 'PERMISSION_DENIED', message: expect.stringContaining('namespaces') }, status: 403 });
    expect((await gateway.call('PATCH', '/indexes/movies', { apiKey: scoped.value, body: { deletion_protection: 'enabled' } })).status).toBe(403);
    expect((await gateway.call('POST', '/indexes', { apiKey: scoped.value, body: { name: 'other', dimension: 2, spec } })).status).toBe(403);
    expect((await gateway.call('GET', '/indexes/movies', { apiKey: scoped.value })).status).toBe(200);
    expect((await gateway.call('GET', '/indexes/movies', { apiKey: editor.value })).status).toBe(200);
  });

  it('GET /namespaces is paginated over the namespaces in scope: no token names a hidden namespace', async () => {
    const first = await gateway.call('GET', `${base}/namespaces?limit=1`, { apiKey: scoped.value });
    expect(first.status).toBe(200);
    expect(first.body.namespaces).toEqual([{ name: '__default__', record_count: 2 }]);
    expect(first.body.total_count).toBe(2);
    expect(Buffer.from(first.body.pagination.next, 'base64url').toString()).toBe('__default__');
    const second = await gateway.call('GET', `${base}/namespaces?limit=1&paginationToken=${first.body.pagination.next}`, { apiKey: scoped.value });
    expect(second.body).toEqual({ namespaces: [{ name: 'en', record_count: 3 }], total_count: 2 });
    expect((await gateway.call('GET', `${base}/namespaces?limit=1&limit=2`, { apiKey: scoped.value })).status).toBe(400);
    // An unscoped key still gets the store's own listing.
    expect((await gateway.call('GET', `${base}/namespaces`, { apiKey: editor.value })).body.total_count).toBe(3);
  });
});
