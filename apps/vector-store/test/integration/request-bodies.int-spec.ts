// Issue 14 item 15 (and 11): data-plane bodies that are not UTF-8, or that are JSON null / not an object,
// are 400 on every route (describe_index_stats and fetch_by_metadata answered 200 before), and topK is
// capped at 1000 when values or metadata are returned.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
const base = '/internal/indexes/bodies';

beforeAll(async () => {
  t = await startTestApp();
  expect((await t.call('PUT', base, { dimension: 2, metric: 'cosine', vectorType: 'dense' })).status).toBe(201);
  expect((await t.call('POST', `${base}/vectors/upsert`, { vectors: [{ id: 'a', values: [1, 0], metadata: { g: 'x' } }] })).status).toBe(200);
});
afterAll(async () => {
  await t?.close();
});

const routes = ['describe_index_stats', 'vectors/fetch_by_metadata', 'query', 'vectors/upsert', 'vectors/update', 'vectors/delete'];
const invalidUtf8 = Buffer.concat([Buffer.from('{"filter":{"g":"'), Buffer.from([0xff, 0xfe, 0xc0, 0xaf]), Buffer.from('"}}')]);

async function post(route: string, body: string | Buffer) {
  const res = await fetch(`${t.url}${base}/${route}`, {
    method: 'POST',
    headers: { 'x-conifer-internal-token': 'test-internal-token-0123456789abcdef', 'content-type': 'application/json' },
    body,
  });
  return { status: res.status, body: (await res.json()) as { code: number; message: string; details: unknown[] } };
}

describe('data-plane request bodies', () => {
  it.each(routes)('400 on %s for JSON null, a list, a scalar and bytes that are not UTF-8', async (route) => {
    for (const body of ['null', '[]', '"x"', '7', invalidUtf8]) {
      const res = await post(route, body);
      expect({ route, body: String(body), status: res.status }).toEqual({ route, body: String(body), status: 400 });
      expect(res.body).toEqual({ code: 3, message: expect.any(String), details: [] });
    }
  });

  it('an empty body is still an empty request for describe_index_stats', async () => {
    const res = await fetch(`${t.url}${base}/describe_index_stats`, { method: 'POST', headers: { 'x-conifer-internal-token': 'test-internal-token-0123456789abcdef' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { totalVectorCount: number }).totalVectorCount).toBe(1);
  });

  it('400 for topK over 1000 with includeValues or includeMetadata; 10000 without', async () => {
    expect((await t.call('POST', `${base}/query`, { topK: 1001, vector: [1, 0], includeValues: true })).status).toBe(400);
    expect((await t.call('POST', `${base}/query`, { topK: 1001, vector: [1, 0], includeMetadata: true })).status).toBe(400);
    expect((await t.call('POST', `${base}/query`, { topK: 1000, vector: [1, 0], includeValues: true, includeMetadata: true })).status).toBe(200);
    expect((await t.call('POST', `${base}/query`, { topK: 10_000, vector: [1, 0] })).status).toBe(200);
  });
});

describe('upserts parsed on a worker thread', () => {
  let w: TestApp;
  beforeAll(async () => {
    w = await startTestApp({}, 1);
    expect((await w.call('PUT', base, { dimension: 2, metric: 'cosine', vectorType: 'dense' })).status).toBe(201);
  });
  afterAll(async () => {
    await w?.close();
  });

  it('400 for bytes that are not UTF-8 and for ids with a lone surrogate; nothing stored', async () => {
    const bytes = Buffer.concat([Buffer.from('{"vectors":[{"id":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('","values":[1,0]}]}')]);
    const res = await fetch(`${w.url}${base}/vectors/upsert`, {
      method: 'POST',
      headers: { 'x-conifer-internal-token': 'test-internal-token-0123456789abcdef', 'content-type': 'application/json' },
      body: bytes,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/not valid UTF-8/);
    const lone = await w.call('POST', `${base}/vectors/upsert`, { vectors: [{ id: 's\ud800', values: [1, 0] }] });
    expect(lone.status).toBe(400);
    expect(lone.body.message).toMatch(/not well-formed Unicode/);
    expect((await w.call('POST', `${base}/describe_index_stats`, {})).body.totalVectorCount).toBe(0);
  });
});
