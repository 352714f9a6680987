// The promise to users: change only the host, keep your Pinecone code. This suite drives the real system
// (vector store + gateway processes, real Postgres and Redis) only through the official TypeScript client,
// unmodified, configured with nothing but apiKey and controllerHostUrl.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Errors, Pinecone, type QueryOptions } from '@pinecone-database/pinecone';
import { startSystem, type System } from '@conifer/test-utils';

const { PineconeAuthorizationError, PineconeBadRequestError, PineconeNotFoundError } = Errors;

const DIMENSION = 8;

function vector(seed: number): number[] {
  // Short decimals: what comes back must equal what was written.
  return Array.from({ length: DIMENSION }, (_, i) => Math.round(Math.sin(seed * 7 + i * 3) * 100) / 100);
}

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!accept(last) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    last = await probe();
  }
  return last;
}

describe('official Pinecone TypeScript client against Conifer', () => {
  let system: System;
  let projectId: string;
  let pc: Pinecone;
  const denseName = 'e2e-dense';
  const sparseName = 'e2e-sparse';

  beforeAll(async () => {
    system = await startSystem();
    projectId = await system.defaultProjectId();
    const editor = await system.mintKey(projectId, ['ProjectEditor']);
    pc = new Pinecone({ apiKey: editor.value, controllerHostUrl: system.gatewayUrl, maxRetries: 1 });
  });

  afterAll(async () => {
    await system?.stop();
  });

  it('creates a dense and a sparse index and waits until they are ready', async () => {
    await pc.createIndex({
      name: denseName,
      dimension: DIMENSION,
      metric: 'cosine',
      spec: { serverless: { cloud: 'aws', region: 'us-east-1' } },
      waitUntilReady: true,
    });
    await pc.createIndex({
      name: sparseName,
      vectorType: 'sparse',
      metric: 'dotproduct',
      spec: { serverless: { cloud: 'aws', region: 'us-east-1' } },
      waitUntilReady: true,
    });
    const dense = await pc.describeIndex(denseName);
    expect(dense.status.ready).toBe(true);
    expect(dense.dimension).toBe(DIMENSION);
    expect(dense.metric).toBe('cosine');
    expect(dense.host).toBe(`${system.gatewayUrl}/data/${projectId}/${denseName}`);
    const sparse = await pc.describeIndex(sparseName);
    expect(sparse.vectorType).toBe('sparse');
  });

  it('lists the indexes and refuses a duplicate name with 409', async () => {
    const list = await pc.listIndexes();
    expect(list.indexes?.map((i) => i.name).sort()).toEqual([denseName, sparseName].sort());
    await expect(
      pc.createIndex({ name: denseName, dimension: DIMENSION, metric: 'cosine', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
    ).rejects.toThrow(/409|already exists/i);
  });

  it('configures deletion protection and tags', async () => {
    const configured = await pc.configureIndex({ name: denseName, deletionProtection: 'enabled', tags: { team: 'search', stage: 'e2e' } });
    expect(configured.deletionProtection).toBe('enabled');
    expect(configured.tags).toEqual({ team: 'search', stage: 'e2e' });
    await expect(pc.deleteIndex(denseName)).rejects.toBeInstanceOf(PineconeBadRequestError);
    const unprotected = await pc.configureIndex({ name: denseName, deletionProtection: 'disabled', tags: { stage: '' } });
    expect(unprotected.deletionProtection).toBe('disabled');
    expect(unprotected.tags).toEqual({ team: 'search' });
  });

  it('upserts, queries, fetches, updates and lists through pc.index(name)', async () => {
    const index = pc.index(denseName);
    const records = Array.from({ length: 12 }, (_, i) => ({
      id: `doc-${String(i).padStart(2, '0')}`,
      values: vector(i),
      metadata: { genre: i % 3 === 0 ? 'drama' : 'comedy', year: 2000 + i, tags: [`t${i % 2}`] },
    }));
    await index.upsert({ records });
    await index.namespace('docs').upsert({ records: records.slice(0, 5) });

    const fetched = await index.fetch({ ids: ['doc-01', 'doc-02', 'missing'] });
    expect(Object.keys(fetched.records).sort()).toEqual(['doc-01', 'doc-02']);
    expect(fetched.records['doc-01']!.values).toEqual(vector(1));
    expect(fetched.records['doc-01']!.metadata).toEqual({ genre: 'comedy', year: 2001, tags: ['t1'] });

    const byVector = await index.query({ vector: vector(3), topK: 3, includeValues: true, includeMetadata: true });
    expect(byVector.matches[0]!.id).toBe('doc-03');
    expect(byVector.matches[0]!.score).toBeCloseTo(1, 5);
    expect(byVector.matches[0]!.values).toEqual(vector(3));
    for (let i = 1; i < byVector.matches.length; i++) {
      expect(byVector.matches[i - 1]!.score!).toBeGreaterThanOrEqual(byVector.matches[i]!.score!);
    }

    const filtered = await index.query({
      vector: vector(3),
      topK: 10,
      filter: { genre: { $eq: 'drama' }, year: { $gte: 2003 } },
      includeMetadata: true,
    });
    expect(filtered.matches.map((m) => m.id).sort()).toEqual(['doc-03', 'doc-06', 'doc-09']);
    expect(filtered.matches.every((m) => m.values === undefined || m.values.length === 0)).toBe(true);

    const byId = await index.query({ id: 'doc-05', topK: 2 });
    expect(byId.matches[0]!.id).toBe('doc-05');

    await index.update({ id: 'doc-05', metadata: { genre: 'thriller', rating: 4.5 } });
    const updated = await index.fetch({ ids: ['doc-05'] });
    expect(updated.records['doc-05']!.metadata).toEqual({ genre: 'thriller', year: 2005, tags: ['t1'], rating: 4.5 });

    const seen: string[] = [];
    let paginationToken: string | undefined;
    do {
      const page = await index.listPaginated({ prefix: 'doc-0', limit: 4, paginationToken });
      seen.push(...(page.vectors ?? []).map((v) => v.id!));
      paginationToken = page.pagination?.next;
    } while (paginationToken);
    expect(seen.sort()).toEqual(records.filter((r) => r.id.startsWith('doc-0')).map((r) => r.id));

    const stats = await index.describeIndexStats();
    expect(stats.dimension).toBe(DIMENSION);
    expect(stats.totalRecordCount).toBe(17);
    expect(stats.namespaces?.['docs']?.recordCount).toBe(5);
  });

  it('lists and deletes namespaces, and deletes by ids, filter and all', async () => {
    const index = pc.index(denseName);
    const namespaces = await index.listNamespaces();
    expect(namespaces.namespaces?.map((n) => n.name).sort()).toEqual(['__default__', 'docs'].sort());
    await index.deleteNamespace('docs');
    await eventually(
      () => index.describeIndexStats(),
      (s) => s.namespaces?.['docs'] === undefined,
    );

    await index.deleteMany({ ids: ['doc-00', 'doc-01'] });
    await index.deleteMany({ filter: { genre: { $eq: 'drama' } } });
    const remaining = await index.fetch({ ids: ['doc-00', 'doc-03', 'doc-04'] });
    expect(Object.keys(remaining.records)).toEqual(['doc-04']);

    await index.deleteAll();
    const stats = await eventually(
      () => index.describeIndexStats(),
      (s) => (s.totalRecordCount ?? 0) === 0,
    );
    expect(stats.totalRecordCount ?? 0).toBe(0);
  });

  it('upserts and queries sparse vectors', async () => {
    const index = pc.index(sparseName);
    await index.upsert({
      records: [
        { id: 's1', sparseValues: { indices: [1, 5, 9], values: [0.5, 0.25, 1] }, metadata: { kind: 'a' } },
        { id: 's2', sparseValues: { indices: [2, 5], values: [1, 2] }, metadata: { kind: 'b' } },
      ],
    });
    // Client 8's types demand `vector` or `id`; its runtime sends a sparse-only query as it is.
    const sparseQuery = { sparseVector: { indices: [5, 9], values: [1, 1] }, topK: 2, includeMetadata: true };
    const result = await index.query(sparseQuery as unknown as QueryOptions);
    expect(result.matches.map((m) => m.id)).toEqual(['s2', 's1']);
    expect(result.matches[0]!.score).toBeCloseTo(2, 5);
    expect(result.matches[1]!.score).toBeCloseTo(1.25, 5);
  });

  it('shows each role the refusals a user would see', async () => {
    const keyFor = async (role: string) =>
      new Pinecone({ apiKey: (await system.mintKey(projectId, [role])).value, controllerHostUrl: system.gatewayUrl, maxRetries: 1 });
    const spec = { serverless: { cloud: 'aws' as const, region: 'us-east-1' } };

    const controlViewer = await keyFor('ControlPlaneViewer');
    expect((await controlViewer.listIndexes()).indexes?.length).toBe(2);
    await expect(controlViewer.createIndex({ name: 'nope', dimension: 4, spec })).rejects.toBeInstanceOf(PineconeBadRequestError);
    const denseHost = (await pc.describeIndex(denseName)).host;
    await expect(controlViewer.index(denseName, `${denseHost}`).query({ vector: vector(1), topK: 1 })).rejects.toBeInstanceOf(
      PineconeBadRequestError,
    );

    const dataViewer = await keyFor('DataPlaneViewer');
    await expect(dataViewer.listIndexes()).rejects.toBeInstanceOf(PineconeBadRequestError);
    const viewerIndex = dataViewer.index(denseName, denseHost);
    await expect(viewerIndex.query({ vector: vector(1), topK: 1 })).resolves.toHaveProperty('matches');
    await expect(viewerIndex.upsert({ records: [{ id: 'x', values: vector(1) }] })).rejects.toBeInstanceOf(PineconeBadRequestError);

    const dataEditor = await keyFor('DataPlaneEditor');
    await expect(dataEditor.index(denseName, denseHost).upsert({ records: [{ id: 'x', values: vector(1) }] })).resolves.toBeUndefined();
    await expect(dataEditor.describeIndex(denseName)).rejects.toBeInstanceOf(PineconeBadRequestError);

    const projectViewer = await keyFor('ProjectViewer');
    await expect(projectViewer.describeIndex(denseName)).resolves.toHaveProperty('name', denseName);
    await expect(projectViewer.deleteIndex(denseName)).rejects.toBeInstanceOf(PineconeBadRequestError);

    const wrongKey = new Pinecone({ apiKey: 'pcsk_not_a_real_key', controllerHostUrl: system.gatewayUrl, maxRetries: 1 });
    await expect(wrongKey.listIndexes()).rejects.toBeInstanceOf(PineconeAuthorizationError);
  });

  it('deletes the indexes; describe then answers 404', async () => {
    await pc.deleteIndex(denseName);
    await pc.deleteIndex(sparseName);
    await expect(pc.describeIndex(denseName)).rejects.toBeInstanceOf(PineconeNotFoundError);
    expect((await pc.listIndexes()).indexes ?? []).toEqual([]);
  });

  it('never writes a key or secret to a log line', () => {
    const logs = system.logs();
    expect(logs).not.toMatch(/pcsk_[0-9A-Za-z]{12}_[0-9A-Za-z]{49}/);
    expect(logs).not.toContain(system.clientSecret);
  });
});
