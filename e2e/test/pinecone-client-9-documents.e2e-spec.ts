// The 2026-07 documents API through the official TypeScript client 9.0.0, unmodified (installed as the npm
// alias `pinecone9`, so the 8.2 suite keeps its client): typed documents, full-text search (BM25, Lucene
// query strings), dense and sparse ranking, text-match filters, update, delete, errors as the client's own
// classes, namespace-scoped keys, and documents surviving a kill -9 of the vector store.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Errors, Pinecone } from 'pinecone9';
import { startSystem, type System } from '@conifer/test-utils';

const { PineconeBadRequestError } = Errors;

const SCHEMA = {
  fields: {
    title: { type: 'string' as const, fullTextSearch: {} },
    body: { type: 'string' as const, fullTextSearch: { language: 'en', stemming: true, stopWords: true } },
    embedding: { type: 'dense_vector' as const, dimension: 4, metric: 'cosine' as const },
    keywords: { type: 'sparse_vector' as const },
  },
};
const DOCS = [
  { _id: 'warbler', title: 'Migrating warblers', body: 'The warblers are migrating south before the winter', embedding: [1, 0, 0, 0], keywords: { indices: [1, 7], values: [0.5, 0.25] }, region: 'north', year: 2021 },
  { _id: 'ml', title: 'Machine learning', body: 'Machine learning models learn patterns from data', embedding: [0, 1, 0, 0], keywords: { indices: [7], values: [1] }, region: 'south', year: 2024 },
  { _id: 'owl', title: 'Owls at night', body: 'An owl hunts at night; owls migrate rarely', embedding: [0.6, 0, 0.8, 0], region: 'north', year: 2024 },
  { _id: 'deep', title: 'Deep learning machines', body: 'machine learning at scale: deep learning machines', embedding: [0, 0.6, 0, 0.8], region: 'south', year: 2023 },
];

const ids = (matches: Array<{ _id: string }>): string[] => matches.map((m) => m._id);

describe('official Pinecone TypeScript client 9.0.0: documents API', () => {
  let system: System;
  let projectId: string;
  let editorKey: string;
  let pc: Pinecone;
  const name = 'e2e-documents';
  const namespace = 'articles';

  /** The index's documents client, as a user gets it (by index name; the client looks up the host). */
  const documents = (client: Pinecone = pc, ns: string = namespace) => client.index({ name, namespace: ns }).documents;

  /** Creates the index with its schema through the 9.x client (the 2026-07 index model). */
  async function createDocumentIndex(): Promise<void> {
    await pc.createIndex({
      name,
      deployment: { deploymentType: 'managed', cloud: 'aws', region: 'us-east-1' } as never,
      schema: SCHEMA,
      waitUntilReady: true,
    });
  }

  beforeAll(async () => {
    system = await startSystem();
    projectId = await system.defaultProjectId();
    editorKey = (await system.mintKey(projectId, ['ProjectEditor'])).value;
    pc = new Pinecone({ apiKey: editorKey, controllerHostUrl: system.gatewayUrl, maxRetries: 1 });
    await createDocumentIndex();
  });

  afterAll(async () => {
    await system?.stop();
  });

  it('upserts typed documents and fetches them back unchanged', async () => {
    expect(await documents().upsert({ documents: DOCS })).toEqual({ upsertedCount: 4 });
    const fetched = await documents().fetch({ ids: ['warbler', 'missing'] });
    expect(fetched.namespace).toBe(namespace);
    expect(Object.keys(fetched.documents)).toEqual(['warbler']);
    expect(fetched.documents.warbler).toEqual(DOCS[0]);
    const some = await documents().fetch({ ids: ['ml'], includeFields: ['title', 'year'] });
    expect(some.documents.ml).toEqual({ _id: 'ml', title: 'Machine learning', year: 2024 });
    const byFilter = await documents().fetch({ filter: { region: { $eq: 'north' } }, includeFields: ['region'] });
    expect(byFilter.documents).toEqual({ owl: { _id: 'owl', region: 'north' }, warbler: { _id: 'warbler', region: 'north' } });
  });

  it('lists document ids page by page', async () => {
    const first = await documents().list({ limit: 3 });
    expect(ids(first.documents)).toEqual(['deep', 'ml', 'owl']);
    expect(first.pagination?.next).toBeTruthy();
    const second = await documents().list({ limit: 3, paginationToken: first.pagination!.next! });
    expect(ids(second.documents)).toEqual(['warbler']);
    expect(second.pagination).toBeUndefined();
    expect(ids((await documents().list({ prefix: 'o' })).documents)).toEqual(['owl']);
  });

  it('ranks by BM25 on a stemmed field with stop words removed, and on several fields', async () => {
    const migrate = await documents().search({ scoreBy: [{ type: 'text', fields: ['body'], query: 'the birds migrate' }], topK: 10 });
    expect(ids(migrate.matches)).toEqual(expect.arrayContaining(['warbler', 'owl']));
    expect(migrate.matches).toHaveLength(2);
    expect(Object.keys(migrate.matches[0]!).sort()).toEqual(['_id', '_score']);
    const learning = await documents().search({
      scoreBy: [{ type: 'text', fields: ['title', 'body'], query: 'machine learning' }],
      topK: 2,
      includeFields: ['title'],
    });
    // "ml" matches both terms in both fields; "deep"'s title has "machines" (title is not stemmed).
    expect(ids(learning.matches)).toEqual(['ml', 'deep']);
    expect(learning.matches[0]!._score!).toBeGreaterThan(learning.matches[1]!._score!);
    expect(learning.matches[0]!.title).toBe('Machine learning');
    const filtered = await documents().search({
      scoreBy: [{ type: 'text', fields: ['title'], query: 'learning' }],
      topK: 5,
      filter: { year: { $gte: 2024 } },
    });
    expect(ids(filtered.matches)).toEqual(['ml']);
    const lucene = await documents().search({ scoreBy: [{ type: 'query_string', query: 'body:"machine learning" AND -title:deep' }], topK: 5 });
    expect(ids(lucene.matches)).toEqual(['ml']);
  });

  it('ranks by dense and sparse vectors, restricted by text-match filters', async () => {
    const dense = await documents().search({ scoreBy: [{ type: 'dense_vector', fields: ['embedding'], values: [1, 0, 0, 0] }], topK: 2, includeFields: ['*'] });
    expect(ids(dense.matches)).toEqual(['warbler', 'owl']);
    expect(dense.matches[0]).toEqual({ ...DOCS[0], _score: 1 });
    const phrase = await documents().search({
      scoreBy: [{ type: 'dense_vector', fields: ['embedding'], values: [1, 0, 0, 0] }],
      topK: 5,
      filter: { body: { $match_phrase: 'machine learning' } },
    });
    expect(ids(phrase.matches)).toEqual(['ml', 'deep']);
    const sparse = await documents().search({ scoreBy: [{ type: 'sparse_vector', fields: ['keywords'], sparseValues: { indices: [7], values: [2] } }], topK: 5 });
    expect(sparse.matches).toEqual([
      { _id: 'ml', _score: 2 },
      { _id: 'warbler', _score: 0.5 },
    ]);
  });

  it('updates documents by id and by filter, and search follows', async () => {
    const byId = await documents().update({ documents: [{ _id: 'owl', title: 'Owls and warblers', _remove_fields: ['region'] }] });
    expect(byId.matchedRecords).toBe(1);
    const owl = (await documents().fetch({ ids: ['owl'] })).documents.owl!;
    expect(owl.title).toBe('Owls and warblers');
    expect(owl.region).toBeUndefined();
    const hits = await documents().search({ scoreBy: [{ type: 'text', fields: ['title'], query: 'warblers' }], topK: 5 });
    expect(ids(hits.matches).sort()).toEqual(['owl', 'warbler']);
    const byFilter = await documents().update({ filter: { year: { $eq: 2024 } }, setFields: { reviewed: true } });
    expect(byFilter.matchedRecords).toBe(2);
    const reviewed = await documents().fetch({ filter: { reviewed: { $eq: true } }, includeFields: ['reviewed'] });
    expect(Object.keys(reviewed.documents).sort()).toEqual(['ml', 'owl']);
  });

  it('answers bad requests with 400s the client raises as PineconeBadRequestError', async () => {
    const cases: Array<[() => Promise<unknown>, RegExp]> = [
      [() => documents().upsert({ documents: [{ _id: 'x', title: 'no vector' }] }), /dense_vector field "embedding" is required/],
      [() => documents().upsert({ documents: [{ _id: 'x', embedding: [1, 0] }] }), /dimension 2 does not match/],
      [() => documents().upsert({ documents: [{ _id: 'x', embedding: [1, 0, 0, 0], title: 7 }] }), /title must be a string/],
      [() => documents().search({ scoreBy: [{ type: 'text', fields: ['region'], query: 'north' }], topK: 1 }), /full_text_search/],
      [
        () =>
          documents().search({
            scoreBy: [
              { type: 'text', fields: ['title'], query: 'x' },
              { type: 'dense_vector', fields: ['embedding'], values: [1, 0, 0, 0] },
            ],
            topK: 1,
          }),
        /on its own/,
      ],
      [() => documents().delete({ filter: { title: { $match_any: 'owls' } } }), /metadata alone/],
    ];
    for (const [call, message] of cases) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PineconeBadRequestError);
      expect(String((error as Error).message)).toMatch(message);
    }
  });

  it('limits namespace-scoped keys to their namespaces', async () => {
    const scoped = await system.mintKey(projectId, ['DataPlaneEditor'], { scope: { indexes: [], namespaces: [namespace] } });
    const client = new Pinecone({ apiKey: scoped.value, controllerHostUrl: system.gatewayUrl, maxRetries: 1 });
    const host = (await pc.describeIndex(name)).host;
    const inScope = client.index({ host, namespace }).documents;
    expect((await inScope.search({ scoreBy: [{ type: 'text', fields: ['title'], query: 'owls' }], topK: 1 })).matches).toHaveLength(1);
    const other = await client.index({ host, namespace: 'other' }).documents.upsert({ documents: [DOCS[0]!] }).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(Error);
    expect((other as Error).name).toMatch(/PineconeBadRequestError|PineconeAuthorizationError/);
    expect(String((other as Error).message)).toMatch(/namespace/i);
  });

  it('lets viewer keys read documents but not write them', async () => {
    const viewer = await system.mintKey(projectId, ['DataPlaneViewer']);
    const client = new Pinecone({ apiKey: viewer.value, controllerHostUrl: system.gatewayUrl, maxRetries: 1 });
    const host = (await pc.describeIndex(name)).host;
    const docs = client.index({ host, namespace }).documents;
    expect(Object.keys((await docs.fetch({ ids: ['ml'] })).documents)).toEqual(['ml']);
    const refused = await docs.delete({ ids: ['ml'] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    expect(String((refused as Error).message)).toMatch(/permission|not allowed|role/i);
    expect(Object.keys((await documents().fetch({ ids: ['ml'] })).documents)).toEqual(['ml']);
  });

  it('routes namespaces that need percent-encoding in the path', async () => {
    const odd = 'news/2024 q3?#1';
    await documents(pc, odd).upsert({ documents: [{ _id: 'n1', title: 'Summer news', embedding: [0, 0, 0, 1] }] });
    const found = await documents(pc, odd).search({ scoreBy: [{ type: 'text', fields: ['title'], query: 'summer' }], topK: 1 });
    expect(found.namespace).toBe(odd);
    expect(ids(found.matches)).toEqual(['n1']);
    expect((await documents().fetch({ ids: ['n1'] })).documents).toEqual({});
    await documents(pc, odd).delete({ deleteAll: true });
  });

  it('keeps acknowledged documents and their full-text index through a kill -9 of the vector store', async () => {
    await documents().upsert({ documents: [{ _id: 'heron', title: 'Grey heron', body: 'Herons wade and migrate', embedding: [0, 0, 1, 0] }] });
    await documents().delete({ ids: ['deep'] });
    const query = { scoreBy: [{ type: 'text' as const, fields: ['body'], query: 'migrating herons' }], topK: 10 };
    const before = await documents().search(query);
    expect(ids(before.matches)).toContain('heron');
    await system.killStore();
    await system.startStore();
    const after = await documents().search(query);
    expect(after.matches).toEqual(before.matches);
    expect((await documents().fetch({ ids: ['deep', 'heron'] })).documents).toEqual({
      heron: { _id: 'heron', title: 'Grey heron', body: 'Herons wade and migrate', embedding: [0, 0, 1, 0] },
    });
    const deleted = await documents().delete({ deleteAll: true });
    expect(deleted.matchedRecords).toBe(4);
    expect((await documents().list()).documents).toEqual([]);
  });
});
