// Per-key usage on two real gateway replicas sharing one Postgres (fake vector-store node): each replica counts
// data-plane requests in memory and adds them in batches, so the admin API's hourly figures are the sum over
// replicas, survive a replica's shutdown (flushed on close), and never cost a database write per request.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { UsageRecorder } from '../../src/usage/usage.recorder.js';
import { FakeVectorStore } from '../support/fake-vector-store.js';
import { call, createTenant, expectErrorShape, login, startGateway, testRuntime, type Tenant } from './admin-fixtures.js';

const INTERNAL = 'test-internal-'.padEnd(40, 'i');
const spec = { serverless: { cloud: 'aws', region: 'us-east-1' } };

describe('per-key usage', () => {
  let store: FakeVectorStore;
  let runtime: ReturnType<typeof testRuntime>;
  let first: NestFastifyApplication;
  let second: NestFastifyApplication;
  let tenant: Tenant;
  let token: string;
  let projectId: string;
  let keyId: string;
  let keyValue: string;
  let otherKeyId: string;

  const data = (app: NestFastifyApplication, path: string, body?: unknown, key = keyValue) =>
    call(app, body === undefined ? 'GET' : 'POST', `/data/${projectId}/movies${path}`, { body, headers: { 'api-key': key } });

  beforeAll(async () => {
    store = await new FakeVectorStore(INTERNAL).start();
    // A long flush interval: the test flushes by hand, so nothing is written behind its back.
    runtime = testRuntime({ CONIFER_VECTOR_STORE_URLS: store.url, CONIFER_LAST_USED_FLUSH_MS: '600000' });
    first = await startGateway(runtime);
    second = await startGateway(runtime);
    tenant = await createTenant(first, runtime, 'usage');
    token = await login(first, tenant);
    const project = await call(first, 'POST', '/admin/projects', { token, body: { name: 'usage' } });
    projectId = project.body.id;
    const minted = await call(first, 'POST', `/admin/projects/${projectId}/api-keys`, { token, body: { name: 'app', roles: ['ProjectEditor'] } });
    keyId = minted.body.key.id;
    keyValue = minted.body.value;
    const other = await call(first, 'POST', `/admin/projects/${projectId}/api-keys`, { token, body: { name: 'other' } });
    otherKeyId = other.body.key.id;
    const created = await call(first, 'POST', '/indexes', { body: { name: 'movies', dimension: 2, spec }, headers: { 'api-key': keyValue } });
    expect(created.status).toBe(201);
  });

  afterAll(async () => {
    await first?.close();
    await second?.close();
    await store?.stop();
  });

  it('counts reads, writes and errors per key across replicas, in batches', async () => {
    const before = store.allDataRequests().length;
    expect((await data(first, '/vectors/upsert', { vectors: [{ id: 'a', values: [0.1, 0.2] }] })).status).toBe(200);
    expect((await data(second, '/vectors/upsert', { vectors: [{ id: 'b', values: [0.2, 0.1] }] })).status).toBe(200);
    for (const app of [first, second, second]) expect((await data(app, '/query', { vector: [0.1, 0.2], topK: 1 })).status).toBe(200);
    // Errors: the store refuses a wrong dimension (400), and an index that does not exist (404 from the gateway).
    expect((await data(first, '/vectors/upsert', { vectors: [{ id: 'c', values: [1, 2, 3] }] })).status).toBe(400);
    const missing = await call(second, 'POST', `/data/${projectId}/nothing/query`, { body: { vector: [1, 0], topK: 1 }, headers: { 'api-key': keyValue } });
    expect(missing.status).toBe(404);
    expect(store.allDataRequests().length).toBeGreaterThan(before);

    // Nothing is written until a flush.
    const early = await call(first, 'GET', `/admin/api-keys/${keyId}/usage`, { token });
    expect(early.status).toBe(200);
    expect(early.body.total).toEqual({ reads: 0, writes: 0, errors: 0 });
    expect(first.get(UsageRecorder).pendingCount).toBe(1);

    await Promise.all([first.get(UsageRecorder).flush(), second.get(UsageRecorder).flush()]);
    const usage = await call(second, 'GET', `/admin/api-keys/${keyId}/usage`, { token });
    expect(usage.status).toBe(200);
    expect(usage.body.total).toEqual({ reads: 3, writes: 2, errors: 2 });
    expect(usage.body.api_key_id).toBe(keyId);
    expect(usage.body.project_id).toBe(projectId);
    // 24 zero-filled hours by default; the current hour holds the counts.
    expect(usage.body.data).toHaveLength(24);
    expect(usage.body.data.at(-1)).toMatchObject({ reads: 3, writes: 2, errors: 2 });
    expect(new Date(usage.body.data.at(-1).hour).getTime()).toBe(Math.floor(Date.now() / 3_600_000) * 3_600_000);

    const rollUp = await call(first, 'GET', `/admin/projects/${projectId}/usage`, { token });
    expect(rollUp.status).toBe(200);
    expect(rollUp.body.total).toEqual({ reads: 3, writes: 2, errors: 2 });
    expect(rollUp.body.keys).toEqual([{ api_key_id: keyId, reads: 3, writes: 2, errors: 2 }]);
  });

  it('adds a second batch to the first, and flushes what is pending when a replica shuts down', async () => {
    expect((await data(second, '/query', { vector: [0.1, 0.2], topK: 1 })).status).toBe(200);
    await second.close();
    second = await startGateway(runtime);
    expect((await data(second, '/query', { vector: [0.1, 0.2], topK: 1 })).status).toBe(200);
    await second.get(UsageRecorder).flush();
    const usage = await call(first, 'GET', `/admin/api-keys/${keyId}/usage`, { token });
    expect(usage.body.total).toEqual({ reads: 5, writes: 2, errors: 2 });
  });

  it('answers hourly buckets for a chosen range, and 400 for a bad one', async () => {
    const now = Date.now();
    const hour = Math.floor(now / 3_600_000) * 3_600_000;
    const from = new Date(hour - 2 * 3_600_000).toISOString();
    const to = new Date(now).toISOString();
    const usage = await call(first, 'GET', `/admin/api-keys/${keyId}/usage?from=${from}&to=${to}`, { token });
    expect(usage.status).toBe(200);
    expect(usage.body.data.map((b: { hour: string }) => b.hour)).toEqual([0, 1, 2].map((i) => new Date(hour - (2 - i) * 3_600_000).toISOString()));
    expect(usage.body.from).toBe(from);
    const unix = await call(first, 'GET', `/admin/api-keys/${keyId}/usage?from=${Math.floor(hour / 1000)}`, { token });
    expect(unix.body.data).toHaveLength(1);
    expectErrorShape(await call(first, 'GET', `/admin/api-keys/${keyId}/usage?from=yesterday`, { token }), 400, 'INVALID_ARGUMENT');
    expectErrorShape(await call(first, 'GET', `/admin/api-keys/${keyId}/usage?from=${to}&to=${from}`, { token }), 400, 'INVALID_ARGUMENT');
    expectErrorShape(await call(first, 'GET', `/admin/api-keys/${keyId}/usage?from=2020-01-01T00:00:00Z`, { token }), 400, 'INVALID_ARGUMENT');
    expectErrorShape(await call(first, 'GET', `/admin/api-keys/${keyId}/usage?from=a&from=b`, { token }), 400, 'INVALID_ARGUMENT');
  });

  it('shows zeros for an unused key and 404 for unknown ids or another organization\'s', async () => {
    const unused = await call(first, 'GET', `/admin/api-keys/${otherKeyId}/usage`, { token });
    expect(unused.body.total).toEqual({ reads: 0, writes: 0, errors: 0 });
    expectErrorShape(await call(first, 'GET', '/admin/api-keys/not-a-uuid/usage', { token }), 404, 'NOT_FOUND');
    expectErrorShape(await call(first, 'GET', `/admin/api-keys/${crypto.randomUUID()}/usage`, { token }), 404, 'NOT_FOUND');
    const stranger = await createTenant(first, runtime, 'stranger');
    const strangerToken = await login(first, stranger);
    expectErrorShape(await call(first, 'GET', `/admin/api-keys/${keyId}/usage`, { token: strangerToken }), 404, 'NOT_FOUND');
    expectErrorShape(await call(first, 'GET', `/admin/projects/${projectId}/usage`, { token: strangerToken }), 404, 'NOT_FOUND');
    expect((await call(first, 'GET', `/admin/api-keys/${keyId}/usage`)).status).toBe(401);
  });

  it('keeps a failed flush\'s counts for the next one', async () => {
    const recorder = first.get(UsageRecorder);
    recorder.record({ apiKeyId: keyId, projectId }, 'write', 'ok');
    const repository = (recorder as unknown as { repository: { add: (d: unknown) => Promise<void> } }).repository;
    const add = repository.add.bind(repository);
    repository.add = async () => {
      throw new Error('connection lost');
    };
    await recorder.flush();
    expect(recorder.pendingCount).toBe(1);
    repository.add = add;
    await recorder.flush();
    expect(recorder.pendingCount).toBe(0);
    const usage = await call(first, 'GET', `/admin/api-keys/${keyId}/usage`, { token });
    expect(usage.body.total).toEqual({ reads: 5, writes: 3, errors: 2 });
  });
});
