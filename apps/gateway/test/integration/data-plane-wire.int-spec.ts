// The data plane's wire behaviour at the edges (issue 14 items 11, 12, 14), on the real gateway app in front of a
// fake vector-store node: answers are streamed through, not buffered; "is this the data plane" comes from the
// matched route, whatever the raw URL looks like, and the bytes are always forwarded as received; an upsert over
// the store's 2 MB limit is refused by the gateway itself with 413, never forwarded (the store would close the
// connection while the gateway is still sending, which used to surface as 503). Plus the single report of a
// finished data-plane request (key, operation, outcome).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { DataPlaneReports, type DataPlaneRequestReport } from '../../src/proxy/data-plane.reports.js';
import { FakeVectorStore } from '../support/fake-vector-store.js';
import { TestCatalog, type TestKey } from '../support/auth-gateway.js';
import { INTERNAL_TOKEN, startIndexesGateway, type IndexesGateway } from '../support/indexes-gateway.js';

const spec = { serverless: { cloud: 'aws', region: 'us-east-1' } };
const MAX_BODY_BYTES = 4 * 1024 * 1024;

describe('data plane wire edges', () => {
  let store: FakeVectorStore;
  let gateway: IndexesGateway;
  let catalog: TestCatalog;
  let projectId: string;
  let editor: TestKey;
  let scoped: TestKey;
  let indexId: string;
  let base: string;

  beforeAll(async () => {
    store = await new FakeVectorStore(INTERNAL_TOKEN).start();
    gateway = await startIndexesGateway({
      CONIFER_VECTOR_STORE_URLS: store.url,
      CONIFER_UPSTREAM_TIMEOUT_MS: '5000',
      CONIFER_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    });
    catalog = new TestCatalog();
    projectId = await catalog.createProject();
    editor = await catalog.createKey(projectId, { roles: ['ProjectEditor'] });
    scoped = await catalog.createKey(projectId, { roles: ['ProjectEditor'], namespaceScope: ['en'] });
    const created = await gateway.call('POST', '/indexes', { apiKey: editor.value, body: { name: 'wire', dimension: 2, spec } });
    expect(created.status).toBe(201);
    const { rows } = await catalog.pool.query<{ id: string }>('SELECT id FROM indexes WHERE project_id = $1 AND name = $2', [projectId, 'wire']);
    indexId = rows[0]!.id;
    base = `/data/${projectId}/wire`;
  });

  afterAll(async () => {
    await gateway?.close();
    await catalog?.close();
    await store?.stop();
  });

  it('a leading // and deeply nested JSON: forwarded as the received bytes, answered in the data-plane shape, never 500', async () => {
    const depth = 20_000;
    const raw = `{"topK":1,"vector":[1,0],"filter":${'{"$and":['.repeat(depth)}{"a":1}${']}'.repeat(depth)}}`;
    store.takeOver = (_request, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"matches":[],"namespace":"","usage":{"readUnits":1}}');
    };
    try {
      await nestedCase(raw);
    } finally {
      store.takeOver = undefined;
    }
  });

  async function nestedCase(raw: string): Promise<void> {
    const response = await gateway.call('POST', `/${base}/query`, { apiKey: editor.value, raw });
    expect(response.status).toBe(200);
    const forwarded = store.dataRequests(indexId).at(-1)!;
    expect(forwarded.url).toBe(`/internal/indexes/${indexId}/query`);
    expect(forwarded.body.toString('utf8')).toBe(raw);
    // A namespace-scoped key's body is parsed for the scope check, and still forwarded as received.
    const scopedRaw = raw.replace('{"topK":1,', '{"namespace":"en","topK":1,');
    const viaScoped = await gateway.call('POST', `//${base}/query`, { apiKey: scoped.value, raw: scopedRaw });
    expect(viaScoped.status).toBe(200);
    expect(store.dataRequests(indexId).at(-1)!.body.toString('utf8')).toBe(scopedRaw);
    // Refusals on such a URL speak the data-plane dialect (decided by the matched route).
    const unauthenticated = await gateway.call('POST', `/${base}/query`, { raw });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.body).toEqual({ code: 16, message: expect.any(String), details: [] });
  }

  it('400 in the data-plane shape, not 500, for an index name Postgres cannot hold (NUL byte)', async () => {
    const response = await gateway.call('POST', `/data/${projectId}/a%00b/query`, { apiKey: editor.value, body: { topK: 1, vector: [1, 0] } });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ code: 3, message: expect.any(String), details: [] });
  });

  it('413 (never 503) for an upsert over the 2 MB limit, every time, without forwarding it', async () => {
    const vectors = Array.from({ length: 40 }, (_, i) => ({ id: `v${i}`, values: [1, 2], metadata: { text: 'x'.repeat(64 * 1024) } }));
    const raw = JSON.stringify({ vectors });
    expect(raw.length).toBeGreaterThan(2 * 1024 * 1024);
    expect(raw.length).toBeLessThan(MAX_BODY_BYTES);
    const before = store.dataRequests(indexId).length;
    for (let attempt = 0; attempt < 5; attempt++) {
      const response = await gateway.call('POST', `${base}/vectors/upsert`, { apiKey: editor.value, raw });
      expect(response.status).toBe(413);
      expect(response.body).toEqual({ code: 3, message: expect.any(String), details: [] });
    }
    expect(store.dataRequests(indexId).length).toBe(before);
    // Other operations keep the general limit: a 2.5 MB query body is forwarded.
    const query = await gateway.call('POST', `${base}/query`, { apiKey: editor.value, raw: JSON.stringify({ topK: 1, vector: [1, 0], pad: 'y'.repeat(2.5 * 1024 * 1024) }) });
    expect(query.status).toBe(200);
  });

  it('streams the store\'s answer: the client has the first bytes before the store has sent the last', async () => {
    let finish: (() => void) | undefined;
    store.takeOver = (_request, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"matches":[');
      finish = () => res.end('],"namespace":"","usage":{"readUnits":1}}');
    };
    try {
      const response = await request(`${gateway.baseUrl}${base}/query`, {
        method: 'POST',
        headers: { 'api-key': editor.value, 'content-type': 'application/json' },
        body: '{"topK":1,"vector":[1,0]}',
        headersTimeout: 3_000,
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-request-id']).toEqual(expect.any(String));
      const iterator = response.body[Symbol.asyncIterator]();
      const first = (await iterator.next()).value as Buffer;
      expect(first.toString('utf8')).toBe('{"matches":[');
      finish!();
      let rest = '';
      for (let chunk = await iterator.next(); !chunk.done; chunk = await iterator.next()) rest += (chunk.value as Buffer).toString('utf8');
      expect(JSON.parse(first.toString('utf8') + rest)).toEqual({ matches: [], namespace: '', usage: { readUnits: 1 } });
    } finally {
      finish?.();
      store.takeOver = undefined;
    }
  });

  it('passes a large answer through intact and keeps the node live', async () => {
    const big = Buffer.from(JSON.stringify({ matches: Array.from({ length: 2000 }, (_, i) => ({ id: `m${i}`, score: 0.5, values: Array(1000).fill(0.123456) })) }));
    expect(big.length).toBeGreaterThan(16 * 1024 * 1024);
    store.takeOver = (_request, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(big.length) });
      res.end(big);
    };
    try {
      const response = await request(`${gateway.baseUrl}${base}/query`, {
        method: 'POST',
        headers: { 'api-key': editor.value, 'content-type': 'application/json' },
        body: '{"topK":2000,"vector":[1,0],"includeValues":true}',
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-length']).toBe(String(big.length));
      expect(Buffer.from(await response.body.arrayBuffer()).equals(big)).toBe(true);
    } finally {
      store.takeOver = undefined;
    }
    const after = await gateway.call('POST', `${base}/query`, { apiKey: editor.value, body: { topK: 1, vector: [1, 0] } });
    expect(after.status).toBe(200);
    expect((await gateway.call('GET', '/readyz')).status).toBe(200);
  });

  it('reports each finished data-plane request once, in one place (key, operation, outcome)', async () => {
    const reports: DataPlaneRequestReport[] = [];
    const unsubscribe = gateway.app.get(DataPlaneReports).subscribe((report) => reports.push(report));
    try {
      const ok = await gateway.call('POST', `${base}/query`, { apiKey: editor.value, body: { topK: 1, vector: [1, 0] } });
      const refused = await gateway.call('POST', `${base}/query`, { apiKey: 'pcsk_nope', body: {} });
      const outside = await gateway.call('GET', `${base}/vectors/fetch?ids=a&namespace=fr`, { apiKey: scoped.value });
      expect([ok.status, refused.status, outside.status]).toEqual([200, 401, 403]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(reports).toEqual([
        expect.objectContaining({ keyId: editor.keyId, projectId, operation: 'query', status: 200, outcome: 'ok', requestId: ok.headers.get('x-request-id') }),
        expect.objectContaining({ keyId: null, apiKeyId: null, operation: 'query', status: 401, outcome: 'unauthenticated' }),
        expect.objectContaining({ keyId: scoped.keyId, operation: 'fetch', status: 403, outcome: 'client_error' }),
      ]);
    } finally {
      unsubscribe();
    }
  });
});
