// Starts the built server (node dist/main.js), ingests from concurrent writers, kills it with SIGKILL in
// the middle of the ingest, restarts it and checks that every acknowledged vector is there, unchanged.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { freePort } from '@conifer/test-utils';

const appDir = path.resolve(import.meta.dirname, '../..');
const mainJs = path.join(appDir, 'dist/main.js');
const TOKEN = 'crash-test-token-0123456789abcdef0123';
const DIM = 32;


function start(dataDir: string, port: number, extraEnv: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [mainJs], {
    cwd: appDir,
    env: {
      ...extraEnv,
      PATH: process.env.PATH,
      CONIFER_DATA_DIR: dataDir,
      CONIFER_INTERNAL_TOKEN: TOKEN,
      CONIFER_VECTOR_STORE_PORT: String(port),
      CONIFER_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function waitHealthy(base: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('server did not become ready');
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

const headers = { 'x-conifer-internal-token': TOKEN, 'content-type': 'application/json' };
const valueOf = (n: number, d: number): number => Math.fround(((n * 31 + d * 7) % 1000) / 997 - 0.5);

describe('crash recovery (kill -9 during ingest)', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'conifer-crash-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged vector and restarts cleanly', async () => {
    if (!existsSync(mainJs)) throw new Error(`${mainJs} is missing: build first (npx turbo run build --filter=@conifer/vector-store...)`);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    let child = start(dataDir, port);
    children.push(child);
    await waitHealthy(base);
    const created = await fetch(`${base}/internal/indexes/crash`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ dimension: DIM, metric: 'cosine', vectorType: 'dense' }),
    });
    expect(created.status).toBe(201);

    const acked: number[] = [];
    let next = 0;
    let killed = false;
    const writer = async (): Promise<void> => {
      while (!killed) {
        const ids = Array.from({ length: 50 }, () => next++);
        const vectors = ids.map((n) => ({ id: `v${n}`, values: Array.from({ length: DIM }, (_, d) => valueOf(n, d)), metadata: { n } }));
        try {
          const res = await fetch(`${base}/internal/indexes/crash/vectors/upsert`, { method: 'POST', headers, body: JSON.stringify({ vectors }) });
          if (res.status === 200) acked.push(...ids);
        } catch {
          return; // connection dropped by the kill: not acknowledged
        }
      }
    };
    const writers = Array.from({ length: 6 }, writer);
    while (acked.length < 3000) await new Promise((r) => setTimeout(r, 10));
    killed = true;
    child.kill('SIGKILL');
    await exited(child);
    await Promise.all(writers);
    expect(acked.length).toBeGreaterThanOrEqual(3000);
    // Whatever the kill left, add a torn record (a header promising more bytes than follow) to the log tail.
    const indexDir = path.join(dataDir, 'vector-store', 'indexes', 'crash');
    const wals = readdirSync(indexDir).filter((f) => f.startsWith('wal-')).sort();
    appendFileSync(path.join(indexDir, wals[wals.length - 1]!), Buffer.from([0xff, 0x00, 0x10, 0x00, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3]));

    child = start(dataDir, port);
    children.push(child);
    await waitHealthy(base);
    const described = (await (await fetch(`${base}/internal/indexes/crash`, { headers })).json()) as { totalVectorCount: number };
    expect(described.totalVectorCount).toBeGreaterThanOrEqual(acked.length);
    for (let i = 0; i < acked.length; i += 500) {
      const chunk = acked.slice(i, i + 500);
      const query = chunk.map((n) => `ids=v${n}`).join('&');
      const body = (await (await fetch(`${base}/internal/indexes/crash/vectors/fetch?${query}`, { headers })).json()) as {
        vectors: Record<string, { values: number[]; metadata: Record<string, unknown> }>;
      };
      for (const n of chunk) {
        const v = body.vectors[`v${n}`];
        expect(v).toBeDefined();
        expect(v.metadata).toEqual({ n });
        expect(Math.fround(v.values[5])).toBe(valueOf(n, 5));
      }
    }
    // Writes still work after recovery, and SIGTERM shuts down cleanly.
    const more = await fetch(`${base}/internal/indexes/crash/vectors/upsert`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ vectors: [{ id: 'after', values: Array.from({ length: DIM }, () => 0.5) }] }),
    });
    expect(more.status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  }, 120_000);
});

describe('crash recovery (kill -9 while a compaction runs in slices)', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'conifer-crash-compaction-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged delete, replacement and new vector', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    let child = start(dataDir, port);
    children.push(child);
    await waitHealthy(base);
    expect((await fetch(`${base}/internal/indexes/c`, { method: 'PUT', headers, body: JSON.stringify({ dimension: DIM, metric: 'cosine', vectorType: 'dense' }) })).status).toBe(201);
    const upsert = (ids: number[], salt: number): Promise<Response> =>
      fetch(`${base}/internal/indexes/c/vectors/upsert`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ vectors: ids.map((n) => ({ id: `v${n}`, values: Array.from({ length: DIM }, (_, d) => valueOf(n + salt, d)), metadata: { n, salt } })) }),
      });
    const N = 20_000;
    for (let i = 0; i < N; i += 500) expect((await upsert(Array.from({ length: 500 }, (_, k) => i + k), 0)).status).toBe(200);
    // A snapshot first: its values file serves the slots the compaction then reads back.
    expect((await fetch(`${base}/internal/indexes/c/snapshot`, { method: 'POST', headers })).status).toBe(200);

    // Expected state, updated only by acknowledged requests.
    const expected = new Map<number, number | undefined>(Array.from({ length: N }, (_, n) => [n, 0]));
    let stop = false;
    const deleter = async (): Promise<void> => {
      // 35 % deleted: once 30 % of the slots are dead (with the writers' replacements, from the sixth request
      // on) the namespace compacts, in slices between requests; the kill follows the last acknowledgement at once.
      for (let i = 0; i < 7000 && !stop; i += 1000) {
        const ids = Array.from({ length: 1000 }, (_, k) => i + k);
        try {
          const res = await fetch(`${base}/internal/indexes/c/vectors/delete`, { method: 'POST', headers, body: JSON.stringify({ ids: ids.map((n) => `v${n}`) }) });
          if (res.status === 200) for (const n of ids) expected.set(n, undefined);
        } catch {
          return;
        }
      }
    };
    let round = 0;
    const writer = async (): Promise<void> => {
      while (!stop) {
        const salt = ++round;
        // Replacements of records the compaction may or may not have copied yet, and new records.
        const ids = [...Array.from({ length: 20 }, (_, k) => 7000 + ((salt * 20 + k) % 13_000)), ...Array.from({ length: 20 }, (_, k) => N + salt * 20 + k)];
        try {
          if ((await upsert(ids, salt)).status === 200) for (const n of ids) expected.set(n, salt);
        } catch {
          return;
        }
      }
    };
    const running = [deleter(), writer(), writer()];
    await running[0];
    stop = true;
    child.kill('SIGKILL');
    await exited(child);
    await Promise.all(running);

    child = start(dataDir, port);
    children.push(child);
    await waitHealthy(base);
    const live = [...expected].filter(([, salt]) => salt !== undefined);
    const described = (await (await fetch(`${base}/internal/indexes/c`, { headers })).json()) as { totalVectorCount: number };
    // A write in flight at the kill may have been logged without its acknowledgement: at least what was acknowledged.
    expect(described.totalVectorCount).toBeGreaterThanOrEqual(live.length - 40);
    const all = [...expected.keys()];
    for (let i = 0; i < all.length; i += 500) {
      const chunk = all.slice(i, i + 500);
      const body = (await (await fetch(`${base}/internal/indexes/c/vectors/fetch?${chunk.map((n) => `ids=v${n}`).join('&')}`, { headers })).json()) as {
        vectors: Record<string, { values: number[]; metadata: { n: number; salt: number } }>;
      };
      for (const n of chunk) {
        const salt = expected.get(n);
        const v = body.vectors[`v${n}`];
        if (salt === undefined) {
          expect(v).toBeUndefined();
          continue;
        }
        expect(v).toBeDefined();
        // The acknowledged write, or a later one that was in flight at the kill.
        expect(v.metadata.n).toBe(n);
        expect(v.metadata.salt).toBeGreaterThanOrEqual(salt);
        expect(Math.fround(v.values[3])).toBe(valueOf(n + v.metadata.salt, 3));
      }
    }
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  }, 180_000);
});

async function gauge(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`, { headers })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`metric ${name} missing`);
  return Number(line.split(' ')[1]);
}

describe('crash recovery (kill -9 during snapshots, graph saves and graph reloads)', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'conifer-crash-graph-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  // The ANN worker drops its in-memory graph 200 ms after its last batch and reloads it from the published file for the next one.
  const env = { CONIFER_ANN_RELEASE_AFTER_MS: '200' };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('loses no acknowledged write, and a clean restart opens the saved graph instead of rebuilding it', async () => {
    if (!existsSync(mainJs)) throw new Error(`${mainJs} is missing: build first (npx turbo run build --filter=@conifer/vector-store...)`);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const indexDir = path.join(dataDir, 'vector-store', 'indexes', 'graph');
    let child = start(dataDir, port, env);
    children.push(child);
    await waitHealthy(base);
    const created = await fetch(`${base}/internal/indexes/graph`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ dimension: DIM, metric: 'cosine', vectorType: 'dense' }),
    });
    expect(created.status).toBe(201);

    const acked: number[] = [];
    let next = 0;
    const ingest = async (until: () => boolean): Promise<void> => {
      const writer = async (): Promise<void> => {
        while (!until()) {
          const ids = Array.from({ length: 100 }, () => next++);
          const vectors = ids.map((n) => ({ id: `v${n}`, values: Array.from({ length: DIM }, (_, d) => valueOf(n, d)), metadata: { n } }));
          try {
            const res = await fetch(`${base}/internal/indexes/graph/vectors/upsert`, { method: 'POST', headers, body: JSON.stringify({ vectors }) });
            if (res.status === 200) acked.push(...ids);
            else return;
          } catch {
            return; // connection refused or dropped by the stop: not acknowledged
          }
        }
      };
      await Promise.all(Array.from({ length: 4 }, writer));
    };
    const verify = async (): Promise<void> => {
      const described = (await (await fetch(`${base}/internal/indexes/graph`, { headers })).json()) as { totalVectorCount: number };
      expect(described.totalVectorCount).toBeGreaterThanOrEqual(acked.length);
      for (let i = 0; i < acked.length; i += 500) {
        const chunk = acked.slice(i, i + 500);
        const body = (await (await fetch(`${base}/internal/indexes/graph/vectors/fetch?${chunk.map((n) => `ids=v${n}`).join('&')}`, { headers })).json()) as {
          vectors: Record<string, { values: number[]; metadata: Record<string, unknown> }>;
        };
        for (const n of chunk) {
          expect(body.vectors[`v${n}`]?.metadata).toEqual({ n });
          expect(Math.fround(body.vectors[`v${n}`]!.values[7]!)).toBe(valueOf(n, 7));
        }
      }
      // Searches find stored vectors (through whatever graph was opened, or exactly).
      for (const n of acked.slice(0, 2000).filter((_, i) => i % 400 === 0)) {
        const res = (await (
          await fetch(`${base}/internal/indexes/graph/query`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ vector: Array.from({ length: DIM }, (_, d) => valueOf(n, d)), topK: 3 }),
          })
        ).json()) as { matches: { id: string; score: number }[] };
        expect(res.matches[0]!.score).toBeGreaterThan(0.9999);
      }
    };

    // Enough vectors for a graph; then stops that are cut short by kill -9 at various points of the
    // shutdown snapshot (records written, graph linked and fsynced, renamed), with writers running.
    await ingest(() => acked.length >= 12_000);
    for (const delayMs of [5, 40, 150, 400]) {
      const target = acked.length + 2000;
      const writing = ingest(() => acked.length >= target);
      while (acked.length < target - 1000) await new Promise((r) => setTimeout(r, 5));
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, delayMs));
      child.kill('SIGKILL');
      await exited(child);
      await writing;
      child = start(dataDir, port, env);
      children.push(child);
      await waitHealthy(base);
      await verify();
    }

    // kill -9 right after the worker reloaded its released graph from the published file (round 0), and while it
    // adds to it and publishes the grown graph (round 1), with writers running.
    for (const delayMs of [0, 300]) {
      for (let i = 0; i < 600 && ((await gauge(base, 'conifer_store_ann_pending_vectors')) > 0 || (await gauge(base, 'conifer_store_ann_graphs_held')) > 0); i++) await sleep(100);
      expect(await gauge(base, 'conifer_store_ann_graphs_held')).toBe(0);
      let stop = false;
      const writing = ingest(() => stop);
      while ((await gauge(base, 'conifer_store_ann_graphs_held')) === 0) await sleep(5);
      await sleep(delayMs);
      stop = true;
      child.kill('SIGKILL');
      await exited(child);
      await writing;
      child = start(dataDir, port, env);
      children.push(child);
      await waitHealthy(base);
      await verify();
    }

    // A clean stop once the graph has caught up: the next start opens it (nothing left to index).
    for (let i = 0; i < 600 && (await gauge(base, 'conifer_store_ann_pending_vectors')) > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await gauge(base, 'conifer_store_ann_pending_vectors')).toBe(0);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(readdirSync(indexDir).filter((f) => /^snapshot-\d+\.graph-0\.usearch$/.test(f))).toHaveLength(1);
    child = start(dataDir, port, env);
    children.push(child);
    await waitHealthy(base);
    expect(await gauge(base, 'conifer_store_ann_pending_vectors')).toBe(0);
    await verify();
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  }, 300_000);
});
