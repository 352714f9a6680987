// Queries running while upserts and deletes go on (and while the background ANN builder indexes) see
// each write request whole or not at all, see acknowledged writes, and never see acknowledged deletes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
const base = '/internal/indexes/conc';
const DIM = 8;
const GROUP = 20;

beforeAll(async () => {
  t = await startTestApp({ annBatch: 64, search: { annMinVectors: 200, exactFilterMax: 5 } });
  expect((await t.call('PUT', base, { dimension: DIM, metric: 'euclidean', vectorType: 'dense' })).status).toBe(201);
});
afterAll(async () => {
  await t.close();
});

function group(g: number) {
  return Array.from({ length: GROUP }, (_, i) => ({
    id: `g${g}-${i}`,
    values: Array.from({ length: DIM }, (_, d) => Math.sin(g * 13 + i * 7 + d)),
    metadata: { g },
  }));
}

describe('concurrency', () => {
  it('queries during upserts and deletes return consistent results', async () => {
    const acked = new Set<number>();
    const deleted = new Set<number>();
    let writing = true;
    const problems: string[] = [];

    const writer = async (offset: number): Promise<void> => {
      for (let g = offset; g < 60; g += 3) {
        const res = await t.call('POST', `${base}/vectors/upsert`, { vectors: group(g) });
        if (res.status !== 200) problems.push(`upsert ${g}: ${res.status}`);
        acked.add(g);
        // Read-your-writes: the next query sees the whole group.
        const seen = await t.call('POST', `${base}/query`, { topK: 100, vector: group(g)[0]!.values, filter: { g } });
        if (seen.body.matches.length !== GROUP) problems.push(`group ${g} not visible after ack (${seen.body.matches.length})`);
        if (g % 4 === 0) {
          const del = await t.call('POST', `${base}/vectors/delete`, { filter: { g } });
          if (del.status !== 200) problems.push(`delete ${g}: ${del.status}`);
          deleted.add(g);
        }
      }
    };
    const reader = async (): Promise<void> => {
      let q = 0;
      while (writing) {
        const done = [...acked].filter((g) => g % 4 !== 0); // groups that are never deleted
        const gone = [...deleted];
        const vector = Array.from({ length: DIM }, (_, d) => Math.cos(q++ + d));
        const res = await t.call('POST', `${base}/query`, { topK: 1000, vector });
        const counts = new Map<number, number>();
        for (const m of res.body.matches as { id: string }[]) {
          const g = Number(m.id.slice(1, m.id.indexOf('-')));
          counts.set(g, (counts.get(g) ?? 0) + 1);
        }
        for (const [g, c] of counts) if (c !== GROUP) problems.push(`query saw ${c} of group ${g}`);
        for (const g of done) if (!counts.has(g)) problems.push(`acknowledged group ${g} missing`);
        for (const g of gone) if (counts.has(g)) problems.push(`deleted group ${g} returned`);
      }
    };
    const readers = [reader(), reader()];
    await Promise.all([writer(0), writer(1), writer(2)]);
    writing = false;
    await Promise.all(readers);
    expect(problems).toEqual([]);
    const stats = await t.call('POST', `${base}/describe_index_stats`, {});
    expect(stats.body.totalVectorCount).toBe((60 - 15) * GROUP);
  });
});
