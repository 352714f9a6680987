// The 2026-07 documents API on the store: typed documents validated against the schema, search by text
// (BM25), dense and sparse vectors, filters with text-match operators, include_fields, update and delete,
// and durability (the BM25 state rebuilt from the WAL and snapshots after a reopen).
import { afterEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { parseIndexSchema } from '@conifer/contracts';
import { analyzerFor, bm25BruteForce, topScores } from '@conifer/engine';
import { IndexRegistry } from '../../src/storage/index-registry.js';
import { textIndexesOf } from '../../src/documents/text-indexes.js';
import { buildServer } from '../../src/api/server.js';
import { startTestApp, TOKEN, type TestApp } from '../support/app.js';

const SCHEMA = {
  fields: {
    title: { type: 'string', full_text_search: {} },
    body: { type: 'string', full_text_search: { language: 'en', stemming: true, stop_words: true } },
    embedding: { type: 'dense_vector', dimension: 3, metric: 'cosine' },
    keywords: { type: 'sparse_vector' },
    year: { type: 'integer', filterable: true },
  },
};

const DOCS = [
  { _id: 'a', title: 'Migrating birds', body: 'The warblers are migrating south in the autumn', embedding: [1, 0, 0], keywords: { indices: [1, 2], values: [0.5, 0.5] }, year: 2020, genre: 'nature' },
  { _id: 'b', title: 'Machine learning', body: 'Machine learning models learn from data', embedding: [0, 1, 0], keywords: { indices: [2, 3], values: [1, 1] }, year: 2024, genre: 'tech' },
  { _id: 'c', title: 'Learning to fly', body: 'Young birds learn to fly; a bird migrates later', embedding: [0.7, 0.7, 0], year: 2024, genre: 'nature' },
  { _id: 'd', title: 'Deep learning machines', body: 'learning machine models, machine learning everywhere', embedding: [0, 0.6, 0.8], year: 2023, genre: 'tech' },
];

let app: TestApp;
afterEach(async () => {
  await app?.close();
});

async function createIndex(body: unknown = { schema: SCHEMA }): Promise<void> {
  const res = await app.call('PUT', '/internal/indexes/docs', body);
  expect(res.status).toBe(201);
}

const docs = (op: string, body: unknown, ns = '__default__') => app.call('POST', `/internal/indexes/docs/namespaces/${ns}/documents/${op}`, body);

describe('documents API on the store', () => {
  it('creates an index from a schema alone and refuses semantic_text, n-grams and bad languages', async () => {
    app = await startTestApp({ annBuilder: false });
    await createIndex();
    const info = await app.call('GET', '/internal/indexes/docs');
    expect(info.body).toMatchObject({ dimension: 3, metric: 'cosine', vectorType: 'dense', schema: SCHEMA });
    const semantic = await app.call('PUT', '/internal/indexes/other', { schema: { fields: { text: { type: 'semantic_text', model: 'llama-text-embed-v2' } } } });
    expect(semantic.status).toBe(400);
    expect(semantic.body.message).toMatch(/embedding model/);
    const ngram = await app.call('PUT', '/internal/indexes/other', { schema: { fields: { t: { type: 'string', full_text_search: { ngram: { min_gram: 2, max_gram: 3 } } } } } });
    expect(ngram.status).toBe(400);
    const language = await app.call('PUT', '/internal/indexes/other', { schema: { fields: { t: { type: 'string', full_text_search: { language: 'xx' } } } } });
    expect(language.status).toBe(400);
    expect(language.body.message).toMatch(/language must be one of/);
    const stop = await app.call('PUT', '/internal/indexes/other', { schema: { fields: { t: { type: 'string', full_text_search: { stop_words: true } } } } });
    expect(stop.status).toBe(400);
    const textOnly = await app.call('PUT', '/internal/indexes/textonly', { schema: { fields: { t: { type: 'string', full_text_search: {} } } } });
    expect(textOnly.status).toBe(201);
    const plain = await app.call('PUT', '/internal/indexes/plain', { dimension: 3, metric: 'cosine' });
    const noSchema = await app.call('POST', '/internal/indexes/plain/namespaces/__default__/documents/upsert', { documents: [{ _id: 'x' }] });
    expect(plain.status).toBe(201);
    expect(noSchema.status).toBe(400);
    expect(noSchema.body.message).toMatch(/no document schema/);
    const legacy = await app.call('PUT', '/internal/indexes/legacy', { dimension: 3, metric: 'cosine', schema: { fields: { genre: { filterable: true } } } });
    expect(legacy.status).toBe(201);
    const legacyUpsert = await app.call('POST', '/internal/indexes/legacy/namespaces/__default__/documents/upsert', { documents: [{ _id: 'x', genre: 'a' }] });
    expect(legacyUpsert.status).toBe(400);
    expect(legacyUpsert.body.message).toMatch(/use the vectors API/);
  });

  it('upserts, validates, fetches, lists and searches documents', async () => {
    app = await startTestApp({ annBuilder: false });
    await createIndex();
    expect((await docs('upsert', { documents: DOCS })).body).toEqual({ upserted_count: 4 });

    // Validation against the schema: 400 with a sentence naming the field.
    for (const [bad, pattern] of [
      [{ _id: 'x', title: 3, embedding: [1, 0, 0] }, /title must be a string/],
      [{ _id: 'x', embedding: [1, 0] }, /dimension 2 does not match/],
      [{ _id: 'x' }, /dense_vector field "embedding" is required/],
      [{ _id: 'x', embedding: [1, 0, 0], year: 1.5 }, /year must be an integer/],
      [{ _id: 'x', embedding: [1, 0, 0], $bad: 1 }, /must not start with "\$"/],
      [{ embedding: [1, 0, 0] }, /_id must be a string/],
    ] as const) {
      const res = await docs('upsert', { documents: [bad] });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe(3);
      expect(res.body.message).toMatch(pattern);
    }

    const fetched = await docs('fetch', { ids: ['a', 'zz'] });
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual({
      documents: { a: { ...DOCS[0] } },
      namespace: '__default__',
      usage: { read_units: 1 },
    });
    const some = await docs('fetch', { ids: ['b'], include_fields: ['title', 'year'] });
    expect(some.body.documents.b).toEqual({ _id: 'b', title: 'Machine learning', year: 2024 });
    const byFilter = await docs('fetch', { filter: { genre: 'nature' }, limit: 1, include_fields: ['genre'] });
    expect(byFilter.body.documents).toEqual({ a: { _id: 'a', genre: 'nature' } });
    const next = await docs('fetch', { filter: { genre: 'nature' }, limit: 1, include_fields: ['genre'], pagination_token: byFilter.body.pagination.next });
    expect(next.body.documents).toEqual({ c: { _id: 'c', genre: 'nature' } });
    expect(next.body.pagination).toBeUndefined();
    expect((await docs('fetch', { ids: ['a'], filter: { genre: 'x' } })).status).toBe(400);
    expect((await docs('fetch', { filter: {} })).status).toBe(400);

    const listed = await docs('list', { limit: 3 });
    expect(listed.body.documents).toEqual([{ _id: 'a' }, { _id: 'b' }, { _id: 'c' }]);
    const rest = await docs('list', { limit: 3, pagination_token: listed.body.pagination.next });
    expect(rest.body).toEqual({ documents: [{ _id: 'd' }], namespace: '__default__', usage: { read_units: 1 } });

    // BM25 on a stemmed field: "migrate" finds migrating/migrates; stop words are dropped.
    const text = await docs('search', { score_by: [{ type: 'text', fields: ['body'], query: 'the birds migrate' }], top_k: 10 });
    expect(text.status).toBe(200);
    expect(text.body.matches.map((m: { _id: string }) => m._id)).toEqual(['c', 'a']);
    expect(Object.keys(text.body.matches[0]).sort()).toEqual(['_id', '_score']);
    expect(text.body.matches[0]._score).toBeGreaterThan(text.body.matches[1]._score);

    // Scores equal the brute-force BM25 over the same analysed field.
    const analyzer = analyzerFor({ language: 'en', stemming: false, stopWords: false });
    const reference = bm25BruteForce(new Map(DOCS.map((d) => [d._id, analyzer.analyze(d.title)])), analyzer.analyze('machine learning'));
    const titles = await docs('search', { score_by: [{ type: 'text', field: 'title', query: 'machine learning' }], top_k: 3, include_fields: ['title'] });
    const want = topScores(reference, 3);
    expect(titles.body.matches.map((m: { _id: string }) => m._id)).toEqual(want.map((w) => w.id));
    titles.body.matches.forEach((m: { _score: number }, i: number) => expect(m._score).toBeCloseTo(want[i]!.score, 5));
    expect(titles.body.matches[0].title).toBeDefined();

    // Several text clauses add up; filters (metadata and text-match) restrict.
    const both = await docs('search', {
      score_by: [{ type: 'text', fields: ['title', 'body'], query: 'learning' }],
      top_k: 10,
      filter: { year: { $gte: 2024 } },
    });
    expect(both.body.matches.map((m: { _id: string }) => m._id).sort()).toEqual(['b', 'c']);
    const dense = await docs('search', { score_by: [{ type: 'dense_vector', fields: ['embedding'], values: [1, 0, 0] }], top_k: 2, include_fields: ['*'] });
    expect(dense.body.matches.map((m: { _id: string }) => m._id)).toEqual(['a', 'c']);
    expect(dense.body.matches[0]).toEqual({ ...DOCS[0], _score: 1 });
    const phrase = await docs('search', {
      score_by: [{ type: 'dense_vector', field: 'embedding', values: [0, 1, 0] }],
      top_k: 5,
      filter: { body: { $match_phrase: 'machine learning' } },
    });
    expect(phrase.body.matches.map((m: { _id: string }) => m._id)).toEqual(['b', 'd']);
    const any = await docs('search', {
      score_by: [{ type: 'dense_vector', field: 'embedding', values: [1, 0, 0] }],
      top_k: 5,
      filter: { $and: [{ title: { $match_any: 'birds fly' } }, { genre: 'nature' }] },
    });
    expect(any.body.matches.map((m: { _id: string }) => m._id)).toEqual(['a', 'c']);
    const sparse = await docs('search', { score_by: [{ type: 'sparse_vector', fields: ['keywords'], sparse_values: { indices: [2], values: [1] } }], top_k: 5 });
    expect(sparse.body.matches).toEqual([
      { _id: 'b', _score: 1 },
      { _id: 'a', _score: 0.5 },
    ]);
    const lucene = await docs('search', { score_by: [{ type: 'query_string', query: 'title:learning AND -body:fly' }], top_k: 5 });
    expect(lucene.body.matches.map((m: { _id: string }) => m._id).sort()).toEqual(['b', 'd']);
    const quoted = await docs('search', { score_by: [{ type: 'query_string', query: 'body:"machine learning" OR title:birds' }], top_k: 5 });
    expect(quoted.body.matches.map((m: { _id: string }) => m._id).sort()).toEqual(['a', 'b', 'd']);

    // Refusals: 400 with the reason.
    for (const [body, pattern] of [
      [{ score_by: [], top_k: 1 }, /score_by/],
      [{ score_by: [{ type: 'text', fields: ['genre'], query: 'x' }], top_k: 1 }, /not a string field declared with full_text_search/],
      [{ score_by: [{ type: 'text', fields: ['title'], query: '   ' }], top_k: 1 }, /must not be empty/],
      [{ score_by: [{ type: 'text', fields: ['title'], query: 'x' }, { type: 'dense_vector', fields: ['embedding'], values: [1, 0, 0] }], top_k: 1 }, /on its own/],
      [{ score_by: [{ type: 'text', fields: ['title'], query: 'x' }], top_k: 0 }, /top_k/],
      [{ score_by: [{ type: 'query_string', query: 'title:lear*' }], top_k: 1 }, /wildcards/],
      [{ score_by: [{ type: 'dense_vector', fields: ['embedding'], values: [1, 0, 0] }], top_k: 1, filter: { $or: [{ body: { $match_all: 'x' } }] } }, /not under \$or/],
    ] as const) {
      const res = await docs('search', body);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(pattern);
    }
  });

  it('updates documents by id and by filter, deletes them, and keeps BM25 in step', async () => {
    app = await startTestApp({ annBuilder: false });
    await createIndex();
    await docs('upsert', { documents: DOCS });
    const search = async (query: string) =>
      (await docs('search', { score_by: [{ type: 'text', fields: ['title'], query }], top_k: 10 })).body.matches.map((m: { _id: string }) => m._id);
    expect(await search('birds')).toEqual(['a']);

    const updated = await docs('update', { documents: [{ _id: 'b', title: 'Birds of prey', _remove_fields: ['genre'] }, { _id: 'missing', title: 'x' }] });
    expect(updated.body).toEqual({ matched_records: 1 });
    expect((await docs('fetch', { ids: ['b'] })).body.documents.b).toEqual({ ...DOCS[1], title: 'Birds of prey', genre: undefined });
    expect((await search('birds')).sort()).toEqual(['a', 'b']);
    expect(await search('machine')).toEqual([]);
    expect(await search('machines')).toEqual(['d']);

    const byFilter = await docs('update', { filter: { year: 2024 }, set_fields: { genre: 'recent' }, remove_fields: ['keywords'] });
    expect(byFilter.body).toEqual({ matched_records: 2 });
    const after = (await docs('fetch', { ids: ['b', 'c'], include_fields: ['genre', 'keywords'] })).body.documents;
    expect(after).toEqual({ b: { _id: 'b', genre: 'recent' }, c: { _id: 'c', genre: 'recent' } });
    expect((await docs('update', { filter: { year: 2024 }, set_fields: { embedding: [1] } })).status).toBe(400);
    expect((await docs('update', { filter: { title: { $match_all: 'x' } }, set_fields: { a: 1 } })).status).toBe(400);
    expect((await docs('update', { documents: [{ _id: 'a' }], set_fields: { a: 1 } })).status).toBe(400);

    expect((await docs('delete', { ids: ['a'] })).body).toEqual({ matched_records: 1 });
    expect(await search('birds')).toEqual(['b']);
    expect((await docs('delete', { filter: { genre: 'recent' } })).body).toEqual({ matched_records: 2 });
    expect(await search('learning')).toEqual(['d']);
    expect((await docs('delete', { filter: {} })).status).toBe(400);
    expect((await docs('delete', { ids: ['d'], delete_all: true })).status).toBe(400);
    expect((await docs('delete', { delete_all: true })).body).toEqual({ matched_records: 1 });
    expect(await search('learning')).toEqual([]);
  });

  it('keeps documents and rebuilds BM25 after a reopen, from the WAL and from a snapshot', async () => {
    app = await startTestApp({ annBuilder: false });
    await createIndex();
    await docs('upsert', { documents: DOCS }, 'ns1');
    await docs('update', { documents: [{ _id: 'c', title: 'Birds learning to fly' }] }, 'ns1');
    const before = (await docs('search', { score_by: [{ type: 'text', fields: ['title'], query: 'birds learning' }], top_k: 10 }, 'ns1')).body;
    // Built once, on the namespace's first write; searches never rebuild.
    expect(textIndexesOf(app.registry.get('docs')).builds).toBe(1);
    const { dataDir } = app;
    await app.app.close();
    await app.registry.close();
    for (const snapshotFirst of [false, true]) {
      const logger = pino({ level: 'silent' });
      const registry = await IndexRegistry.open(dataDir, logger, { annBuilder: false });
      if (snapshotFirst) await registry.get('docs').snapshot();
      const server = buildServer({ registry, internalToken: TOKEN, maxBodyBytes: 4 * 1024 * 1024, logger });
      expect(textIndexesOf(registry.get('docs')).builds).toBe(1); // at start: recovery
      const url = await server.listen({ host: '127.0.0.1', port: 0 });
      const res = await fetch(`${url}/internal/indexes/docs/namespaces/ns1/documents/search`, {
        method: 'POST',
        headers: { 'x-conifer-internal-token': TOKEN, 'content-type': 'application/json' },
        body: JSON.stringify({ score_by: [{ type: 'text', fields: ['title'], query: 'birds learning' }], top_k: 10 }),
      });
      expect(await res.json()).toEqual(before);
      expect(textIndexesOf(registry.get('docs')).builds).toBe(1);
      await server.close();
      await registry.close();
    }
    // The schema survives too (index.json).
    const registry = await IndexRegistry.open(dataDir, pino({ level: 'silent' }), { annBuilder: false });
    expect(registry.get('docs').settings.schema).toEqual(parseIndexSchema(SCHEMA, { path: 'schema', vectors: true }));
    await registry.close();
  });

  it('answers malformed bodies with 400, never 5xx, and changes nothing', async () => {
    app = await startTestApp({ annBuilder: false });
    await createIndex();
    await docs('upsert', { documents: DOCS });
    const junk: unknown[] = [
      '[]', '"x"', '7', 'null', '{', { documents: 'x' }, { documents: [null] }, { documents: [[]] }, { documents: [{ _id: 5 }] },
      { documents: [{ _id: '' }] }, { documents: [{ _id: 'x'.repeat(600) }] }, { documents: [{ _id: 'x', embedding: 'no' }] },
      { documents: [{ _id: 'x', embedding: [1, 0, NaN] }] }, { documents: [{ _id: 'x', embedding: [1, 0, 0], keywords: { indices: [1], values: [] } }] },
      { documents: [{ _id: 'x', embedding: [1, 0, 0], nested: { a: 1 } }] }, { documents: [{ _id: 'x', embedding: [1, 0, 0], list: [1, 2] }] },
      { documents: [{ _id: 'x', embedding: [1, 0, 0], _score: 1 }] }, { ids: 'a' }, { ids: [] }, { ids: [1] }, { filter: 'x' },
      { filter: { $bogus: 1 } }, { filter: { genre: { $match_all: 3 } } }, { score_by: 'x', top_k: 1 }, { score_by: [null], top_k: 1 },
      { score_by: [{ type: 'bm42' }], top_k: 1 }, { score_by: [{ type: 'text', fields: 'title', query: 'x' }], top_k: 1 },
      { score_by: [{ type: 'text', fields: ['title'], field: 'body', query: 'x' }], top_k: 1 },
      { score_by: [{ type: 'text', fields: ['title'], query: 'x'.repeat(11_000) }], top_k: 1 },
      { score_by: [{ type: 'dense_vector', fields: ['embedding'] }], top_k: 1 },
      { score_by: [{ type: 'dense_vector', fields: ['embedding', 'embedding'], values: [1, 0, 0] }], top_k: 1 },
      { score_by: [{ type: 'sparse_vector', fields: ['keywords'], sparse_values: { indices: [1, 1], values: [1, 1] } }], top_k: 1 },
      { score_by: [{ type: 'query_string', fields: ['title'], query: 'x' }], top_k: 1 },
      { score_by: [{ type: 'query_string', query: '((((' }], top_k: 1 },
      { score_by: [{ type: 'text', fields: ['title'], query: 'x' }], top_k: 1.5 },
      { score_by: [{ type: 'text', fields: ['title'], query: 'x' }], top_k: 1, include_fields: 'title' },
      { documents: [{ _id: 'a', embedding: [1] }] }, { documents: [{ _id: 'a', _remove_fields: 'x' }] },
      { documents: [{ _id: 'a', _remove_fields: ['embedding'] }] }, { filter: { genre: 'tech' }, set_fields: 'x' },
      { filter: { genre: 'tech' }, set_fields: { a: null } }, { filter: { genre: 'tech' }, set_fields: { a: 1 }, remove_fields: ['a'] },
      { delete_all: 'yes' }, { limit: 0, filter: { genre: 'tech' } }, { limit: 'x' }, { prefix: 3 }, { pagination_token: 5 },
      { filter: { genre: 'tech' }, pagination_token: '%%%' },
    ];
    const check = async (op: string): Promise<void> => {
      for (const body of junk) {
        const res = await docs(op, body);
        expect([200, 400]).toContain(res.status);
        if (res.status === 400) expect(res.body.code).toBe(3);
        if (op === 'upsert') expect(res.status).toBe(400);
      }
    };
    for (const op of ['upsert', 'fetch', 'list', 'search', 'update']) await check(op);
    const after = await docs('fetch', { ids: DOCS.map((d) => d._id) });
    expect(after.body.documents).toEqual(Object.fromEntries(DOCS.map((d) => [d._id, d])));
    await check('delete'); // some of these are valid deletes (a filter beside unknown fields)
  });

  it('adds schema fields to an existing index and refuses changed ones', async () => {
    app = await startTestApp({ annBuilder: false });
    expect((await app.call('PUT', '/internal/indexes/docs', { dimension: 3, metric: 'cosine' })).status).toBe(201);
    const schema = { fields: { embedding: { type: 'dense_vector', dimension: 3, metric: 'cosine' }, t: { type: 'string', full_text_search: {} } } };
    expect((await app.call('PUT', '/internal/indexes/docs', { dimension: 3, metric: 'cosine', schema })).status).toBe(200);
    await docs('upsert', { documents: [{ _id: 'x', embedding: [1, 2, 3], t: 'hello world' }] });
    const reordered = { fields: { t: { full_text_search: {}, type: 'string' }, embedding: { metric: 'cosine', dimension: 3, type: 'dense_vector' } } };
    expect((await app.call('PUT', '/internal/indexes/docs', { dimension: 3, metric: 'cosine', schema: reordered })).status).toBe(200);
    expect(app.registry.get('docs').settings.schema).toEqual(parseIndexSchema(schema, { path: 'schema', vectors: true }));
    const changed = { fields: { ...schema.fields, t: { type: 'string' } } };
    expect((await app.call('PUT', '/internal/indexes/docs', { dimension: 3, metric: 'cosine', schema: changed })).status).toBe(409);
    const mismatch = { fields: { embedding: { type: 'dense_vector', dimension: 4, metric: 'cosine' } } };
    expect((await app.call('PUT', '/internal/indexes/docs', { dimension: 3, metric: 'cosine', schema: mismatch })).status).toBe(400);
    const hits = await docs('search', { score_by: [{ type: 'text', fields: ['t'], query: 'hello' }], top_k: 1 });
    expect(hits.body.matches.map((m: { _id: string }) => m._id)).toEqual(['x']);
  });
});
