// Record-returning answers (query, fetch, fetch_by_metadata) rendered straight into a buffer (api/render.ts):
// the same JSON the engine's objects stringify to — ids that need escaping, unicode metadata, shortest float32
// decimals — and a hard cap on the size (Pinecone's 4 MB query result limit): 400, never an answer that can
// exhaust memory (issue 14, item 11).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
const small = '/internal/indexes/render-small';
const wide = '/internal/indexes/render-wide';
const WIDE_DIM = 1000;
const WIDE_COUNT = 800;

beforeAll(async () => {
  t = await startTestApp({ annBuilder: false });
  expect((await t.call('PUT', small, { dimension: 3, metric: 'cosine', vectorType: 'dense' })).status).toBe(201);
  expect((await t.call('PUT', wide, { dimension: WIDE_DIM, metric: 'cosine', vectorType: 'dense' })).status).toBe(201);
  const vectors = [
    { id: 'plain', values: [0.4, 0.1, 0.7], metadata: { genre: 'drama', year: 2020, tags: ['a', 'b'] } },
    { id: 'quote"back\\slash', values: [0.3, 0.2, 0.1] },
    { id: 'ünïcødé 🌲', values: [0.1, 0.9, 0.2], metadata: { title: 'Ça va — 森' } },
    { id: 'ctl\u0001\u2028', values: [1e-7, 3.4e38, -0.5] },
  ];
  expect((await t.call('POST', `${small}/vectors/upsert`, { vectors, namespace: 'ns"1' })).status).toBe(200);
  for (let start = 0; start < WIDE_COUNT; start += 200) {
    const batch = Array.from({ length: 200 }, (_, i) => ({
      id: `w${start + i}`,
      values: Array.from({ length: WIDE_DIM }, (_, d) => ((start + i + d) % 7) / 8 + 0.001),
    }));
    expect((await t.call('POST', `${wide}/vectors/upsert`, { vectors: batch })).status).toBe(200);
  }
});
afterAll(async () => {
  await t.close();
});

describe('rendered answers', () => {
  it('query: valid JSON with escaped ids, metadata, shortest float32 decimals, the namespace as sent', async () => {
    const res = await t.call('POST', `${small}/query`, { vector: [0.4, 0.1, 0.7], topK: 10, includeValues: true, includeMetadata: true, namespace: 'ns"1' });
    expect(res.status).toBe(200);
    expect(res.body.namespace).toBe('ns"1');
    expect(res.body.usage).toEqual({ readUnits: 1 });
    expect(res.body.matches.map((m: { id: string }) => m.id).sort()).toEqual(['ctl\u0001\u2028', 'plain', 'quote"back\\slash', 'ünïcødé 🌲'].sort());
    const plain = res.body.matches.find((m: { id: string }) => m.id === 'plain');
    expect(plain).toEqual({ id: 'plain', score: expect.any(Number), values: [0.4, 0.1, 0.7], metadata: { genre: 'drama', year: 2020, tags: ['a', 'b'] } });
    expect(res.raw).toContain('"values":[0.4,0.1,0.7]');
    expect(res.raw).toContain('[1e-7,3.4e+38,-0.5]');
    expect(res.body.matches.find((m: { id: string }) => m.id === 'ünïcødé 🌲').metadata).toEqual({ title: 'Ça va — 森' });
    // Without values or metadata, only id and score.
    const bare = await t.call('POST', `${small}/query`, { vector: [0.4, 0.1, 0.7], topK: 1, namespace: 'ns"1' });
    expect(bare.body.matches).toEqual([{ id: 'plain', score: expect.any(Number) }]);
    expect(bare.raw).toBe(JSON.stringify(bare.body));
  });

  it('fetch and fetch_by_metadata: the same records as written', async () => {
    const ids = ['plain', 'quote"back\\slash', 'ünïcødé 🌲', 'missing'].map((id) => `ids=${encodeURIComponent(id)}`).join('&');
    const fetched = await t.call('GET', `${small}/vectors/fetch?${ids}&namespace=${encodeURIComponent('ns"1')}`);
    expect(fetched.status).toBe(200);
    expect(Object.keys(fetched.body.vectors).sort()).toEqual(['plain', 'quote"back\\slash', 'ünïcødé 🌲'].sort());
    expect(fetched.body.vectors['quote"back\\slash']).toEqual({ id: 'quote"back\\slash', values: [0.3, 0.2, 0.1] });
    expect(fetched.body.namespace).toBe('ns"1');
    const byMetadata = await t.call('POST', `${small}/vectors/fetch_by_metadata`, { filter: { genre: 'drama' }, namespace: 'ns"1' });
    expect(byMetadata.status).toBe(200);
    expect(byMetadata.body.vectors).toEqual({ plain: { id: 'plain', values: [0.4, 0.1, 0.7], metadata: { genre: 'drama', year: 2020, tags: ['a', 'b'] } } });
  });

  it('400 when a query answer would pass the 4 MB result size limit; fine below it', async () => {
    const vector = Array.from({ length: WIDE_DIM }, () => 0.5);
    const tooBig = await t.call('POST', `${wide}/query`, { vector, topK: WIDE_COUNT, includeValues: true });
    expect(tooBig.status).toBe(400);
    expect(tooBig.body).toEqual({ code: 3, message: expect.stringMatching(/result size limit.*topK/), details: [] });
    const withoutValues = await t.call('POST', `${wide}/query`, { vector, topK: WIDE_COUNT });
    expect(withoutValues.status).toBe(200);
    expect(withoutValues.body.matches).toHaveLength(WIDE_COUNT);
    const fewer = await t.call('POST', `${wide}/query`, { vector, topK: 100, includeValues: true });
    expect(fewer.status).toBe(200);
    expect(fewer.body.matches[0].values).toHaveLength(WIDE_DIM);
    // topK beyond the namespace size: the same refusal.
    const hopeless = await t.call('POST', `${wide}/query`, { vector, topK: 10_000, includeValues: true });
    expect(hopeless.status).toBe(400);
    // ~1.4 M float32 values printed: under jest's VM modules the shortest-decimal printer runs ~100× slower than
    // in a plain Node process (23 µs a value, measured), which put this test at the 30 s default on a busy machine.
  }, 180_000);
});
