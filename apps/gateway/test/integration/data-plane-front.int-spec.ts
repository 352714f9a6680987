// The data plane's front path (src/proxy/data-plane.front.ts): plain data-plane requests answered ahead of
// Fastify, on the real gateway app (real Postgres and Redis) in front of a fake vector-store node. What it must
// keep: the request id, Pinecone's gRPC-style errors, the key checks (a revoked key refused at once, also on a
// keep-alive connection that presented it before), the HTTP metrics under the routes' labels, the streamed
// answer; and what it must leave to Fastify (chunked or oversized bodies, other media types, encoded paths).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { Pool } from 'undici';
import { KeyEvents } from '../../src/auth/key-events.js';
import { FakeVectorStore } from '../support/fake-vector-store.js';
import { TestCatalog, type TestKey } from '../support/auth-gateway.js';
import { INTERNAL_TOKEN, startIndexesGateway, type IndexesGateway } from '../support/indexes-gateway.js';

const spec = { serverless: { cloud: 'aws', region: 'us-east-1' } };
const MAX_BODY_BYTES = 64 * 1024;
const QUERY = JSON.stringify({ vector: [0.1, 0.2], topK: 1 });

describe('data plane front path', () => {
  let store: FakeVectorStore;
  let gateway: IndexesGateway;
  let catalog: TestCatalog;
  let projectId: string;
  let editor: TestKey;
  let viewer: TestKey;
  let indexId: string;
  let base: string;
  let connection: Pool;

  /** One keep-alive connection for every request of a test (the per-connection key memo is exercised). */
  async function send(method: 'GET' | 'POST' | 'DELETE', path: string, options: { apiKey?: string; body?: string | Buffer | AsyncIterable<Buffer>; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers };
    if (options.apiKey !== undefined) headers['api-key'] = options.apiKey;
    const body = options.body === undefined || typeof options.body === 'string' || Buffer.isBuffer(options.body) ? options.body : Readable.from(options.body);
    const response = await connection.request({ method, path, headers, body });
    const text = await response.body.text();
    return { status: response.statusCode, headers: response.headers, text, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  }

  async function metricCount(route: string, status: number): Promise<number> {
    const text = (await gateway.call('GET', '/metrics')).text;
    const line = text.split('\n').find((l) => l.startsWith(`conifer_http_requests_total{route="${route}",method="POST",status="${status}"`));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  }

  beforeAll(async () => {
    store = await new FakeVectorStore(INTERNAL_TOKEN).start();
    gateway = await startIndexesGateway({
      CONIFER_VECTOR_STORE_URLS: store.url,
      CONIFER_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      CONIFER_INDEX_HOST_SUFFIX: 'idx.conifer.test',
    });
    catalog = new TestCatalog();
    projectId = await catalog.createProject();
    editor = await catalog.createKey(projectId, { roles: ['ProjectEditor'] });
    viewer = await catalog.createKey(projectId, { roles: ['ProjectViewer'] });
    const created = await gateway.call('POST', '/indexes', { apiKey: editor.value, body: { name: 'movies', dimension: 2, spec } });
    expect(created.status).toBe(201);
    const { rows } = await catalog.pool.query<{ id: string }>('SELECT id FROM indexes WHERE project_id = $1 AND name = $2', [projectId, 'movies']);
    indexId = rows[0]!.id;
    base = `/data/${projectId}/movies`;
    connection = new Pool(gateway.baseUrl, { connections: 1, pipelining: 1 });
  });

  afterAll(async () => {
    await connection?.close();
    await gateway?.close();
    await catalog?.close();
    await store?.stop();
  });

  it('answers with the request id it was given, or a fresh one; forwards the bytes and the request id', async () => {
    const given = await send('POST', `${base}/query`, { apiKey: editor.value, body: QUERY, headers: { 'x-request-id': 'front-1' } });
    expect(given.status).toBe(200);
    expect(given.headers['x-request-id']).toBe('front-1');
    expect(given.headers['content-type']).toBe('application/json');
    const forwarded = store.dataRequests(indexId).at(-1)!;
    expect(forwarded.url).toBe(`/internal/indexes/${indexId}/query`);
    expect(forwarded.body.toString()).toBe(QUERY);
    expect(forwarded.headers['x-request-id']).toBe('front-1');
    expect(forwarded.headers['api-key']).toBeUndefined();
    const fresh = await send('POST', `${base}/query`, { apiKey: editor.value, body: QUERY, headers: { 'x-request-id': 'not a token!' } });
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    // A body that arrives in several chunks is forwarded whole.
    const parts = [Buffer.from(QUERY.slice(0, 5)), Buffer.from(QUERY.slice(5))];
    const chunked = await send('POST', `${base}/query`, {
      apiKey: editor.value,
      headers: { 'content-length': String(QUERY.length) },
      body: (async function* () {
        for (const part of parts) {
          yield part;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })(),
    });
    expect(chunked.status).toBe(200);
    expect(store.dataRequests(indexId).at(-1)!.body.toString()).toBe(QUERY);
  });

  it('checks a namespace-scoped key against the namespace of a body that arrives in chunks, and forwards it whole', async () => {
    const scoped = await catalog.createKey(projectId, { roles: ['ProjectEditor'], namespaceScope: ['en'] });
    const inChunks = (text: string) =>
      (async function* () {
        for (const part of [text.slice(0, 9), text.slice(9, 20), text.slice(20)]) {
          yield Buffer.from(part);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
    const allowed = JSON.stringify({ vector: [0.1, 0.2], topK: 1, namespace: 'en' });
    const ok = await send('POST', `${base}/query`, { apiKey: scoped.value, headers: { 'content-length': String(allowed.length) }, body: inChunks(allowed) });
    expect(ok.status).toBe(200);
    expect(store.dataRequests(indexId).at(-1)!.body.toString()).toBe(allowed);
    const before = store.dataRequests(indexId).length;
    const other = JSON.stringify({ vector: [0.1, 0.2], topK: 1, namespace: 'fr' });
    const refused = await send('POST', `${base}/query`, { apiKey: scoped.value, headers: { 'content-length': String(other.length) }, body: inChunks(other) });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 7 });
    expect(store.dataRequests(indexId).length).toBe(before);
  });

  it('a body in several chunks: forwarded whole, and read whole for a namespace-scoped key', async () => {
    const scoped = await catalog.createKey(projectId, { roles: ['ProjectEditor'], namespaceScope: ['en'] });
    const chunks = (text: string) =>
      (async function* () {
        for (let at = 0; at < text.length; at += 7) {
          yield Buffer.from(text.slice(at, at + 7));
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
    const upsert = (namespace: string) => JSON.stringify({ namespace, vectors: [{ id: 'a', values: [0.1, 0.2] }] });
    const inScope = await send('POST', `${base}/vectors/upsert`, { apiKey: scoped.value, headers: { 'content-length': String(upsert('en').length) }, body: chunks(upsert('en')) });
    expect(inScope.status).toBe(200);
    expect(store.dataRequests(indexId).at(-1)!.body.toString()).toBe(upsert('en'));
    const before = store.dataRequests(indexId).length;
    const outside = await send('POST', `${base}/vectors/upsert`, { apiKey: scoped.value, headers: { 'content-length': String(upsert('fr').length) }, body: chunks(upsert('fr')) });
    expect(outside.status).toBe(403);
    expect(store.dataRequests(indexId)).toHaveLength(before);
    const unscoped = await send('POST', `${base}/vectors/upsert`, { apiKey: editor.value, headers: { 'content-length': String(upsert('fr').length) }, body: chunks(upsert('fr')) });
    expect(unscoped.status).toBe(200);
    expect(store.dataRequests(indexId).at(-1)!.body.toString()).toBe(upsert('fr'));
  });

  it('refuses in the gRPC-style shape, with the request id: no key, a wrong key, a role that does not allow it, another index', async () => {
    const missing = await send('POST', `${base}/query`, { body: QUERY, headers: { 'x-request-id': 'front-401' } });
    expect(missing.status).toBe(401);
    expect(missing.body).toMatchObject({ code: 16, details: [] });
    expect(typeof missing.body!.message).toBe('string');
    expect(missing.headers['x-request-id']).toBe('front-401');
    const wrongKey = editor.value.slice(0, -1) + (editor.value.endsWith('x') ? 'y' : 'x');
    const wrong = await send('POST', `${base}/query`, { apiKey: wrongKey, body: QUERY });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ code: 16 });
    const forbidden = await send('POST', `${base}/vectors/upsert`, { apiKey: viewer.value, body: JSON.stringify({ vectors: [] }) });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ code: 7 });
    const elsewhere = await send('POST', `/data/${projectId}/nope/query`, { apiKey: editor.value, body: QUERY });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body).toMatchObject({ code: 5 });
  });

  it('a revoked key is refused on the connection that presented it before, at once', async () => {
    const key = await catalog.createKey(projectId, { roles: ['ProjectEditor'] });
    for (let i = 0; i < 3; i++) expect((await send('POST', `${base}/query`, { apiKey: key.value, body: QUERY })).status).toBe(200);
    await catalog.revoke(key.keyId);
    await gateway.app.get(KeyEvents).keyChanged({ keyId: key.keyId, reason: 'revoked' });
    const refused = await send('POST', `${base}/query`, { apiKey: key.value, body: QUERY });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: 16 });
    // The other key on the same connection is not affected.
    expect((await send('POST', `${base}/query`, { apiKey: editor.value, body: QUERY })).status).toBe(200);
  });

  it('counts requests in the HTTP metrics under the route labels Fastify uses', async () => {
    const route = '/data/:projectId/:indexName/query';
    const [ok, unauthenticated] = [await metricCount(route, 200), await metricCount(route, 401)];
    await send('POST', `${base}/query`, { apiKey: editor.value, body: QUERY });
    await send('POST', `${base}/query`, { body: QUERY });
    // The count is taken when the answer is finished; wait for the metrics to show it.
    for (let i = 0; i < 50 && (await metricCount(route, 401)) === unauthenticated; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await metricCount(route, 200)).toBe(ok + 1);
    expect(await metricCount(route, 401)).toBe(unauthenticated + 1);
  });

  it('namespace routes: the namespace is forwarded, checked against a scoped key, and an encoded one is left to Fastify', async () => {
    const search = JSON.stringify({ query: { inputs: { text: 'x' }, top_k: 1 } });
    await send('POST', `${base}/namespaces/en/documents/search?x=1`, { apiKey: editor.value, body: search });
    expect(store.dataRequests(indexId).at(-1)).toMatchObject({ method: 'POST', url: `/internal/indexes/${indexId}/namespaces/en/documents/search?x=1` });
    expect(store.dataRequests(indexId).at(-1)!.body.toString()).toBe(search);
    await send('GET', `${base}/namespaces/en`, { apiKey: editor.value });
    expect(store.dataRequests(indexId).at(-1)).toMatchObject({ method: 'GET', url: `/internal/indexes/${indexId}/namespaces/en` });
    await send('DELETE', `${base}/namespaces/old`, { apiKey: editor.value });
    expect(store.dataRequests(indexId).at(-1)).toMatchObject({ method: 'DELETE', url: `/internal/indexes/${indexId}/namespaces/old` });
    const scoped = await catalog.createKey(projectId, { roles: ['ProjectEditor'], namespaceScope: ['en'] });
    const before = store.dataRequests(indexId).length;
    const refused = await send('POST', `${base}/namespaces/fr/documents/search`, { apiKey: scoped.value, body: search });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 7 });
    expect(store.dataRequests(indexId).length).toBe(before);
    await send('POST', `${base}/namespaces/en/documents/search`, { apiKey: scoped.value, body: search });
    expect(store.dataRequests(indexId).length).toBe(before + 1);
    // Encoded, and a literal ':namespace' segment: Fastify's routes decode and answer them as before.
    await send('GET', `${base}/namespaces/my%20ns%2Fx`, { apiKey: editor.value });
    expect(store.dataRequests(indexId).at(-1)!.url).toBe(`/internal/indexes/${indexId}/namespaces/my%20ns%2Fx`);
    await send('GET', `${base}/namespaces/:namespace`, { apiKey: editor.value });
    expect(store.dataRequests(indexId).at(-1)!.url).toBe(`/internal/indexes/${indexId}/namespaces/%3Anamespace`);
    // On an index host.
    await send('GET', '/namespaces/en', { apiKey: editor.value, headers: { host: `movies-${projectId}.idx.conifer.test` } });
    expect(store.dataRequests(indexId).at(-1)).toMatchObject({ method: 'GET', url: `/internal/indexes/${indexId}/namespaces/en` });
  });

  it('streams a large answer through, with its length', async () => {
    const big = Buffer.from(JSON.stringify({ matches: 'x'.repeat(300_000) }));
    store.takeOver = (_request, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(big.length) });
      res.end(big);
    };
    try {
      const answer = await send('POST', `${base}/query`, { apiKey: editor.value, body: QUERY });
      expect(answer.status).toBe(200);
      expect(answer.headers['content-length']).toBe(String(big.length));
      expect(answer.text.length).toBe(big.length);
      expect(answer.headers['x-request-id']).toBeDefined();
    } finally {
      store.takeOver = undefined;
    }
  });

  it('leaves what is not plain to Fastify, which answers as before: other media types, oversized bodies, encoded paths', async () => {
    const text = await send('POST', `${base}/query`, { apiKey: editor.value, body: QUERY, headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    expect(text.body).toMatchObject({ code: 3 });
    // An error from Fastify's routes and one from the front path carry the same headers.
    const front = await send('POST', `${base}/query`, { body: QUERY });
    expect(front.status).toBe(401);
    expect(front.headers['content-type']).toBe(text.headers['content-type']);
    expect(typeof text.headers['x-request-id']).toBe('string');
    const huge = await send('POST', `${base}/query`, { apiKey: editor.value, body: Buffer.alloc(MAX_BODY_BYTES + 1, 0x20) });
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({ code: 3 });
    const encoded = await send('POST', `/data/${projectId}/%6Dovies/query`, { apiKey: editor.value, body: QUERY });
    expect(encoded.status).toBe(200);
    expect(store.dataRequests(indexId).at(-1)!.url).toBe(`/internal/indexes/${indexId}/query`);
    const slashes = await send('POST', `${base}//query`, { apiKey: editor.value, body: QUERY, headers: { 'x-request-id': 'front-slash' } });
    expect(slashes.status).toBe(200);
    expect(slashes.headers['x-request-id']).toBe('front-slash');
    // The same answer through Fastify's route (above) and the front path: the same headers.
    const viaFront = await send('POST', `${base}/query`, { apiKey: editor.value, body: QUERY });
    const names = (headers: Record<string, unknown>) => Object.keys(headers).sort();
    expect(names(viaFront.headers)).toEqual(names(slashes.headers));
    expect(viaFront.headers['content-type']).toBe(slashes.headers['content-type']);
    expect(viaFront.headers['content-length']).toBe(slashes.headers['content-length']);
    const streamed = await send('POST', `${base}/query`, {
      apiKey: editor.value,
      body: (async function* () {
        yield Buffer.from(QUERY);
      })(),
    });
    expect(streamed.status).toBe(200);
    expect(store.dataRequests(indexId).at(-1)!.body.toString()).toBe(QUERY);
    // On an index host, and with a charset parameter (Fastify's parser accepts it).
    const hosted = await send('POST', '/query', { apiKey: editor.value, body: QUERY, headers: { host: `movies-${projectId}.idx.conifer.test` } });
    expect(hosted.status).toBe(200);
    const charset = await send('POST', `${base}/query`, { apiKey: editor.value, body: QUERY, headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(charset.status).toBe(200);
  });
});
