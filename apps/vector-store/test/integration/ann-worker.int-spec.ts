// The background ANN builder on its worker thread: namespaces get a graph without blocking the event
// loop, writes after it are still found (exact tail), compaction restarts the build, results stay right.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { parseDeleteRequest, parseQueryRequest, parseUpsertRequest } from '@conifer/contracts';
import { pino } from 'pino';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { graphViews } from '../../src/storage/graph-view.js';
import { IndexRegistry } from '../../src/storage/index-registry.js';
import { refTopK, rng } from '@conifer/test-utils';
import { annBinding } from '@conifer/engine';

const DIM = 16;
let dataDir: string;
let registry: IndexRegistry;

function vectors(from: number, n: number, random: () => number) {
  return Array.from({ length: n }, (_, i) => ({
    id: `v${from + i}`,
    values: Array.from({ length: DIM }, () => Math.fround(random() * 2 - 1)),
    metadata: { k: (from + i) % 10 },
  }));
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'conifer-ann-'));
  registry = await IndexRegistry.open(dataDir, pino({ level: 'silent' }), { search: { annMinVectors: 500 } });
});
afterAll(async () => {
  await registry.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The nice value of each of this process's threads named `name`, by thread id (Linux /proc). */
function threadNices(name: string): Map<number, number> {
  const nices = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() !== name) continue;
      // Fields after the command's closing parenthesis start at the 3rd; nice is the 19th.
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      nices.set(Number(tid), Number(fields[16]));
    } catch {
      // The thread ended meanwhile.
    }
  }
  return nices;
}

describe('ANN builder worker', () => {
  it('runs below the event loop: its thread at the registry\'s nice value, the process unchanged', async () => {
    const mainNice = (): number => Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[16]);
    const before = mainNice();
    // The suite's registry asks for none: its worker stays at this thread's. Threads start at their creator's
    // nice value, and a thread's is only raised, never lowered (a process started under `nice` keeps its own).
    await until(() => threadNices('conifer-ann').size > 0, 'the suite\'s worker');
    expect([...threadNices('conifer-ann').values()]).toContain(before);
    const otherDir = mkdtempSync(path.join(tmpdir(), 'conifer-ann-nice-'));
    const known = new Set(threadNices('conifer-ann').keys());
    const other = await IndexRegistry.open(otherDir, pino({ level: 'silent' }), { annBuildNice: 17 });
    try {
      // The worker lowers itself as it starts.
      const fresh = (): number[] => [...threadNices('conifer-ann')].filter(([tid]) => !known.has(tid)).map(([, nice]) => nice);
      const expected = Math.max(before, 17);
      await until(() => fresh().length === 1 && fresh()[0] === expected, `the new worker at nice ${expected}`);
      expect(mainNice()).toBe(before);
    } finally {
      await other.close();
      rmSync(otherDir, { recursive: true, force: true });
    }
  }, 45_000);

  it('builds, installs and keeps queries complete through writes, deletes and compaction', async () => {
    const random = rng(11);
    const { index } = await registry.create('w', { dimension: DIM, metric: 'cosine', vectorType: 'dense' });
    const all = new Map<string, { id: string; values: number[]; metadata: Record<string, unknown> }>();
    const upsert = async (batch: ReturnType<typeof vectors>) => {
      for (const v of batch) all.set(v.id, v);
      await index.mutate(index.index.prepareUpsert(parseUpsertRequest({ vectors: batch })));
    };
    for (let i = 0; i < 4000; i += 500) await upsert(vectors(i, 500, random));
    await until(() => registry.annIdle(), 'the first build');
    // Several batches (at most 2048 rows each, sent as the writes came): batches after the first were gathered
    // into the buffers the worker sent back.
    const counts = registry.annBatchBufferCounts()!;
    expect(counts.allocated).toBeGreaterThanOrEqual(1);
    expect(counts.reused).toBeGreaterThanOrEqual(1);
    const ns = index.index.namespaces.get('')!;
    expect(ns.ann).toBeDefined();
    expect(ns.annUpTo).toBe(ns.slotCount);
    expect(readdirSync(path.join(index.dir, 'ann')).length).toBeGreaterThan(0);

    const check = () => {
      let hits = 0;
      let total = 0;
      for (let q = 0; q < 20; q++) {
        const query = Array.from({ length: DIM }, () => random() * 2 - 1);
        const expected = refTopK('cosine', query, [...all.values()], undefined, 10).map((m) => m.id);
        const got = index.index.query(parseQueryRequest({ vector: query, topK: 10 })).matches.map((m) => m.id);
        for (const id of got) {
          expect(all.has(id)).toBe(true);
          if (expected.includes(id)) hits++;
        }
        total += expected.length;
      }
      return hits / total;
    };
    expect(check()).toBeGreaterThanOrEqual(0.9);
    expect(index.index.query(parseQueryRequest({ vector: vectors(0, 1, random)[0]!.values, topK: 10 })).plan.plan).toBe('ann');

    // New writes are visible before the worker has indexed them; deletes are never returned.
    const fresh = vectors(10_000, 1, random)[0]!;
    await upsert([fresh]);
    expect(index.index.query(parseQueryRequest({ vector: fresh.values, topK: 1 })).matches[0]!.id).toBe(fresh.id);
    const doomed = [...all.keys()].slice(0, 1500);
    const remove = async (ids: string[]) => {
      for (let i = 0; i < ids.length; i += 1000) {
        await index.mutate(index.index.prepareDelete(parseDeleteRequest({ ids: ids.slice(i, i + 1000) })));
      }
    };
    await remove(doomed);
    for (const id of doomed) all.delete(id);
    expect(check()).toBeGreaterThanOrEqual(0.9);
    // Enough dead slots to compact: the graph is dropped and rebuilt for the new slot numbers.
    const generation = ns.generation;
    const more = [...all.keys()].slice(0, 1200);
    await remove(more);
    for (const id of more) all.delete(id);
    // The compaction runs in slices between requests: the acknowledged delete does not wait for it.
    await until(() => ns.generation > generation, 'the compaction');
    expect(check()).toBeGreaterThanOrEqual(0.9);
    for (let i = 20_000; i < 21_000; i += 500) await upsert(vectors(i, 500, random));
    await until(() => registry.annIdle() && ns.ann !== undefined, 'the rebuild');
    expect(check()).toBeGreaterThanOrEqual(0.9);
    expect(existsSync(path.join(index.dir, 'ann'))).toBe(true);
  }, 60_000);

  // usearch's prebuilt binding closes descriptor 0 when a view fails (the compiled one is patched, engine
  // usearch-binding.spec): a process that goes on after that can abort in libuv, so this runs on the compiled one only.
  (annBinding().kind === 'compiled' ? it : it.skip)('publishes again when a published graph fails to map, and installs that one', async () => {
    const random = rng(12);
    const { index } = await registry.create('unmapped', { dimension: DIM, metric: 'cosine', vectorType: 'dense' });
    const upsert = (from: number, n: number) => index.mutate(index.index.prepareUpsert(parseUpsertRequest({ vectors: vectors(from, n, random) })));
    await upsert(0, 1000);
    await until(() => registry.annIdle(), 'the first build');
    const ns = index.index.namespaces.get('')!;
    const installed = ns.ann;
    // The next publish is mapped from a name that does not exist: usearch's own error, as for a file lost meanwhile.
    const view = graphViews.view.bind(graphViews);
    const spy = jest.spyOn(graphViews, 'view').mockImplementationOnce((file, ...rest) => view(`${file}.gone`, ...rest));
    try {
      await upsert(1000, 600);
      await until(() => spy.mock.calls.length >= 2 && registry.annIdle(), 'a second publish after the failed one');
      expect(ns.ann).not.toBe(installed);
      expect(ns.annUpTo).toBe(ns.slotCount);
      await expect(spy.mock.results[0]!.value).rejects.toThrow();
    } finally {
      spy.mockRestore();
    }
  }, 60_000);
});
