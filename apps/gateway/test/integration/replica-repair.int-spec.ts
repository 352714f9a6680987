// Membership and repair (issue 17) on the real gateway app (real Postgres) in front of three fake JetStream
// vector-store nodes: a node silent for CONIFER_NODE_DOWN_AFTER_MS loses its replicas to another node; when it
// answers again it is told to drop the copy it still holds; a draining node's replicas move off it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runNodesCli } from '../../src/cli/conifer-nodes.js';
import { FakeVectorStore } from '../support/fake-vector-store.js';
import { TestCatalog, type TestKey } from '../support/auth-gateway.js';
import { INTERNAL_TOKEN, startIndexesGateway, type IndexesGateway } from '../support/indexes-gateway.js';

const spec = { serverless: { cloud: 'aws', region: 'us-east-1' } };

async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('replica repair', () => {
  const stores: FakeVectorStore[] = [];
  let gateway: IndexesGateway;
  let catalog: TestCatalog;
  let projectId: string;
  let editor: TestKey;

  const replicaUrls = async (indexId: string) => {
    const { rows } = await catalog.pool.query<{ url: string; state: string }>(
      'SELECT n.url, r.state FROM index_replicas r JOIN vector_store_nodes n ON n.id = r.node_id WHERE r.index_id = $1 ORDER BY n.url',
      [indexId],
    );
    return rows;
  };
  const create = async (name: string) => {
    const created = await gateway.call('POST', '/indexes', { apiKey: editor.value, body: { name, dimension: 2, spec } });
    expect(created.status).toBe(201);
    const { rows } = await catalog.pool.query<{ id: string }>('SELECT id FROM indexes WHERE project_id = $1 AND name = $2', [projectId, name]);
    return rows[0]!.id;
  };

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      const store = await new FakeVectorStore(INTERNAL_TOKEN).start();
      store.log = 'jetstream';
      stores.push(store);
    }
    gateway = await startIndexesGateway({
      CONIFER_VECTOR_STORE_URLS: stores.map((s) => s.url).join(','),
      CONIFER_INDEX_REPLICAS: '2',
      CONIFER_NODE_POLL_MS: '100',
      CONIFER_NODE_DOWN_AFTER_MS: '800',
    });
    catalog = new TestCatalog();
    projectId = await catalog.createProject();
    editor = await catalog.createKey(projectId, { roles: ['ProjectEditor'] });
    await new Promise((resolve) => setTimeout(resolve, 300));
  });

  afterAll(async () => {
    await gateway?.close();
    await catalog?.close();
    for (const store of stores) await store.stop();
  });

  it('re-creates a dead node\'s replica elsewhere, serves reads meanwhile, and drops the copy when the node returns', async () => {
    const indexId = await create('books');
    const holders = stores.filter((store) => store.indexes.has(indexId));
    const spare = stores.find((store) => !store.indexes.has(indexId))!;
    expect(holders).toHaveLength(2);
    const dead = holders[0]!;
    const port = Number(new URL(dead.url).port);
    await dead.stop();
    // Reads keep working on the other replica at once.
    const read = await gateway.call('POST', `/data/${projectId}/books/query`, { apiKey: editor.value, body: { topK: 1, vector: [0.1, 0.2] } });
    expect(read.status).toBe(200);
    await eventually(() => spare.indexes.has(indexId));
    await eventually(async () => (await replicaUrls(indexId)).map((r) => r.url).join() === [holders[1]!.url, spare.url].sort().join());
    expect((await replicaUrls(indexId)).every((r) => r.state === 'active')).toBe(true);
    // The node comes back (its disk intact): the replica it still holds is no longer placed there.
    await dead.start(port);
    await eventually(() => !dead.indexes.has(indexId));
    const drop = dead.requests.find((r) => r.method === 'DELETE' && r.url.startsWith(`/internal/indexes/${indexId}`))!;
    expect(drop.url).toBe(`/internal/indexes/${indexId}`);
  });

  it('moves a draining node\'s replicas off it once the replacement has caught up, then drops its copy', async () => {
    const indexId = await create('drained');
    const holders = stores.filter((store) => store.indexes.has(indexId));
    const leaving = holders[0]!;
    const spare = stores.find((store) => !store.indexes.has(indexId))!;
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (text: string) => out.push(text), err: (text: string) => err.push(text) };
    const env = { DATABASE_URL: process.env.DATABASE_URL };
    expect(await runNodesCli(['drain'], env, io)).toBe(2);
    expect(await runNodesCli(['drain', 'http://127.0.0.1:1/nowhere'], env, io)).toBe(1);
    expect(err.at(-1)).toMatch(/no node with URL/);
    expect(await runNodesCli(['drain', `${leaving.url}/`], env, io)).toBe(0);
    expect(JSON.parse(out.at(-1)!)).toMatchObject([{ url: leaving.url, state: 'live', draining: true }]);
    try {
      await eventually(() => spare.indexes.has(indexId));
      await eventually(async () => (await replicaUrls(indexId)).length === 2 && !(await replicaUrls(indexId)).some((r) => r.url === leaving.url));
      await eventually(() => !leaving.indexes.has(indexId));
      // Every replica it held (this index's and any other's) moves off it.
      await eventually(async () => {
        expect(await runNodesCli(['list'], env, io)).toBe(0);
        const listed = (JSON.parse(out.at(-1)!) as { url: string; draining: boolean; replicas: number }[]).find((n) => n.url === leaving.url);
        return listed?.draining === true && listed.replicas === 0;
      });
      // No new index lands on a draining node.
      const next = await create('after-drain');
      expect(leaving.indexes.has(next)).toBe(false);
    } finally {
      expect(await runNodesCli(['undrain', leaving.url], env, io)).toBe(0);
    }
  });
});

describe('replica repair on local-log nodes', () => {
  const stores: FakeVectorStore[] = [];
  let gateway: IndexesGateway;
  let catalog: TestCatalog;

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const store = await new FakeVectorStore(INTERNAL_TOKEN).start();
      store.log = 'local';
      stores.push(store);
    }
    gateway = await startIndexesGateway({
      CONIFER_VECTOR_STORE_URLS: stores.map((s) => s.url).join(','),
      CONIFER_INDEX_REPLICAS: '2',
      CONIFER_NODE_POLL_MS: '100',
      CONIFER_NODE_DOWN_AFTER_MS: '500',
    });
    catalog = new TestCatalog();
    await new Promise((resolve) => setTimeout(resolve, 300));
  });

  afterAll(async () => {
    await gateway?.close();
    await catalog?.close();
    for (const store of stores) await store.stop();
  });

  it('gives an index one replica and never moves it off a dead node (its only copy is there)', async () => {
    const projectId = await catalog.createProject();
    const editor = await catalog.createKey(projectId, { roles: ['ProjectEditor'] });
    const created = await gateway.call('POST', '/indexes', { apiKey: editor.value, body: { name: 'solo', dimension: 2, spec } });
    expect(created.status).toBe(201);
    const holders = stores.filter((store) => store.indexes.size > 0);
    expect(holders).toHaveLength(1);
    const other = stores.find((store) => store !== holders[0])!;
    await holders[0]!.stop();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(other.requests.filter((r) => r.method === 'PUT')).toEqual([]);
    const { rows } = await catalog.pool.query('SELECT r.node_id FROM index_replicas r JOIN indexes i ON i.id = r.index_id WHERE i.project_id = $1', [projectId]);
    expect(rows).toHaveLength(1);
    // The data plane says so in Pinecone's shape.
    const read = await gateway.call('POST', `/data/${projectId}/solo/query`, { apiKey: editor.value, body: { topK: 1, vector: [0.1, 0.2] } });
    expect(read.status).toBe(503);
    expect(read.body).toMatchObject({ code: 14 });
  });
});
