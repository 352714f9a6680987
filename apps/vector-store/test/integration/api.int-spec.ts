import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
const base = '/internal/indexes/idx-1';

beforeAll(async () => {
  // Upserts parsed on a worker thread, as in production (the concurrency test covers the inline parser).
  t = await startTestApp({ annBuilder: false }, 1);
  expect((await t.call('PUT', base, { dimension: 3, metric: 'cosine', vectorType: 'dense' })).status).toBe(201);
});
afterAll(async () => {
  await t.close();
});

describe('internal credential and health', () => {
  it('401 without or with a wrong token, gRPC-style body', async () => {
    for (const headers of [{ 'x-conifer-internal-token': '' }, { 'x-conifer-internal-token': 'wrong' }]) {
      const res = await t.call('GET', '/internal/indexes', undefined, headers);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ code: 16, message: expect.any(String), details: [] });
    }
    expect((await t.call('GET', '/metrics', undefined, { 'x-conifer-internal-token': 'x' })).status).toBe(401);
  });

  it('healthz and readyz need no token; metrics does', async () => {
    const health = await fetch(`${t.url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    const metrics = await t.call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.raw).toContain('conifer_store_vectors');
  });
});

describe('index administration', () => {
  it('create is idempotent, 409 on other settings, 400 on a bad id or settings', async () => {
    expect((await t.call('PUT', base, { dimension: 3, metric: 'cosine', vectorType: 'dense' })).status).toBe(200);
    const conflict = await t.call('PUT', base, { dimension: 4, metric: 'cosine', vectorType: 'dense' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.code).toBe(6);
    expect((await t.call('PUT', '/internal/indexes/bad.id', { dimension: 3, metric: 'cosine', vectorType: 'dense' })).status).toBe(400);
    expect((await t.call('PUT', '/internal/indexes/x', { dimension: 0, metric: 'cosine', vectorType: 'dense' })).status).toBe(400);
    expect((await t.call('PUT', '/internal/indexes/x', { dimension: 3, metric: 'cosine', vectorType: 'sparse' })).status).toBe(400);
  });

  it('describe, list, delete (idempotent) and 404 afterwards', async () => {
    expect((await t.call('PUT', '/internal/indexes/sp', { dimension: null, metric: 'dotproduct', vectorType: 'sparse' })).status).toBe(201);
    expect((await t.call('GET', '/internal/indexes/sp')).body).toEqual({
      indexId: 'sp',
      dimension: null,
      metric: 'dotproduct',
      vectorType: 'sparse',
      totalVectorCount: 0,
    });
    expect((await t.call('GET', '/internal/indexes')).body.indexes).toEqual(
      expect.arrayContaining([expect.objectContaining({ indexId: 'sp', totalVectorCount: 0, appliedSeq: 0, state: 'ready' })]),
    );
    expect((await t.call('DELETE', '/internal/indexes/sp')).body).toEqual({});
    expect((await t.call('DELETE', '/internal/indexes/sp')).status).toBe(200);
    const gone = await t.call('GET', '/internal/indexes/sp');
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe(5);
    expect((await t.call('POST', '/internal/indexes/sp/query', { topK: 1, vector: [1] })).status).toBe(404);
  });
});

describe('data plane', () => {
  it('upsert, fetch and query with camelCase and snake_case; default namespace spellings are one namespace', async () => {
    const up = await t.call('POST', `${base}/vectors/upsert`, {
      vectors: [
        { id: 'a', values: [0.4, 0.1, 0.2], metadata: { genre: 'drama', year: 2020 } },
        { id: 'b', values: [0.1, 0.4, 0.2], metadata: { genre: 'comedy', year: 2021 } },
      ],
      namespace: '__default__',
    });
    expect(up).toMatchObject({ status: 200, body: { upsertedCount: 2 } });
    await t.call('POST', `${base}/vectors/upsert`, { vectors: [{ id: 'c', values: [0.2, 0.2, 0.2] }] });

    const fetched = await t.call('GET', `${base}/vectors/fetch?ids=a&ids=c&ids=zz&namespace=`);
    expect(fetched.body).toEqual({
      vectors: {
        a: { id: 'a', values: [0.4, 0.1, 0.2], metadata: { genre: 'drama', year: 2020 } },
        c: { id: 'c', values: [0.2, 0.2, 0.2] },
      },
      namespace: '',
      usage: { readUnits: 1 },
    });
    expect(fetched.raw).toContain('[0.4,0.1,0.2]');

    const snake = await t.call('POST', `${base}/query`, {
      top_k: 2,
      vector: [0.4, 0.1, 0.2],
      include_metadata: true,
      include_values: false,
      namespace: '',
      filter: { genre: { $in: ['drama', 'comedy'] } },
    });
    expect(snake.status).toBe(200);
    expect(snake.body.matches.map((m: { id: string }) => m.id)).toEqual(['a', 'b']);
    expect(snake.body.matches[0]).toEqual({ id: 'a', score: 1, metadata: { genre: 'drama', year: 2020 } });
    const byId = await t.call('POST', `${base}/query`, { topK: 1, id: 'b', includeValues: true, scanFactor: 1, maxCandidates: 100 });
    expect(byId.body.matches[0]).toMatchObject({ id: 'b', values: [0.1, 0.4, 0.2] });
    expect(Number.isInteger(byId.body.usage.readUnits)).toBe(true);
  });

  it('update by id answers {}, update by filter answers matchedRecords (dryRun changes nothing)', async () => {
    const upd = await t.call('POST', `${base}/vectors/update`, { id: 'a', set_metadata: { rating: 5 } });
    expect(upd).toMatchObject({ status: 200, body: {} });
    expect(upd.raw).toBe('{}');
    const dry = await t.call('POST', `${base}/vectors/update`, { filter: { genre: 'comedy' }, setMetadata: { hit: true }, dryRun: true });
    expect(dry.body).toEqual({ matchedRecords: 1 });
    expect((await t.call('GET', `${base}/vectors/fetch?ids=b`)).body.vectors.b.metadata.hit).toBeUndefined();
    const wet = await t.call('POST', `${base}/vectors/update`, { filter: { genre: 'comedy' }, setMetadata: { hit: true } });
    expect(wet.body).toEqual({ matchedRecords: 1 });
    const fetched = (await t.call('GET', `${base}/vectors/fetch?ids=a&ids=b`)).body.vectors;
    expect(fetched.a.metadata).toEqual({ genre: 'drama', year: 2020, rating: 5 });
    expect(fetched.b.metadata.hit).toBe(true);
  });

  it('lists with pagination (omitted on the last page) and describes stats with a filter', async () => {
    const first = await t.call('GET', `${base}/vectors/list?limit=2`);
    expect(first.body.vectors).toEqual([{ id: 'a' }, { id: 'b' }]);
    const second = await t.call('GET', `${base}/vectors/list?limit=2&paginationToken=${first.body.pagination.next}`);
    expect(second.body.vectors).toEqual([{ id: 'c' }]);
    expect(second.body).not.toHaveProperty('pagination');
    const stats = await t.call('POST', `${base}/describe_index_stats`, { filter: { year: { $gte: 2021 } } });
    expect(stats.body).toEqual({
      namespaces: { '': { vectorCount: 1 } },
      dimension: 3,
      indexFullness: 0,
      totalVectorCount: 1,
      metric: 'cosine',
      vectorType: 'dense',
    });
  });

  it('namespaces: create, list and describe in snake_case, percent-encoded names, delete', async () => {
    const name = 'my ns/ü';
    expect(await t.call('POST', `${base}/namespaces`, { name: 'my ns/1' })).toMatchObject({ status: 200, body: { name: 'my ns/1', record_count: 0 } });
    expect((await t.call('POST', `${base}/namespaces`, { name: 'my ns/1' })).status).toBe(409);
    await t.call('POST', `${base}/vectors/upsert`, { vectors: [{ id: 'x', values: [1, 1, 1] }], namespace: 'my ns/1' });
    const described = await t.call('GET', `${base}/namespaces/${encodeURIComponent('my ns/1')}`);
    expect(described.body).toEqual({ name: 'my ns/1', record_count: 1 });
    const fetched = await t.call('GET', `${base}/vectors/fetch?ids=x&namespace=${encodeURIComponent('my ns/1')}`);
    expect(Object.keys(fetched.body.vectors)).toEqual(['x']);
    const listed = await t.call('GET', `${base}/namespaces`);
    expect(listed.body).toEqual({
      namespaces: [
        { name: '__default__', record_count: 3 },
        { name: 'my ns/1', record_count: 1 },
      ],
      total_count: 2,
    });
    expect((await t.call('GET', `${base}/namespaces/__default__`)).body).toEqual({ name: '__default__', record_count: 3 });
    expect((await t.call('POST', `${base}/namespaces`, { name })).status).toBe(400);
    expect(await t.call('DELETE', `${base}/namespaces/${encodeURIComponent('my ns/1')}`)).toMatchObject({ status: 200, body: {} });
    expect((await t.call('GET', `${base}/namespaces/${encodeURIComponent('my ns/1')}`)).status).toBe(404);
  });

  it('deletes by ids, filter and all, answering {}', async () => {
    await t.call('POST', `${base}/vectors/upsert`, { vectors: [{ id: 'd1', values: [1, 0, 0], metadata: { k: 1 } }, { id: 'd2', values: [0, 1, 0], metadata: { k: 2 } }, { id: 'd3', values: [0, 0, 1] }], namespace: 'del' });
    expect((await t.call('POST', `${base}/vectors/delete`, { ids: ['d1'], namespace: 'del' })).raw).toBe('{}');
    await t.call('POST', `${base}/vectors/delete`, { filter: { k: 2 }, namespace: 'del' });
    expect(Object.keys((await t.call('GET', `${base}/vectors/fetch?ids=d1&ids=d2&ids=d3&namespace=del`)).body.vectors)).toEqual(['d3']);
    await t.call('POST', `${base}/vectors/delete`, { delete_all: true, namespace: 'del' });
    expect((await t.call('GET', `${base}/namespaces/del`)).body.record_count).toBe(0);
  });
});

describe('sparse and hybrid indexes over HTTP', () => {
  it('sparse-only index: upsert, query by sparse vector and by id, fetch_by_metadata, list by prefix', async () => {
    const sp = '/internal/indexes/sparse-1';
    expect((await t.call('PUT', sp, { dimension: null, metric: 'dotproduct', vectorType: 'sparse' })).status).toBe(201);
    const up = await t.call('POST', `${sp}/vectors/upsert`, {
      namespace: 'docs',
      vectors: [
        { id: 'doc#1', sparse_values: { indices: [10, 20], values: [0.5, 0.25] }, metadata: { lang: 'en' } },
        { id: 'doc#2', sparseValues: { indices: [20, 30], values: [1, 2] }, metadata: { lang: 'fr' } },
        { id: 'img#1', sparseValues: { indices: [30], values: [4] }, metadata: { lang: 'en' } },
      ],
    });
    expect(up.body).toEqual({ upsertedCount: 3 });
    expect((await t.call('POST', `${sp}/vectors/upsert`, { vectors: [{ id: 'x', values: [1, 2] }] })).status).toBe(400);
    const q = await t.call('POST', `${sp}/query`, { namespace: 'docs', topK: 2, sparseVector: { indices: [30], values: [1] }, includeValues: true });
    expect(q.body.matches).toEqual([
      { id: 'img#1', score: 4, values: [], sparseValues: { indices: [30], values: [4] } },
      { id: 'doc#2', score: 2, values: [], sparseValues: { indices: [20, 30], values: [1, 2] } },
    ]);
    const byId = await t.call('POST', `${sp}/query`, { namespace: 'docs', topK: 1, id: 'doc#1' });
    expect(byId.body.matches[0].id).toBe('doc#1');
    expect((await t.call('POST', `${sp}/query`, { namespace: 'docs', topK: 1001, sparseVector: { indices: [1], values: [1] } })).status).toBe(400);
    const meta = await t.call('POST', `${sp}/vectors/fetch_by_metadata`, { namespace: 'docs', filter: { lang: 'en' }, limit: 1 });
    expect(Object.keys(meta.body.vectors)).toEqual(['doc#1']);
    const page2 = await t.call('POST', `${sp}/vectors/fetch_by_metadata`, { namespace: 'docs', filter: { lang: 'en' }, limit: 1, paginationToken: meta.body.pagination.next });
    expect(Object.keys(page2.body.vectors)).toEqual(['img#1']);
    expect(page2.body).not.toHaveProperty('pagination');
    const listed = await t.call('GET', `${sp}/vectors/list?namespace=docs&prefix=${encodeURIComponent('doc#')}`);
    expect(listed.body.vectors).toEqual([{ id: 'doc#1' }, { id: 'doc#2' }]);
    const stats = await t.call('POST', `${sp}/describe_index_stats`, {});
    expect(stats.body).toEqual({ namespaces: { docs: { vectorCount: 3 } }, indexFullness: 0, totalVectorCount: 3, metric: 'dotproduct', vectorType: 'sparse' });
  });

  it('hybrid dotproduct index: dense + sparse scores add up; sparse on a cosine index is refused', async () => {
    const hy = '/internal/indexes/hybrid-1';
    expect((await t.call('PUT', hy, { dimension: 2, metric: 'dotproduct', vectorType: 'dense' })).status).toBe(201);
    await t.call('POST', `${hy}/vectors/upsert`, {
      vectors: [
        { id: 'a', values: [1, 0], sparseValues: { indices: [7], values: [3] } },
        { id: 'b', values: [2, 0] },
      ],
    });
    const q = await t.call('POST', `${hy}/query`, { topK: 2, vector: [1, 0], sparseVector: { indices: [7], values: [1] } });
    expect(q.body.matches).toEqual([
      { id: 'a', score: 4 },
      { id: 'b', score: 2 },
    ]);
    const bad = await t.call('POST', `${base}/vectors/upsert`, { vectors: [{ id: 'z', values: [1, 2, 3], sparseValues: { indices: [1], values: [1] } }] });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/dotproduct/);
  });
});

describe('validation: 4xx with the gRPC body and nothing applied', () => {
  const bad: [string, unknown, number][] = [
    ['wrong dimension', { vectors: [{ id: 'ok', values: [1, 2, 3] }, { id: 'z', values: [1, 2] }] }, 400],
    ['NaN as a string', { vectors: [{ id: 'ok', values: [1, 'NaN', 3] }] }, 400],
    ['float32 overflow', { vectors: [{ id: 'ok', values: [1, 1e39, 3] }] }, 400],
    ['empty id', { vectors: [{ id: '', values: [1, 2, 3] }] }, 400],
    ['too many vectors', { vectors: Array.from({ length: 1001 }, (_, i) => ({ id: `m${i}`, values: [1, 2, 3] })) }, 400],
    ['oversize metadata', { vectors: [{ id: 'ok', values: [1, 2, 3], metadata: { big: 'x'.repeat(41 * 1024) } }] }, 400],
    ['metadata object value', { vectors: [{ id: 'ok', values: [1, 2, 3], metadata: { o: { a: 1 } } }] }, 400],
    ['metadata $ key', { vectors: [{ id: 'ok', values: [1, 2, 3], metadata: { $x: 1 } }] }, 400],
    ['body too large', { vectors: [{ id: 'ok', values: [1, 2, 3], metadata: { big: 'x'.repeat(2 * 1024 * 1024) } }] }, 413],
  ];
  for (const [name, body, status] of bad) {
    it(`upsert with ${name} → ${status}`, async () => {
      const before = (await t.call('GET', '/internal/indexes/idx-1')).body.totalVectorCount;
      const res = await t.call('POST', `${base}/vectors/upsert`, body);
      expect(res.status).toBe(status);
      expect(res.body).toEqual({ code: 3, message: expect.any(String), details: [] });
      expect((await t.call('GET', '/internal/indexes/idx-1')).body.totalVectorCount).toBe(before);
      expect((await t.call('GET', `${base}/vectors/fetch?ids=ok`)).body.vectors).toEqual({});
    });
  }

  it('415 for a wrong content type, 400 for malformed JSON, 404 for an unknown route', async () => {
    expect((await t.call('POST', `${base}/query`, 'topK=1', { 'content-type': 'text/plain' })).status).toBe(415);
    const malformed = await t.call('POST', `${base}/query`, '{"topK": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe(3);
    const malformedUpsert = await t.call('POST', `${base}/vectors/upsert`, '{"vectors": [');
    expect(malformedUpsert).toMatchObject({ status: 400, body: { code: 3, message: 'request body is not valid JSON' } });
    expect((await t.call('POST', `${base}/vectors/upsert`, 'x', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await t.call('POST', `${base}/vectors/upsert`, '')).status).toBe(400);
    expect((await t.call('GET', `${base}/nope`)).body.code).toBe(5);
  });

  it('filter errors name the problem', async () => {
    const cases: [unknown, RegExp][] = [
      [{ genre: { $regex: 'x' } }, /unknown filter operator \$regex/],
      [{ year: { $gt: '2020' } }, /\$gt .* finite number/],
      [{ genre: { $in: 'drama' } }, /\$in .* array/],
      [{ $and: [] }, /non-empty array/],
      [{ genre: { $exists: 1 } }, /\$exists/],
      [JSON.parse('{"a":' .repeat(0) + JSON.stringify(nest(12)) + '}'.repeat(0)), /too deeply/],
    ];
    for (const [filter, message] of cases) {
      const res = await t.call('POST', `${base}/query`, { topK: 1, vector: [1, 1, 1], filter });
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(message);
    }
  });

  it('topK, id and vector rules', async () => {
    expect((await t.call('POST', `${base}/query`, { topK: 0, vector: [1, 1, 1] })).status).toBe(400);
    expect((await t.call('POST', `${base}/query`, { topK: 10001, vector: [1, 1, 1] })).status).toBe(400);
    expect((await t.call('POST', `${base}/query`, { topK: 1 })).status).toBe(400);
    expect((await t.call('POST', `${base}/query`, { topK: 1, id: 'a', vector: [1, 1, 1] })).status).toBe(400);
    expect((await t.call('GET', `${base}/vectors/fetch`)).status).toBe(400);
  });
});

function nest(depth: number): unknown {
  let f: unknown = { a: 1 };
  for (let i = 0; i < depth; i++) f = { $and: [f] };
  return f;
}

describe('metrics per request', () => {
  it('counts each request by method, route and status, and each query by plan', async () => {
    const count = async (pattern: RegExp) => Number(pattern.exec((await t.call('GET', '/metrics')).raw)?.[1] ?? 0);
    const route = /conifer_store_http_request_duration_seconds_count\{method="POST",route="\/internal\/indexes\/:indexId\/query",status="200"\} (\d+)/;
    const refused = /conifer_store_http_request_duration_seconds_count\{method="POST",route="\/internal\/indexes\/:indexId\/query",status="404"\} (\d+)/;
    const exact = /conifer_store_queries_total\{plan="exact"\} (\d+)/;
    const before = [await count(route), await count(refused), await count(exact)];
    for (let i = 0; i < 3; i++) expect((await t.call('POST', `${base}/query`, { topK: 1, vector: [1, 0, 0] })).status).toBe(200);
    expect((await t.call('POST', '/internal/indexes/none/query', { topK: 1, vector: [1, 0, 0] })).status).toBe(404);
    expect([await count(route), await count(refused), await count(exact)]).toEqual([before[0]! + 3, before[1]! + 1, before[2]! + 3]);
  });
});
