// Replicated indexes on the JetStream log (issue 17), against real NATS: the shared server at
// 127.0.0.1:4222 (CONIFER_TEST_NATS_URL to point elsewhere) with names unique to this run, and a
// nats-server child of this test where NATS itself must die and come back. Store nodes run in-process
// (each with its own NATS connection, data directory and HTTP port) or, for SIGKILL, as child processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { freePort } from '@conifer/test-utils';
import { parseUpsertRequest } from '@conifer/contracts';
import { pino } from 'pino';
import { buildServer } from '../../src/api/server.js';
import { IndexRegistry } from '../../src/storage/index-registry.js';
import { JetStreamHub } from '../../src/storage/log/jetstream.js';

const NATS_URL = process.env.CONIFER_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const NATS_SERVER = process.env.CONIFER_TEST_NATS_SERVER ?? '/usr/sbin/nats-server';
const TOKEN = 'replication-test-token-0123456789abcdef';
const PREFIX = `T${process.pid}x${Date.now().toString(36)}`;
const DIM = 8;
const appDir = path.resolve(import.meta.dirname, '../..');
const mainJs = path.join(appDir, 'dist/main.js');
const headers = { 'x-conifer-internal-token': TOKEN, 'content-type': 'application/json' };
const settings = { dimension: DIM, metric: 'euclidean', vectorType: 'dense' };


function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const vector = (n: number): number[] => Array.from({ length: DIM }, (_, d) => Math.fround(((n * 31 + d * 7) % 1000) / 997));

interface Node {
  url: string;
  dataDir: string;
  hub: JetStreamHub;
  registry: IndexRegistry;
  close(): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];

async function startNode(natsUrl = NATS_URL, dataDir = mkdtempSync(path.join(tmpdir(), 'conifer-repl-')), streamReplicas = 1): Promise<Node> {
  const logger = pino({ level: process.env.CONIFER_TEST_LOG_LEVEL ?? 'silent' });
  const hub = await JetStreamHub.connect({ servers: natsUrl, prefix: PREFIX, publishTimeoutMs: 2000, applyTimeoutMs: 5000, streamReplicas }, logger);
  const registry = await IndexRegistry.open(dataDir, logger, { hub, annWorker: false });
  const app = buildServer({ registry, internalToken: TOKEN, maxBodyBytes: 4 * 1024 * 1024, logger, readWaitMs: 500, nodeId: `node-${dataDir.slice(-6)}` });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  let closed = false;
  const node: Node = {
    url,
    dataDir,
    hub,
    registry,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await registry.close();
      await hub.close();
    },
  };
  cleanups.push(async () => {
    await node.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return node;
}

async function call(base: string, method: string, url: string, body?: unknown, extra: Record<string, string> = {}) {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { ...headers, ...extra },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : (JSON.parse(text) as any) };
}

async function upsert(base: string, index: string, from: number, count: number) {
  const vectors = Array.from({ length: count }, (_, k) => ({ id: `v${from + k}`, values: vector(from + k) }));
  return call(base, 'POST', `/internal/indexes/${index}/vectors/upsert`, { vectors });
}

async function fetchIds(base: string, index: string, ids: string[], minSeq: number) {
  const out = new Map<string, number[]>();
  for (let i = 0; i < ids.length; i += 500) {
    const query = ids.slice(i, i + 500).map((id) => `ids=${id}`).join('&');
    const res = await call(base, 'GET', `/internal/indexes/${index}/vectors/fetch?${query}`, undefined, { 'x-conifer-min-seq': String(minSeq) });
    if (res.status !== 200) throw new Error(`fetch answered ${res.status}: ${JSON.stringify(res.body)}`);
    for (const [id, v] of Object.entries(res.body.vectors as Record<string, { values: number[] }>)) out.set(id, v.values);
  }
  return out;
}

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
}, 60_000);

describe('replicated indexes on JetStream', () => {
  it('a write acknowledged by one node is readable on another with X-Conifer-Min-Seq; a node far behind answers 503', async () => {
    const a = await startNode();
    const b = await startNode();
    const index = 'rw';
    expect((await call(a.url, 'PUT', `/internal/indexes/${index}`, settings)).status).toBe(201);
    expect((await call(b.url, 'PUT', `/internal/indexes/${index}`, settings)).status).toBe(201);
    const written = await upsert(a.url, index, 0, 50);
    expect(written.status).toBe(200);
    const seq = Number(written.headers.get('x-conifer-log-seq'));
    expect(seq).toBeGreaterThan(0);

    const read = await call(b.url, 'GET', `/internal/indexes/${index}/vectors/fetch?ids=v0&ids=v49`, undefined, { 'x-conifer-min-seq': String(seq) });
    expect(read.status).toBe(200);
    expect(Object.keys(read.body.vectors).sort()).toEqual(['v0', 'v49']);
    expect(Number(read.headers.get('x-conifer-applied-seq'))).toBeGreaterThanOrEqual(seq);

    // A delete through B, read on A: the same order everywhere.
    const deleted = await call(b.url, 'POST', `/internal/indexes/${index}/vectors/delete`, { ids: ['v0'] });
    expect(deleted.status).toBe(200);
    const after = Number(deleted.headers.get('x-conifer-log-seq'));
    expect(after).toBeGreaterThan(seq);
    const stats = await call(a.url, 'POST', `/internal/indexes/${index}/describe_index_stats`, {}, { 'x-conifer-min-seq': String(after) });
    expect(stats.body.totalVectorCount).toBe(49);

    const behind = await call(b.url, 'POST', `/internal/indexes/${index}/query`, { topK: 1, vector: vector(1) }, { 'x-conifer-min-seq': String(after + 1000) });
    expect(behind.status).toBe(503);
    expect(behind.body).toEqual({ code: 14, message: expect.stringContaining('behind'), details: [] });
    expect((await call(b.url, 'GET', `/internal/indexes/${index}/vectors/fetch?ids=v1`, undefined, { 'x-conifer-min-seq': 'x' })).status).toBe(400);

    const status = await call(a.url, 'GET', '/internal/indexes');
    expect(status.body).toMatchObject({ log: 'jetstream', indexes: [{ id: index, appliedSeq: after, state: 'ready' }] });
    expect((await fetch(`${a.url}/readyz`)).status).toBe(200);
    await call(a.url, 'DELETE', `/internal/indexes/${index}?purge=true`);
    await call(b.url, 'DELETE', `/internal/indexes/${index}`);
    await expect(a.hub.jsm.streams.info(a.hub.streamName(index))).rejects.toThrow();
  });

  it('with the local WAL, writes carry a per-process sequence and any X-Conifer-Min-Seq is met (one node holds the index)', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'conifer-local-'));
    const logger = pino({ level: 'silent' });
    const registry = await IndexRegistry.open(dataDir, logger, { annWorker: false });
    const app = buildServer({ registry, internalToken: TOKEN, maxBodyBytes: 4 * 1024 * 1024, logger, readWaitMs: 100 });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(async () => {
      await app.close();
      await registry.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    expect((await call(url, 'PUT', '/internal/indexes/local', settings)).status).toBe(201);
    const first = await upsert(url, 'local', 0, 3);
    const second = await call(url, 'POST', '/internal/indexes/local/vectors/delete', { ids: ['v0'] });
    expect([first.headers.get('x-conifer-log-seq'), second.headers.get('x-conifer-log-seq')]).toEqual(['1', '2']);
    const read = await call(url, 'GET', '/internal/indexes/local/vectors/fetch?ids=v1', undefined, { 'x-conifer-min-seq': '999' });
    expect(read.status).toBe(200);
    expect(read.headers.get('x-conifer-applied-seq')).toBe('2');
    expect((await call(url, 'GET', '/internal/indexes')).body).toMatchObject({ log: 'local', indexes: [{ id: 'local', appliedSeq: 2, state: 'ready' }] });
  });

  it('an upsert larger than one NATS message is logged as several entries, applied in order on every replica', async () => {
    const a = await startNode();
    const b = await startNode();
    const index = 'big';
    const wide = { dimension: 768, metric: 'euclidean', vectorType: 'dense' };
    for (const n of [a, b]) expect((await call(n.url, 'PUT', `/internal/indexes/${index}`, wide)).status).toBe(201);
    const durable = a.registry.get(index);
    // 600 × 768 float32 ≈ 1.8 MB encoded: over the 1 MB default message limit; the last copy of v0 must win.
    const records = Array.from({ length: 600 }, (_, n) => ({ id: n === 599 ? 'v0' : `v${n}`, values: Array.from({ length: 768 }, (_, d) => ((n + d) % 7) + 1) }));
    const { seq } = await durable.write(durable.index.prepareUpsert(parseUpsertRequest({ vectors: records })));
    expect(seq).toBeGreaterThan(1);
    const stats = await call(b.url, 'POST', `/internal/indexes/${index}/describe_index_stats`, {}, { 'x-conifer-min-seq': String(seq) });
    expect(stats.body.totalVectorCount).toBe(599);
    const v0 = await fetchIds(b.url, index, ['v0'], seq);
    expect(v0.get('v0')!.slice(0, 3)).toEqual([(599 % 7) + 1, ((599 + 1) % 7) + 1, ((599 + 2) % 7) + 1]);
    await call(a.url, 'DELETE', `/internal/indexes/${index}?purge=true`);
  });

  it('a node with an empty data directory starts from the newest snapshot and the log after it, and the log is trimmed', async () => {
    const a = await startNode();
    const index = 'snap';
    expect((await call(a.url, 'PUT', `/internal/indexes/${index}`, settings)).status).toBe(201);
    for (let i = 0; i < 4; i++) expect((await upsert(a.url, index, i * 100, 100)).status).toBe(200);
    const snap = await call(a.url, 'POST', `/internal/indexes/${index}/snapshot`);
    expect(snap.status).toBe(200);
    const position = snap.body.position as number;
    expect(position).toBe(4);
    await call(a.url, 'POST', `/internal/indexes/${index}/vectors/delete`, { ids: ['v5'] });
    const last = await upsert(a.url, index, 400, 100);
    const lastSeq = Number(last.headers.get('x-conifer-log-seq'));
    // Snapshots kept: 2 by default; with one, the stream is purged below it.
    const stream = await a.hub.ensureStream(index);
    expect(stream.firstSeq).toBe(position + 1);
    expect(stream.lastSeq).toBe(lastSeq);

    const c = await startNode();
    const created = await call(c.url, 'PUT', `/internal/indexes/${index}`, settings);
    expect(created.status).toBe(201);
    const ids = Array.from({ length: 500 }, (_, n) => `v${n}`);
    const got = await fetchIds(c.url, index, ids, lastSeq);
    expect(got.size).toBe(499);
    expect(got.has('v5')).toBe(false);
    expect(got.get('v450')!.map(Math.fround)).toEqual(vector(450));
    const status = await call(c.url, 'GET', '/internal/indexes');
    expect(status.body.indexes[0]).toMatchObject({ id: index, appliedSeq: lastSeq, state: 'ready' });

    // Restart C on its own data directory: without a local snapshot the stream brings it back.
    await c.close();
    const c2 = await startNode(NATS_URL, c.dataDir);
    expect((await fetchIds(c2.url, index, ids, lastSeq)).size).toBe(499);
    // With one (taken by C at lastSeq, uploaded as the newest), it consumes only what follows.
    expect((await call(c2.url, 'POST', `/internal/indexes/${index}/snapshot`)).body).toEqual({ indexId: index, position: lastSeq });
    const more = await upsert(a.url, index, 500, 10);
    const moreSeq = Number(more.headers.get('x-conifer-log-seq'));
    await c2.close();
    const c3 = await startNode(NATS_URL, c.dataDir);
    expect(c3.registry.get(index).loadedPosition).toBe(lastSeq);
    const all = await fetchIds(c3.url, index, [...ids, ...Array.from({ length: 10 }, (_, n) => `v${500 + n}`)], moreSeq);
    expect(all.size).toBe(509);
    expect((await a.hub.snapshots(index)).map((s) => s.position)).toEqual([lastSeq, position]);
    await call(a.url, 'DELETE', `/internal/indexes/${index}?purge=true`);
    expect(await a.hub.snapshots(index)).toEqual([]);
  });

  it('a node that comes back after the log was trimmed past its position starts again from the newest snapshot', async () => {
    const a = await startNode();
    const b = await startNode();
    const index = 'trimmed';
    for (const n of [a, b]) expect((await call(n.url, 'PUT', `/internal/indexes/${index}`, settings)).status).toBe(201);
    const first = await upsert(a.url, index, 0, 30);
    const firstSeq = Number(first.headers.get('x-conifer-log-seq'));
    expect((await fetchIds(b.url, index, ['v0'], firstSeq)).size).toBe(1);
    await b.close();
    // While B is away: more writes and two snapshots; the stream is purged below the older one.
    await upsert(a.url, index, 100, 30);
    expect((await call(a.url, 'POST', `/internal/indexes/${index}/snapshot`)).status).toBe(200);
    await call(a.url, 'POST', `/internal/indexes/${index}/vectors/delete`, { ids: ['v0'] });
    expect((await call(a.url, 'POST', `/internal/indexes/${index}/snapshot`)).status).toBe(200);
    const last = await upsert(a.url, index, 200, 30);
    const lastSeq = Number(last.headers.get('x-conifer-log-seq'));
    const snapshots = await a.hub.snapshots(index);
    expect(snapshots.map((s) => s.position)).toEqual([lastSeq - 1, lastSeq - 2]);
    expect((await a.hub.ensureStream(index)).firstSeq).toBe(lastSeq - 1);

    const b2 = await startNode(NATS_URL, b.dataDir);
    const ids = [...Array.from({ length: 30 }, (_, n) => `v${n}`), ...Array.from({ length: 30 }, (_, n) => `v${100 + n}`), ...Array.from({ length: 30 }, (_, n) => `v${200 + n}`)];
    const got = await fetchIds(b2.url, index, ids, lastSeq);
    expect(got.size).toBe(89);
    expect(got.has('v0')).toBe(false);
    await call(a.url, 'DELETE', `/internal/indexes/${index}?purge=true`);
  });

  it('a running replica cut off from NATS while the log is trimmed past it restarts itself from the newest snapshot', async () => {
    // B reaches NATS through a proxy this test can cut.
    const [host, natsPort] = new URL(NATS_URL.split(',')[0]!).host.split(':');
    const sockets = new Set<Socket>();
    let open = true;
    const proxy = createServer((client) => {
      if (!open) return void client.destroy();
      const upstream = netConnect(Number(natsPort ?? 4222), host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    });
    const a = await startNode();
    const b = await startNode(`nats://127.0.0.1:${(proxy.address() as { port: number }).port}`);
    const index = 'cutoff';
    for (const n of [a, b]) expect((await call(n.url, 'PUT', `/internal/indexes/${index}`, settings)).status).toBe(201);
    const first = await upsert(a.url, index, 0, 20);
    expect((await fetchIds(b.url, index, ['v0'], Number(first.headers.get('x-conifer-log-seq')))).size).toBe(1);

    open = false;
    for (const s of sockets) s.destroy();
    await call(a.url, 'POST', `/internal/indexes/${index}/vectors/delete`, { ids: ['v0'] });
    await upsert(a.url, index, 100, 20);
    expect((await call(a.url, 'POST', `/internal/indexes/${index}/snapshot`)).status).toBe(200);
    await upsert(a.url, index, 200, 20);
    expect((await call(a.url, 'POST', `/internal/indexes/${index}/snapshot`)).status).toBe(200);
    const last = await upsert(a.url, index, 300, 20);
    const lastSeq = Number(last.headers.get('x-conifer-log-seq'));
    expect((await a.hub.ensureStream(index)).firstSeq).toBeGreaterThan(2);
    expect(b.registry.get(index).log.appliedSeq).toBe(1);

    open = true;
    const until = Date.now() + 30_000;
    while (Date.now() < until && (!b.registry.has(index) || b.registry.get(index).log.appliedSeq < lastSeq)) await new Promise((r) => setTimeout(r, 200));
    const ids = [0, 100, 200, 300].flatMap((base) => Array.from({ length: 20 }, (_, n) => `v${base + n}`));
    const got = await fetchIds(b.url, index, ids, lastSeq);
    expect(got.size).toBe(79);
    expect(got.has('v0')).toBe(false);
    await call(a.url, 'DELETE', `/internal/indexes/${index}?purge=true`);
  }, 60_000);

  it('NATS down: writes get 503 in Pinecone\'s shape, then succeed once it is back; nothing acknowledged is lost', async () => {
    if (!existsSync(NATS_SERVER)) throw new Error(`${NATS_SERVER} is missing`);
    const port = await freePort();
    const storeDir = mkdtempSync(path.join(tmpdir(), 'conifer-nats-'));
    let nats: ChildProcess | undefined;
    const startNats = async () => {
      nats = spawn(NATS_SERVER, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], { stdio: 'ignore' });
      for (let i = 0; i < 100; i++) {
        if (await portOpen(port)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('nats-server did not start');
    };
    cleanups.push(async () => {
      nats?.kill('SIGKILL');
      rmSync(storeDir, { recursive: true, force: true });
    });
    await startNats();
    const a = await startNode(`nats://127.0.0.1:${port}`);
    const index = 'outage';
    expect((await call(a.url, 'PUT', `/internal/indexes/${index}`, settings)).status).toBe(201);
    const acknowledged: string[] = [];
    const first = await upsert(a.url, index, 0, 20);
    expect(first.status).toBe(200);
    for (let n = 0; n < 20; n++) acknowledged.push(`v${n}`);

    nats!.kill('SIGKILL');
    await new Promise((r) => nats!.once('exit', r));
    const refused = await upsert(a.url, index, 100, 5);
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({ code: 14, message: expect.any(String), details: [] });
    expect((await fetch(`${a.url}/readyz`)).status).toBe(503);

    await startNats();
    let next = 200;
    const deadline = Date.now() + 20_000;
    let ok = false;
    while (Date.now() < deadline) {
      const res = await upsert(a.url, index, next, 5);
      if (res.status === 200) {
        for (let n = next; n < next + 5; n++) acknowledged.push(`v${n}`);
        ok = true;
        break;
      }
      expect(res.status).toBe(503);
      next += 5;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(ok).toBe(true);
    const got = await fetchIds(a.url, index, acknowledged, 0);
    expect([...got.keys()].sort()).toEqual([...acknowledged].sort());
    expect((await fetch(`${a.url}/readyz`)).status).toBe(200);
  }, 60_000);

  it('SIGKILL of a store process mid-ingest loses no acknowledged write', async () => {
    if (!existsSync(mainJs)) throw new Error(`${mainJs} is missing: build first (npx turbo run build --filter=@conifer/vector-store...)`);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const dataDir = mkdtempSync(path.join(tmpdir(), 'conifer-repl-kill-'));
    const child = spawn(process.execPath, [mainJs], {
      cwd: appDir,
      env: {
        PATH: process.env.PATH,
        CONIFER_DATA_DIR: dataDir,
        CONIFER_INTERNAL_TOKEN: TOKEN,
        CONIFER_VECTOR_STORE_PORT: String(port),
        CONIFER_LOG_LEVEL: 'warn',
        CONIFER_NATS_URL: NATS_URL,
        CONIFER_NATS_PREFIX: PREFIX,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    });
    for (let i = 0; ; i++) {
      if (i > 200) throw new Error('store did not become ready');
      const ready = await fetch(`${base}/readyz`).then((r) => r.ok).catch(() => false);
      if (ready) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const index = 'killed';
    expect((await call(base, 'PUT', `/internal/indexes/${index}`, settings)).status).toBe(201);
    const b = await startNode();
    expect((await call(b.url, 'PUT', `/internal/indexes/${index}`, settings)).status).toBe(201);

    const acknowledged: string[] = [];
    let highest = 0;
    let stop = false;
    const writer = async (w: number) => {
      for (let batch = 0; !stop; batch++) {
        const from = w * 1_000_000 + batch * 10;
        const res = await upsert(base, index, from, 10).catch(() => undefined);
        if (res === undefined) return; // the process is gone
        if (res.status === 200) {
          for (let n = from; n < from + 10; n++) acknowledged.push(`v${n}`);
          highest = Math.max(highest, Number(res.headers.get('x-conifer-log-seq')));
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    while (acknowledged.length < 300) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    const got = await fetchIds(b.url, index, acknowledged, highest);
    expect(got.size).toBe(acknowledged.length);
    await call(b.url, 'DELETE', `/internal/indexes/${index}?purge=true`);
  }, 60_000);

  it('on a 3-node NATS cluster with streams of 3 replicas, a NATS server killed mid-ingest loses no acknowledged write', async () => {
    if (!existsSync(NATS_SERVER)) throw new Error(`${NATS_SERVER} is missing`);
    const clientPorts = [await freePort(), await freePort(), await freePort()];
    const routePorts = [await freePort(), await freePort(), await freePort()];
    const dirs = clientPorts.map(() => mkdtempSync(path.join(tmpdir(), 'conifer-natsc-')));
    const servers: ChildProcess[] = clientPorts.map((port, k) =>
      spawn(
        NATS_SERVER,
        [
          '-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dirs[k]!, '-n', `n${k}-${PREFIX}`,
          '--cluster_name', `c-${PREFIX}`, '--cluster', `nats://127.0.0.1:${routePorts[k]}`,
          '--routes', routePorts.filter((_, j) => j !== k).map((p) => `nats://127.0.0.1:${p}`).join(','),
        ],
        { stdio: 'ignore' },
      ),
    );
    cleanups.push(async () => {
      for (const s of servers) s.kill('SIGKILL');
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });
    const urls = clientPorts.map((p) => `nats://127.0.0.1:${p}`);
    // JetStream on a new cluster answers once its meta leader is elected: retry the first PUT until then.
    const a = await startNode(urls.join(','), undefined, 3);
    const b = await startNode([urls[1], urls[2]].join(','), undefined, 3);
    const index = 'clustered';
    for (const n of [a, b]) {
      for (let i = 0; ; i++) {
        const res = await call(n.url, 'PUT', `/internal/indexes/${index}`, settings);
        if (res.status === 201) break;
        if (i > 60) throw new Error(`PUT answered ${res.status}: ${JSON.stringify(res.body)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const info = await a.hub.jsm.streams.info(a.hub.streamName(index));
    expect(info.config.num_replicas).toBe(3);

    const acknowledged: string[] = [];
    let highest = 0;
    let refused = 0;
    let batch = 0;
    let firstRefusal = 0;
    let lastRefusal = 0;
    let lastRefusalMessage = '';
    let lastAck = 0;
    let worstGap = 0;
    const write = async () => {
      const from = batch++ * 10;
      const res = await upsert(a.url, index, from, 10);
      if (res.status === 200) {
        for (let n = from; n < from + 10; n++) acknowledged.push(`v${n}`);
        highest = Math.max(highest, Number(res.headers.get('x-conifer-log-seq')));
        if (lastAck > 0) worstGap = Math.max(worstGap, Date.now() - lastAck);
        lastAck = Date.now();
      } else {
        expect(res.status).toBe(503);
        expect(res.body.code).toBe(14);
        refused++;
        firstRefusal ||= Date.now();
        lastRefusal = Date.now();
        lastRefusalMessage = String(res.body.message);
      }
    };
    for (let i = 0; i < 10; i++) await write();
    // Kill the server node A is connected to: A must fail over to another one.
    const aServer = a.hub.nc.getServer();
    const victim = clientPorts.findIndex((p) => aServer.endsWith(`:${p}`));
    expect(victim).toBeGreaterThanOrEqual(0);
    servers[victim]!.kill('SIGKILL');
    // Until 30 writes are acknowledged after the kill (the stream may need a new leader first).
    const until = Date.now() + 45_000;
    while (acknowledged.length < 400 && Date.now() < until) await write();
    if (acknowledged.length < 400) throw new Error(`writes still refused after the kill: ${lastRefusalMessage} (connected: ${a.hub.connected}, server ${a.hub.nc.getServer()})`);
    // B's consumer may have lived on the killed server: it is recreated and catches up.
    const bLog = b.registry.get(index).log;
    expect(await bLog.waitApplied(highest, 20_000)).toBe(true);
    const got = await fetchIds(b.url, index, acknowledged, highest);
    expect(got.size).toBe(acknowledged.length);
    process.stderr.write(`3-node NATS cluster: ${acknowledged.length / 10} writes acknowledged, ${refused} refused (503) over ${lastRefusal - firstRefusal} ms around the kill; longest time between two acknowledged writes ${worstGap} ms\n`);
    await call(b.url, 'DELETE', `/internal/indexes/${index}?purge=true`);
  }, 90_000);
});

afterAll(async () => {
  // Whatever a failed test left behind in the shared NATS: this run's streams and bucket.
  const hub = await JetStreamHub.connect({ servers: NATS_URL, prefix: PREFIX }, pino({ level: 'silent' }));
  try {
    for await (const name of hub.jsm.streams.names()) {
      if (name.startsWith(`${PREFIX}_`) || name === `OBJ_${hub.bucketName()}`) await hub.jsm.streams.delete(name);
    }
  } finally {
    await hub.close();
  }
}, 30_000);

