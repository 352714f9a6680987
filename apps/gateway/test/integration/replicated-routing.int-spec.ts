// Routing to an index with several replicas (issue 17) on the real gateway app (real Postgres and Redis) in
// front of three fake vector-store nodes that report a JetStream log. Fakes, not the real store, because these
// tests force what a real cluster only does by accident: a replica behind a given sequence, a replica refusing
// connections at one exact request, a log that is down for writes only. The cluster test
// (e2e cluster suite) covers the same paths against real store processes and NATS.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeVectorStore } from '../support/fake-vector-store.js';
import { TestCatalog, type TestKey } from '../support/auth-gateway.js';
import { INTERNAL_TOKEN, startIndexesGateway, type IndexesGateway } from '../support/indexes-gateway.js';

const spec = { serverless: { cloud: 'aws', region: 'us-east-1' } };

describe('replicated index routing', () => {
  const stores: FakeVectorStore[] = [];
  let gateway: IndexesGateway;
  let catalog: TestCatalog;
  let projectId: string;
  let writer: TestKey;
  let reader: TestKey;
  let indexId: string;
  let base: string;
  let replicas: FakeVectorStore[];

  const reads = (store: FakeVectorStore) => store.dataRequests(indexId).filter((r) => r.url.endsWith('/query'));
  const writes = (store: FakeVectorStore) => store.dataRequests(indexId).filter((r) => r.url.endsWith('/vectors/upsert'));
  const query = (key: TestKey, headers: Record<string, string> = {}) =>
    gateway.call('POST', `${base}/query`, { apiKey: key.value, body: { topK: 1, vector: [0.1, 0.2] }, headers });
  const upsert = (key: TestKey) => gateway.call('POST', `${base}/vectors/upsert`, { apiKey: key.value, body: { vectors: [{ id: 'a', values: [0.1, 0.2] }] } });
  const waitForPoll = () => new Promise((resolve) => setTimeout(resolve, 400));

  beforeAll(async () => {
    const sequence = { next: 1 };
    for (let i = 0; i < 3; i++) {
      const store = await new FakeVectorStore(INTERNAL_TOKEN).start();
      store.log = 'jetstream';
      store.sequence = sequence;
      stores.push(store);
    }
    gateway = await startIndexesGateway({
      CONIFER_VECTOR_STORE_URLS: stores.map((s) => s.url).join(','),
      CONIFER_INDEX_REPLICAS: '2',
      CONIFER_NODE_POLL_MS: '100',
      // No repair during these tests: a stopped fake stays the index's replica.
      CONIFER_NODE_DOWN_AFTER_MS: '600000',
      CONIFER_UPSTREAM_TIMEOUT_MS: '5000',
      CONIFER_REPLICA_READ_TIMEOUT_MS: '400',
    });
    catalog = new TestCatalog();
    projectId = await catalog.createProject();
    writer = await catalog.createKey(projectId, { roles: ['ProjectEditor'] });
    reader = await catalog.createKey(projectId, { roles: ['ProjectEditor'] });
    await waitForPoll();
    const created = await gateway.call('POST', '/indexes', { apiKey: writer.value, body: { name: 'movies', dimension: 2, spec } });
    expect(created.status).toBe(201);
    expect(created.body).not.toHaveProperty('replicas');
    const { rows } = await catalog.pool.query<{ id: string }>('SELECT id FROM indexes WHERE project_id = $1 AND name = $2', [projectId, 'movies']);
    indexId = rows[0]!.id;
    base = `/data/${projectId}/movies`;
    replicas = stores.filter((store) => store.indexes.has(indexId));
    await waitForPoll();
  });

  afterAll(async () => {
    await gateway?.close();
    await catalog?.close();
    for (const store of stores) await store.stop();
  });

  it('places the index on two of the three nodes', () => {
    expect(replicas).toHaveLength(2);
  });

  it('passes X-Conifer-Log-Seq back and sends it as X-Conifer-Min-Seq on the same key\'s reads only', async () => {
    const written = await upsert(writer);
    expect(written.status).toBe(200);
    const seq = written.headers.get('x-conifer-log-seq');
    expect(seq).toMatch(/^\d+$/);
    // Both replicas have applied it (as after the log delivered it to both).
    for (const store of replicas) store.appliedSeq = Number(seq);
    expect((await query(writer)).status).toBe(200);
    const last = () =>
      replicas
        .flatMap(reads)
        .sort((a, b) => a.at - b.at)
        .at(-1)!;
    expect(last().headers['x-conifer-min-seq']).toBe(seq);
    await query(reader);
    expect(last().headers['x-conifer-min-seq']).toBeUndefined();
    // A client-supplied sequence is forwarded (read-your-writes across gateways).
    await query(reader, { 'x-conifer-min-seq': seq! });
    expect(last().headers['x-conifer-min-seq']).toBe(seq);
    const bad = await query(reader, { 'x-conifer-min-seq': 'soon' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 3 });
  });

  it('spreads reads over both replicas', async () => {
    const before = replicas.map((store) => reads(store).length);
    for (let i = 0; i < 6; i++) expect((await query(reader)).status).toBe(200);
    const after = replicas.map((store, i) => reads(store).length - before[i]!);
    expect(after.every((n) => n >= 1)).toBe(true);
  });

  it('a replica behind the asked sequence answers 503 and the read is served by the other, once', async () => {
    const written = await upsert(writer);
    const seq = Number(written.headers.get('x-conifer-log-seq'));
    const [behind, ahead] = replicas as [FakeVectorStore, FakeVectorStore];
    behind.appliedSeq = seq - 1;
    ahead.appliedSeq = seq;
    const counts = () => [reads(behind).length, reads(ahead).length];
    for (let i = 0; i < 4; i++) {
      const before = counts();
      const response = await query(writer);
      expect(response.status).toBe(200);
      const [b, a] = counts().map((n, j) => n - before[j]!);
      expect(a).toBe(1);
      expect(b).toBeLessThanOrEqual(1);
    }
    // Both behind: one retry, then the replica's 503 reaches the client in Pinecone's shape.
    ahead.appliedSeq = seq - 1;
    const before = counts();
    const refused = await query(writer);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ code: 14 });
    expect(counts().map((n, j) => n - before[j]!)).toEqual([1, 1]);
    behind.appliedSeq = seq;
    ahead.appliedSeq = seq;
  });

  it('a replica that hangs: the read is retried on the other after CONIFER_REPLICA_READ_TIMEOUT_MS, not the upstream time-out', async () => {
    const [hung, fine] = replicas as [FakeVectorStore, FakeVectorStore];
    hung.stall = true;
    try {
      for (let i = 0; i < 3; i++) {
        const before = reads(fine).length;
        const started = Date.now();
        const response = await query(reader);
        expect(response.status).toBe(200);
        expect(Date.now() - started).toBeLessThan(3_000);
        expect(reads(fine).length).toBe(before + 1);
      }
    } finally {
      hung.stall = false;
    }
  });

  it('a replica that lost the index (node restarted with an empty disk): requests go to the other, repair creates it again', async () => {
    const [wiped] = replicas as [FakeVectorStore, FakeVectorStore];
    const settings = wiped.indexes.get(indexId)!;
    wiped.indexes.delete(indexId);
    // Its status still lists the index (as a poll taken just before the loss would): the gateway keeps choosing it.
    wiped.staleStatus = [indexId];
    const before = wiped.dataRequests(indexId).length;
    for (let i = 0; i < 4; i++) {
      const write = await upsert(writer);
      expect(write.status).toBe(200);
      for (const store of replicas) store.appliedSeq = Number(write.headers.get('x-conifer-log-seq'));
      expect((await query(reader)).status).toBe(200);
    }
    // Some of those reached the replica without the index (404) and were answered by the other one.
    expect(wiped.dataRequests(indexId).length).toBeGreaterThan(before);
    wiped.staleStatus = [];
    const deadline = Date.now() + 15_000;
    while (!wiped.indexes.has(indexId) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(wiped.indexes.get(indexId)).toMatchObject({ dimension: settings.dimension, metric: settings.metric });
  });

  it('a write answered 503 (log down) is not sent again', async () => {
    for (const store of replicas) store.logDown = true;
    const before = replicas.map((store) => writes(store).length);
    const response = await upsert(writer);
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ code: 14 });
    expect(replicas.map((store, i) => writes(store).length - before[i]!).reduce((a, b) => a + b)).toBe(1);
    for (const store of replicas) store.logDown = false;
  });

  it('a replica that refuses connections: reads and writes go to the other at once, without a failure', async () => {
    const [gone, left] = replicas as [FakeVectorStore, FakeVectorStore];
    const port = Number(new URL(gone.url).port);
    await gone.stop();
    for (let i = 0; i < 4; i++) {
      const read = await query(reader);
      expect(read.status).toBe(200);
      const write = await upsert(writer);
      expect(write.status).toBe(200);
      left.appliedSeq = Number(write.headers.get('x-conifer-log-seq'));
    }
    await gone.start(port);
    // Back in rotation after the next answered poll.
    await waitForPoll();
    const before = reads(gone).length;
    for (let i = 0; i < 6; i++) await query(reader);
    expect(reads(gone).length).toBeGreaterThan(before);
  });
});
