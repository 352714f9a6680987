import { beforeEach, describe, expect, it } from '@jest/globals';
import { loadConfig } from '@conifer/config';
import {
  AlreadyExistsError,
  ForbiddenError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
} from '@conifer/contracts';
import type { StoreIndexSettings, VectorStoreClient } from '@conifer/store-client';
import { pino } from 'pino';
import type { IndexRecord, ReplicaState } from './index-model.js';
import { chooseReplicaNodes } from './placement.js';

/** The classic index model (8.x clients); index-schema-request.spec.ts covers 2026-07. */
const CLASSIC = '2026-04' as const;
import { IndexRoutes } from './index-routes.js';
import { IndexesRepository, type IndexChanges } from './indexes.repository.js';
import { IndexesService, type IndexCaller } from './indexes.service.js';
import type { StoreNode, VectorStoreNodes } from './vector-store-nodes.service.js';

class InMemoryIndexes extends IndexesRepository {
  readonly rows = new Map<string, IndexRecord>();
  async insert(index: Omit<IndexRecord, 'createdAt'>): Promise<IndexRecord> {
    if ([...this.rows.values()].some((r) => r.projectId === index.projectId && r.name === index.name)) {
      throw new AlreadyExistsError(`Resource ${index.name} already exists`);
    }
    const record = { ...index, createdAt: new Date() };
    this.rows.set(index.id, record);
    return record;
  }
  async findByName(projectId: string, name: string) {
    return [...this.rows.values()].find((r) => r.projectId === projectId && r.name === name) ?? null;
  }
  async listByProject(projectId: string) {
    return [...this.rows.values()].filter((r) => r.projectId === projectId).sort((a, b) => a.name.localeCompare(b.name));
  }
  async update(id: string, changes: IndexChanges) {
    const row = this.rows.get(id);
    if (!row) return null;
    const updated = { ...row, ...changes } as IndexRecord;
    this.rows.set(id, updated);
    return updated;
  }
  async delete(id: string) {
    this.rows.delete(id);
  }
  async listStuck(states: readonly string[]) {
    return [...this.rows.values()].filter((r) => states.includes(r.state));
  }
  async countByNode() {
    const counts = new Map<string, number>();
    for (const row of this.rows.values()) for (const { nodeId } of row.replicas) counts.set(nodeId, (counts.get(nodeId) ?? 0) + 1);
    return counts;
  }
  async findById(id: string) {
    return this.rows.get(id) ?? null;
  }
  async listWithReplicaOn(nodeIds: readonly string[], states?: readonly ReplicaState[]) {
    return [...this.rows.values()].filter(
      (r) => r.state === 'Ready' && r.replicas.some((replica) => nodeIds.includes(replica.nodeId) && (!states || states.includes(replica.state))),
    );
  }
  async indexIdsOn(nodeId: string) {
    return new Set([...this.rows.values()].filter((r) => r.replicas.some((replica) => replica.nodeId === nodeId)).map((r) => r.id));
  }
  async addReplica(indexId: string, nodeId: string, state: ReplicaState) {
    const row = this.rows.get(indexId);
    if (!row) return false;
    if (!row.replicas.some((r) => r.nodeId === nodeId)) this.rows.set(indexId, { ...row, replicas: [...row.replicas, { nodeId, state }] });
    return true;
  }
  async setReplicaState(indexId: string, nodeId: string, state: ReplicaState) {
    const row = this.rows.get(indexId);
    if (row) this.rows.set(indexId, { ...row, replicas: row.replicas.map((r) => (r.nodeId === nodeId ? { nodeId, state } : r)) });
  }
  async removeReplica(indexId: string, nodeId: string) {
    const row = this.rows.get(indexId);
    if (row) this.rows.set(indexId, { ...row, replicas: row.replicas.filter((r) => r.nodeId !== nodeId) });
  }
  async exclusively(_lock: string, task: () => Promise<void>) {
    await task();
    return true;
  }
}

class FakeStore {
  readonly indexes = new Map<string, StoreIndexSettings>();
  readonly deletes: string[] = [];
  down = false;
  async createIndex(id: string, settings: StoreIndexSettings) {
    if (this.down) throw new UnavailableError('down');
    this.indexes.set(id, settings);
    return true;
  }
  async deleteIndex(id: string, options: { purge?: boolean } = {}) {
    if (this.down) throw new UnavailableError('down');
    this.deletes.push(options.purge ? `${id}?purge` : id);
    this.indexes.delete(id);
  }
}

function fakeNodes(repository: IndexesRepository, stores: Record<string, FakeStore>, log: 'local' | 'jetstream' = 'local') {
  const nodes: StoreNode[] = Object.entries(stores).map(([id, store]) => ({
    id,
    url: `http://${id}`,
    live: true,
    configured: true,
    draining: false,
    log,
    lastAnswerAt: 0,
    replicas: new Map(),
    outstanding: 0,
    client: store as unknown as VectorStoreClient,
  }));
  return {
    nodes,
    async node(id: string) {
      return nodes.find((n) => n.id === id)!;
    },
    async place(wanted = 1) {
      const counts = await repository.countByNode();
      const chosen = chooseReplicaNodes(nodes.map((node) => ({ ...node, node, indexCount: counts.get(node.id) ?? 0 })), wanted);
      if (chosen.length === 0) throw new UnavailableError('No vector-store node is available');
      return chosen.map((choice) => choice.node);
    },
    markDown(id: string) {
      nodes.find((n) => n.id === id)!.live = false;
    },
  };
}

const spec = { serverless: { cloud: 'aws', region: 'us-east-1' } };
const project: IndexCaller = { projectId: '11111111-1111-4111-8111-111111111111', indexScope: [] };
const other: IndexCaller = { projectId: '22222222-2222-4222-8222-222222222222', indexScope: [] };

describe('IndexesService', () => {
  let repository: InMemoryIndexes;
  let stores: Record<string, FakeStore>;
  let nodes: ReturnType<typeof fakeNodes>;
  let service: IndexesService;

  beforeEach(() => {
    repository = new InMemoryIndexes();
    stores = { a: new FakeStore(), b: new FakeStore() };
    nodes = fakeNodes(repository, stores);
    const config = loadConfig({ CONIFER_PUBLIC_URL: 'http://conifer.test:8080' });
    const routes = new IndexRoutes(repository, nodes as unknown as VectorStoreNodes);
    service = new IndexesService(config, pino({ level: 'silent' }), repository, nodes as unknown as VectorStoreNodes, routes);
  });

  it('creates a ready index on the least loaded node', async () => {
    const first = await service.create(project, { name: 'one', dimension: 3, spec }, CLASSIC);
    await service.create(project, { name: 'two', dimension: 3, spec }, CLASSIC);
    expect(first.status).toEqual({ ready: true, state: 'Ready' });
    expect(first.host).toBe(`http://conifer.test:8080/data/${project.projectId}/one`);
    expect(stores.a!.indexes.size).toBe(1);
    expect(stores.b!.indexes.size).toBe(1);
    expect([...stores.a!.indexes.values()][0]).toEqual({
      dimension: 3,
      metric: 'cosine',
      vectorType: 'dense',
      schema: { fields: { _values: { type: 'dense_vector', dimension: 3, metric: 'cosine' } } },
    });
  });

  it('shows one index in the classic shape to 2026-04 and in the schema shape to 2026-07', async () => {
    await service.create(
      project,
      {
        name: 'both',
        deployment: { deployment_type: 'managed', cloud: 'aws', region: 'us-west-2' },
        schema: { fields: { _values: { type: 'dense_vector', dimension: 3, metric: 'dotproduct' }, genre: { type: 'string', filterable: true } } },
        tags: { team: 'a' },
      },
      '2026-07',
    );
    expect(await service.describe(project, 'both', '2026-04')).toEqual({
      name: 'both',
      dimension: 3,
      metric: 'dotproduct',
      host: 'http://conifer.test:8080/data/11111111-1111-4111-8111-111111111111/both',
      spec: {
        serverless: {
          cloud: 'aws',
          region: 'us-west-2',
          read_capacity: { mode: 'OnDemand', status: { state: 'Ready' } },
          schema: { fields: { genre: { filterable: true } } },
        },
      },
      status: { ready: true, state: 'Ready' },
      deletion_protection: 'disabled',
      tags: { team: 'a' },
      vector_type: 'dense',
    });
    await service.create(project, { name: 'old', dimension: 4, spec }, CLASSIC);
    const listed = (await service.list(project, '2026-07')).indexes;
    expect(listed.find((i) => i.name === 'old')).toEqual({
      name: 'old',
      host: 'http://conifer.test:8080/data/11111111-1111-4111-8111-111111111111/old',
      status: { ready: true, state: 'Ready' },
      deployment: { deployment_type: 'managed', cloud: 'aws', region: 'us-east-1' },
      read_capacity: { mode: 'OnDemand', status: { state: 'Ready' } },
      schema: { fields: { _values: { type: 'dense_vector', dimension: 4, metric: 'cosine' } } },
      tags: {},
      deletion_protection: 'disabled',
    });
    // The store receives the schema in the wire shape, so it indexes only the declared filterable fields.
    const sent = [...stores.a!.indexes.values(), ...stores.b!.indexes.values()].find((settings) => settings.dimension === 3);
    expect(sent?.schema?.fields.genre).toEqual({ type: 'string', filterable: true });
    const configured = await service.configure(project, 'both', { deletion_protection: 'enabled', read_capacity: { mode: 'OnDemand' } }, '2026-07');
    expect(configured).toMatchObject({ deletion_protection: 'enabled', schema: { fields: { genre: { type: 'string', filterable: true } } } });
    await expect(service.configure(project, 'both', { read_capacity: { mode: 'Dedicated' } }, '2026-07')).rejects.toThrow(/Dedicated/);
  });

  it('reads either model without a version header and answers in the newest shape plus the classic fields', async () => {
    const unversioned = { version: '2026-07' as const, explicit: false };
    const classic = await service.create(project, { name: 'curl', dimension: 3, spec }, unversioned);
    expect(classic).toMatchObject({
      dimension: 3,
      metric: 'cosine',
      vector_type: 'dense',
      spec: { serverless: { cloud: 'aws', region: 'us-east-1' } },
      deployment: { deployment_type: 'managed', cloud: 'aws', region: 'us-east-1' },
      schema: { fields: { _values: { type: 'dense_vector', dimension: 3, metric: 'cosine' } } },
      read_capacity: { mode: 'OnDemand' },
    });
    const native = await service.create(project, { name: 'curl9', schema: { fields: { _sparse_values: { type: 'sparse_vector' } } } }, unversioned);
    expect(native).toMatchObject({ vector_type: 'sparse', schema: { fields: { _sparse_values: { type: 'sparse_vector' } } } });
    await expect(service.configure(project, 'curl', { read_capacity: { mode: 'Dedicated' } }, unversioned)).rejects.toThrow(/Dedicated/);
    // Named explicitly, 2026-07 is schema-only.
    await expect(service.create(project, { name: 'strict', dimension: 3, spec }, '2026-07')).rejects.toThrow(/not part of API version 2026-07/);
  });

  it('409 on a duplicate name in the project, not across projects', async () => {
    await service.create(project, { name: 'docs', dimension: 3, spec }, CLASSIC);
    await expect(service.create(project, { name: 'docs', dimension: 3, spec }, CLASSIC)).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(service.create(other, { name: 'docs', dimension: 3, spec }, CLASSIC)).resolves.toMatchObject({ name: 'docs' });
  });

  it('400 before anything is stored for a bad request', async () => {
    await expect(service.create(project, { name: 'Bad', dimension: 3, spec }, CLASSIC)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(repository.rows.size).toBe(0);
  });

  it('503 and no catalog row when the node fails to create the index', async () => {
    stores.a!.down = true;
    stores.b!.down = true;
    await expect(service.create(project, { name: 'docs', dimension: 3, spec }, CLASSIC)).rejects.toBeInstanceOf(UnavailableError);
    expect(repository.rows.size).toBe(0);
    expect(nodes.nodes.find((n) => n.id === 'a')!.live).toBe(false);
  });

  it('404 for another project\'s index, exactly like a missing one', async () => {
    await service.create(project, { name: 'docs', dimension: 3, spec }, CLASSIC);
    await expect(service.describe(other, 'docs', CLASSIC)).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.delete(other, 'docs')).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.configure(other, 'docs', { tags: { a: 'b' } }, CLASSIC)).rejects.toBeInstanceOf(NotFoundError);
    expect((await service.list(other, CLASSIC)).indexes).toEqual([]);
  });

  it('index scope: list shows only scoped indexes, describe of others is 404, create outside the scope 403', async () => {
    await service.create(project, { name: 'a', dimension: 3, spec }, CLASSIC);
    await service.create(project, { name: 'b', dimension: 3, spec }, CLASSIC);
    const scoped = { ...project, indexScope: ['a'] };
    expect((await service.list(scoped, CLASSIC)).indexes.map((i) => i.name)).toEqual(['a']);
    await expect(service.describe(scoped, 'b', CLASSIC)).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.create(scoped, { name: 'c', dimension: 3, spec }, CLASSIC)).rejects.toBeInstanceOf(PermissionDeniedError);
  });

  it('configures deletion protection and merges tags', async () => {
    await service.create(project, { name: 'docs', dimension: 3, spec, tags: { a: '1', b: '2' } }, CLASSIC);
    const model = await service.configure(project, 'docs', { deletion_protection: 'enabled', tags: { b: '', c: '3' } }, CLASSIC);
    expect(model.deletion_protection).toBe('enabled');
    expect(model.tags).toEqual({ a: '1', c: '3' });
    await expect(service.delete(project, 'docs')).rejects.toBeInstanceOf(ForbiddenError);
    await service.configure(project, 'docs', { deletion_protection: 'disabled' }, CLASSIC);
    await service.delete(project, 'docs');
    await expect(service.describe(project, 'docs', CLASSIC)).rejects.toBeInstanceOf(NotFoundError);
    expect(stores.a!.indexes.size + stores.b!.indexes.size).toBe(0);
  });

  it('a failed deletion leaves the index Terminating, and a retry finishes it', async () => {
    await service.create(project, { name: 'docs', dimension: 3, spec }, CLASSIC);
    stores.a!.down = true;
    await expect(service.delete(project, 'docs')).rejects.toBeInstanceOf(UnavailableError);
    expect((await service.describe(project, 'docs', CLASSIC)).status).toEqual({ ready: false, state: 'Terminating' });
    stores.a!.down = false;
    await service.delete(project, 'docs');
    await expect(service.describe(project, 'docs', CLASSIC)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('removes every index of a project, deletion protection notwithstanding', async () => {
    await service.create(project, { name: 'a', dimension: 3, spec, deletion_protection: 'enabled' }, CLASSIC);
    await service.create(project, { name: 'b', dimension: 3, spec }, CLASSIC);
    await service.create(other, { name: 'c', dimension: 3, spec }, CLASSIC);
    expect(await service.removeAllIndexes(project.projectId)).toBe(2);
    expect((await service.list(project, CLASSIC)).indexes).toEqual([]);
    expect((await service.list(other, CLASSIC)).indexes).toHaveLength(1);
  });

  it('reconciles interrupted operations: stuck Initializing becomes Ready, stuck Terminating is removed', async () => {
    const base = { projectId: project.projectId, dimension: 3, metric: 'cosine' as const, vectorType: 'dense' as const, deletionProtection: false, tags: {}, spec: { serverless: { cloud: 'aws', region: 'x' } }, schema: { fields: { _values: { type: 'dense_vector' as const, dimension: 3, metric: 'cosine' as const } } }, replicas: [{ nodeId: 'a', state: 'active' as const }] };
    await repository.insert({ ...base, id: 'i-1', name: 'half-created', state: 'Initializing' });
    await repository.insert({ ...base, id: 'i-2', name: 'half-deleted', state: 'Terminating' });
    stores.a!.indexes.set('i-2', { dimension: 3, metric: 'cosine', vectorType: 'dense' });
    expect(await service.reconcile()).toEqual({ ready: 1, removed: 1 });
    expect((await service.describe(project, 'half-created', CLASSIC)).status).toEqual({ ready: true, state: 'Ready' });
    expect(stores.a!.indexes.has('i-1')).toBe(true);
    expect(stores.a!.indexes.has('i-2')).toBe(false);
    await expect(service.describe(project, 'half-deleted', CLASSIC)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('leaves stuck indexes for later while their node is down', async () => {
    const base = { projectId: project.projectId, dimension: 3, metric: 'cosine' as const, vectorType: 'dense' as const, deletionProtection: false, tags: {}, spec: { serverless: { cloud: 'aws', region: 'x' } }, schema: { fields: { _values: { type: 'dense_vector' as const, dimension: 3, metric: 'cosine' as const } } }, replicas: [{ nodeId: 'a', state: 'active' as const }] };
    await repository.insert({ ...base, id: 'i-3', name: 'waiting', state: 'Initializing' });
    stores.a!.down = true;
    expect(await service.reconcile()).toEqual({ ready: 0, removed: 0 });
    expect((await service.describe(project, 'waiting', CLASSIC)).status.state).toBe('Initializing');
  });
});

describe('IndexesService with replicas (CONIFER_INDEX_REPLICAS=2, JetStream nodes)', () => {
  let repository: InMemoryIndexes;
  let stores: Record<string, FakeStore>;
  let nodes: ReturnType<typeof fakeNodes>;
  let service: IndexesService;

  beforeEach(() => {
    repository = new InMemoryIndexes();
    stores = { a: new FakeStore(), b: new FakeStore(), c: new FakeStore() };
    nodes = fakeNodes(repository, stores, 'jetstream');
    const config = loadConfig({ CONIFER_PUBLIC_URL: 'http://conifer.test:8080', CONIFER_INDEX_REPLICAS: '2' });
    const routes = new IndexRoutes(repository, nodes as unknown as VectorStoreNodes);
    service = new IndexesService(config, pino({ level: 'silent' }), repository, nodes as unknown as VectorStoreNodes, routes);
  });

  it('creates the index on two distinct nodes, spreading replicas, and describes it without a replica field', async () => {
    const model = await service.create(project, { name: 'one', dimension: 3, spec }, CLASSIC);
    await service.create(project, { name: 'two', dimension: 3, spec }, CLASSIC);
    const one = [...repository.rows.values()].find((r) => r.name === 'one')!;
    expect(one.replicas.map((r) => r.nodeId)).toEqual(['a', 'b']);
    expect([...repository.rows.values()].find((r) => r.name === 'two')!.replicas.map((r) => r.nodeId)).toEqual(['c', 'a']);
    expect([stores.a!, stores.b!, stores.c!].map((s) => s.indexes.size)).toEqual([2, 1, 1]);
    expect(Object.keys(model).sort()).toEqual(['deletion_protection', 'dimension', 'host', 'metric', 'name', 'spec', 'status', 'tags', 'vector_type']);
  });

  it('deletes every replica and purges the shared log exactly once', async () => {
    await service.create(project, { name: 'one', dimension: 3, spec }, CLASSIC);
    const id = [...repository.rows.keys()][0]!;
    await service.delete(project, 'one');
    expect([...stores.a!.deletes, ...stores.b!.deletes].sort()).toEqual([id, `${id}?purge`]);
    expect(repository.rows.size).toBe(0);
  });

  it('deletes an index whose replica node is down: the live replica purges, the down one is left to repair', async () => {
    await service.create(project, { name: 'one', dimension: 3, spec }, CLASSIC);
    stores.a!.down = true;
    nodes.markDown('a');
    await service.delete(project, 'one');
    expect(stores.b!.deletes).toEqual([`${[...stores.b!.deletes][0]!.split('?')[0]}?purge`]);
    expect(repository.rows.size).toBe(0);
  });

  it('a replica that cannot be created undoes the others and frees the name', async () => {
    stores.b!.down = true;
    await expect(service.create(project, { name: 'one', dimension: 3, spec }, CLASSIC)).rejects.toBeInstanceOf(UnavailableError);
    expect(repository.rows.size).toBe(0);
    expect(stores.a!.indexes.size).toBe(0);
    expect(nodes.nodes.find((n) => n.id === 'b')!.live).toBe(false);
    // b is skipped now: the retry lands on a and c.
    await service.create(project, { name: 'one', dimension: 3, spec }, CLASSIC);
    expect([...repository.rows.values()][0]!.replicas.map((r) => r.nodeId)).toEqual(['a', 'c']);
  });

  it('caps an index at one replica on nodes with a local log', async () => {
    for (const node of nodes.nodes) node.log = 'local';
    await service.create(project, { name: 'one', dimension: 3, spec }, CLASSIC);
    expect([...repository.rows.values()][0]!.replicas).toHaveLength(1);
  });
});
