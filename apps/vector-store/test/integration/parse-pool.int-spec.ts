// The parse workers' values buffers come back (ParsePool.recycle) and later bodies are scanned into them
// (parse-worker.ts): a fresh ~2 MB mapping per 768-d body was page faults and unmaps in the store (bench/RESULTS.md,
// session 13 ingest). Reuse must never show a body another body's values: every value exact, stale bytes beyond a
// shorter body's values never read, a buffer never handed to two bodies at once.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { UpsertRequest } from '@conifer/contracts';
import { rng } from '@conifer/test-utils';
import { ParsePool, parseWorkerPath } from '../../src/api/parse-pool.js';

const DIM = 768;
const f32bits = (x: number): number => new Uint32Array(new Float32Array([x]).buffer)[0]!;

/** A body of `n` records with 4-decimal values (seeded), and the float32 bits each record must read back. */
function body(n: number, seed: number): { bytes: Buffer; expected: number[][] } {
  const random = rng(seed);
  const expected: number[][] = [];
  const records: string[] = [];
  for (let i = 0; i < n; i++) {
    const texts = Array.from({ length: DIM }, () => (random() * 2 - 1).toFixed(4));
    expected.push(texts.map((t) => f32bits(Math.fround(Number(t)))));
    records.push(`{"id":"s${seed}-${i}","values":[${texts.join(',')}],"metadata":{"i":${i}}}`);
  }
  return { bytes: Buffer.from(`{"namespace":"ns","vectors":[${records.join(',')}]}`), expected };
}

function expectValues(request: UpsertRequest, expected: number[][]): void {
  expect(request.vectors.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Array.from(request.vectors[i]!.values!, f32bits)).toEqual(expected[i]);
}

describe('parse workers reuse the values buffers sent back', () => {
  let pool: ParsePool;
  beforeAll(() => {
    pool = new ParsePool(parseWorkerPath()!, 1);
  });
  afterAll(async () => {
    await pool?.close();
  });

  it('scans a later body into a recycled buffer, exactly, and detaches the recycled request', async () => {
    const a = body(200, 1);
    const first = await pool.parseUpsert(a.bytes);
    expectValues(first, a.expected);
    const allocated = pool.valuesAllocated;
    const reused = pool.valuesReused;
    const buffer = first.vectors[0]!.values!.buffer as ArrayBuffer;
    expect(buffer.byteLength).toBeGreaterThanOrEqual(64 * 1024);
    pool.recycle(first);
    // Moved to the worker: the request's arrays are detached, nothing here can read them any more.
    expect(buffer.byteLength).toBe(0);
    expect(first.vectors[0]!.values!.length).toBe(0);
    pool.recycle(first); // a second call is ignored
    // A shorter body of the same size class: scanned into the recycled buffer, its own values only.
    const b = body(170, 2);
    const second = await pool.parseUpsert(b.bytes);
    expectValues(second, b.expected);
    expect(pool.valuesReused).toBe(reused + 1);
    expect(pool.valuesAllocated).toBe(allocated);
    pool.recycle(second);
  });

  it('allocates when nothing was sent back, and keeps a buffer across a refused body', async () => {
    const a = body(150, 3);
    const first = await pool.parseUpsert(a.bytes); // takes the buffer recycled above
    const allocated = pool.valuesAllocated;
    const second = await pool.parseUpsert(body(150, 4).bytes); // none left on the list: a new one
    expect(pool.valuesAllocated).toBe(allocated + 1);
    pool.recycle(first);
    // A malformed body (large enough to take a buffer) is refused; the buffer stays for the next body.
    const bad = Buffer.concat([body(150, 5).bytes.subarray(0, -2), Buffer.from('x}')]);
    await expect(pool.parseUpsert(bad)).rejects.toThrow();
    const reused = pool.valuesReused;
    const c = body(140, 6);
    const third = await pool.parseUpsert(c.bytes);
    expectValues(third, c.expected);
    expect(pool.valuesReused).toBe(reused + 1);
    expectValues(second, body(150, 4).expected);
    pool.recycle(second);
    pool.recycle(third);
  });

  it('never gives one buffer to two bodies in flight (4 at a time, each sent back once checked)', async () => {
    const bodies = Array.from({ length: 16 }, (_, i) => body(60 + ((i * 37) % 120), 100 + i));
    const reused = pool.valuesReused;
    for (let i = 0; i < bodies.length; i += 4) {
      const batch = bodies.slice(i, i + 4);
      const parsed = await Promise.all(batch.map((b) => pool.parseUpsert(b.bytes)));
      const buffers = new Set(parsed.map((p) => p.vectors[0]!.values!.buffer));
      expect(buffers.size).toBe(parsed.length);
      parsed.forEach((p, j) => expectValues(p, batch[j]!.expected));
      for (const p of parsed) pool.recycle(p);
    }
    expect(pool.valuesReused).toBeGreaterThan(reused);
  });

  it('leaves small bodies as before (no buffer tracked, nothing sent back)', async () => {
    const small = body(2, 7);
    const before = [pool.valuesAllocated, pool.valuesReused];
    const parsed = await pool.parseUpsert(small.bytes);
    expectValues(parsed, small.expected);
    pool.recycle(parsed);
    expect(parsed.vectors[0]!.values!.length).toBe(DIM);
    expect([pool.valuesAllocated, pool.valuesReused]).toEqual(before);
  });
});
