// Gateway → store over the framed protocol (CONIFER_VECTOR_STORE_PROTOCOL=frames, issue 13), real processes: the
// data plane answers as over HTTP (statuses, Pinecone error bodies, the log-sequence header, a large upsert), the
// gateway really holds framed connections to the store, and a store killed with requests in flight makes them
// fail with the gateway's 503 {"code":14} (as over HTTP) until it is back, then the gateway reconnects by itself.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSystem, type System } from '@conifer/test-utils';

let system: System;
let base: string;
let headers: Record<string, string>;

async function framedConnections(): Promise<number> {
  const metrics = await fetch(`${system.store.url}/metrics`, { headers: { 'x-conifer-internal-token': system.env.CONIFER_INTERNAL_TOKEN! } });
  return Number(/^conifer_store_framed_connections (\d+)$/m.exec(await metrics.text())?.[1] ?? NaN);
}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text), headers: response.headers };
}

beforeAll(async () => {
  system = await startSystem({ env: { CONIFER_VECTOR_STORE_PROTOCOL: 'frames', CONIFER_LOG_LEVEL: 'warn' } });
  const projectId = await system.defaultProjectId();
  const apiKey = (await system.mintKey(projectId, ['ProjectEditor'])).value;
  headers = { 'api-key': apiKey, 'content-type': 'application/json' };
  const created = await fetch(`${system.gatewayUrl}/indexes`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name: 'frames', dimension: 2, metric: 'cosine', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
  });
  expect(created.status).toBe(201);
  const { host } = (await created.json()) as { host: string };
  base = host.startsWith('http') ? host : `http://${host}`;
}, 120_000);
afterAll(async () => {
  await system?.stop();
});

describe('gateway → store over frames', () => {
  it('writes, reads and refuses through framed connections', async () => {
    const upsert = await call('POST', '/vectors/upsert', { vectors: [{ id: 'a', values: [1, 0] }, { id: 'b', values: [0, 1] }] });
    expect(upsert).toMatchObject({ status: 200, body: { upsertedCount: 2 } });
    expect(upsert.headers.get('x-conifer-log-seq')).toMatch(/^\d+$/);
    const query = await call('POST', '/query', { vector: [1, 0.1], topK: 1 });
    expect(query.status).toBe(200);
    expect(query.body.matches.map((m: { id: string }) => m.id)).toEqual(['a']);
    // The store's own errors come back unchanged, in Pinecone's shapes.
    expect(await call('POST', '/query', { vector: [1, 0, 0], topK: 1 })).toMatchObject({ status: 400, body: { code: 3 } });
    expect(await call('POST', '/query', '{"vector": [1,')).toMatchObject({ status: 400, body: { code: 3 } });
    const fetched = await call('GET', '/vectors/fetch?ids=a&ids=nope');
    expect(fetched.status).toBe(200);
    expect(Object.keys(fetched.body.vectors)).toEqual(['a']);
    expect(await framedConnections()).toBeGreaterThanOrEqual(1);
  });

  it('carries a large upsert and a large answer', async () => {
    const vectors = Array.from({ length: 1000 }, (_, i) => ({ id: `big-${i}`, values: [1, i / 1000], metadata: { text: 'lorem ipsum dolor sit amet '.repeat(50) } }));
    const upsert = await call('POST', '/vectors/upsert', { vectors, namespace: 'big' });
    expect(upsert).toMatchObject({ status: 200, body: { upsertedCount: 1000 } });
    // An answer larger than what the store client reads whole (64 KB): streamed through.
    const query = await call('POST', '/query', { vector: [1, 0.5], topK: 200, namespace: 'big', includeMetadata: true });
    expect(query.status).toBe(200);
    expect(query.body.matches).toHaveLength(200);
  }, 60_000);

  it('fails requests in flight with 503 when the store dies, and reconnects once it is back', async () => {
    // Slow enough to be in flight when the store is killed: many concurrent filtered scans.
    const inFlight = Array.from({ length: 40 }, () => call('POST', '/query', { vector: [1, 0.5], topK: 100, namespace: 'big', includeMetadata: true, filter: { text: { $ne: 'x' } } }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await system.killStore();
    const answers = await Promise.all(inFlight);
    for (const answer of answers) {
      if (answer.status !== 200) expect(answer).toMatchObject({ status: 503, body: { code: 14 } });
    }
    // Some were still in flight when the store died (the scans take far longer than the 5 ms before the kill).
    expect(answers.filter((answer) => answer.status === 503).length).toBeGreaterThan(0);
    expect(await call('POST', '/query', { vector: [1, 0], topK: 1 })).toMatchObject({ status: 503, body: { code: 14 } });
    await system.startStore();
    let query = await call('POST', '/query', { vector: [1, 0], topK: 1 });
    for (let i = 0; i < 50 && query.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      query = await call('POST', '/query', { vector: [1, 0], topK: 1 });
    }
    expect(query.status).toBe(200);
    expect(query.body.matches.map((m: { id: string }) => m.id)).toEqual(['a']);
    expect(await framedConnections()).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
