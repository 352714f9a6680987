// Control-plane request bodies as Pinecone checks them (issue 14 items 15 and 16): a content type other than
// JSON is 415, a body that is not UTF-8 or not a JSON object (null, a list, a scalar) is 400, and nothing
// changes. Before: POST /indexes as text/plain answered 400, PATCH with null or invalid UTF-8 answered 202.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeVectorStore } from '../support/fake-vector-store.js';
import { TestCatalog, type TestKey } from '../support/auth-gateway.js';
import { INTERNAL_TOKEN, startIndexesGateway, type IndexesGateway } from '../support/indexes-gateway.js';

const spec = { serverless: { cloud: 'aws', region: 'us-east-1' } };
const createBody = JSON.stringify({ name: 'bodies', dimension: 4, metric: 'cosine', spec });

describe('control plane request bodies', () => {
  let store: FakeVectorStore;
  let gateway: IndexesGateway;
  let catalog: TestCatalog;
  let editor: TestKey;

  beforeAll(async () => {
    store = await new FakeVectorStore(INTERNAL_TOKEN).start();
    gateway = await startIndexesGateway({ CONIFER_VECTOR_STORE_URLS: store.url, CONIFER_PUBLIC_URL: 'http://conifer.test:8080' });
    catalog = new TestCatalog();
    editor = await catalog.createKey(await catalog.createProject(), { roles: ['ProjectEditor'] });
  });
  afterAll(async () => {
    await gateway?.close();
    await catalog?.close();
    await store?.stop();
  });

  const expectRestError = (response: { status: number; body: any }, status: number) => {
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ error: { code: 'INVALID_ARGUMENT', message: expect.any(String) }, status, message: expect.any(String) });
  };

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])('415 for POST /indexes sent as %s', async (type) => {
    const response = await gateway.call('POST', '/indexes', { apiKey: editor.value, raw: createBody, headers: { 'content-type': type } });
    expectRestError(response, 415);
    expect(response.body.message).toMatch(/Unsupported/i);
    expect((await gateway.call('GET', '/indexes/bodies', { apiKey: editor.value })).status).toBe(404);
  });

  it('400 for POST /indexes with a body that is not UTF-8', async () => {
    const raw = Buffer.concat([Buffer.from('{"name":"bodies","dimension":4,"metric":"cosine","tags":{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from(`"},"spec":${JSON.stringify(spec)}}`)]);
    expectRestError(await gateway.call('POST', '/indexes', { apiKey: editor.value, raw }), 400);
    expect((await gateway.call('GET', '/indexes/bodies', { apiKey: editor.value })).status).toBe(404);
  });

  it('400 for PATCH /indexes/<name> with null, a list, a scalar or bytes that are not UTF-8; the index is unchanged', async () => {
    expect((await gateway.call('POST', '/indexes', { apiKey: editor.value, raw: createBody })).status).toBe(201);
    expect((await gateway.call('PATCH', '/indexes/bodies', { apiKey: editor.value, body: { tags: { env: 'a' } } })).status).toBe(202);
    const invalidUtf8 = Buffer.concat([Buffer.from('{"tags":{"env":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}}')]);
    for (const raw of ['null', '[]', '"x"', '1', 'true', invalidUtf8]) {
      const response = await gateway.call('PATCH', '/indexes/bodies', { apiKey: editor.value, raw });
      expectRestError(response, 400);
    }
    expectRestError(await gateway.call('PATCH', '/indexes/bodies', { apiKey: editor.value, raw: '{"tags":{}}', headers: { 'content-type': 'text/plain' } }), 415);
    const described = await gateway.call('GET', '/indexes/bodies', { apiKey: editor.value });
    expect(described.body.tags).toEqual({ env: 'a' });
    expect(described.body.deletion_protection).toBe('disabled');
  });
});
