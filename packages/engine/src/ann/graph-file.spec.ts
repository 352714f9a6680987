// The calibration's replay of usearch's walk over a saved graph file (search/calibrate.ts): without a left-out
// node it must find what usearch finds, and a left-out node must neither be returned nor route the walk.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { clusteredRecords, fileBytes } from '@conifer/test-utils';
import type { Metric } from '../types.js';
import { UsearchGraphFile } from './graph-file.js';
import { UsearchAnn } from './usearch-ann.js';

const dim = 48;
const n = 5000;
const records = clusteredRecords(n, dim, 31);
const values = new Float32Array(n * dim);
records.forEach((r, i) => values.set(r.values, i * dim));
const queries = clusteredRecords(40, dim, 32).map((r) => Float32Array.from(r.values));

describe('UsearchGraphFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conifer-graph-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function graph(metric: Metric, slots: Int32Array, memoryBytes?: number): { ann: UsearchAnn; file: UsearchGraphFile } {
    const ann = new UsearchAnn(metric, dim, { connectivity: 8, expansionAdd: 32, expansionSearch: 16 }, 4);
    ann.add(slots, values, 1);
    const path = join(dir, `${metric}-${slots[0]}-${memoryBytes}.usearch`);
    ann.save(path);
    return { ann, file: new UsearchGraphFile(fileBytes(path), memoryBytes) };
  }

  it.each([
    ['cosine', undefined],
    ['euclidean', undefined],
    ['cosine', 0],
    ['dotproduct', 0],
  ] as const)('replays usearch search over the %s graph (int8 / f16 rows; memory budget %s: read whole or by pread)', (metric, memoryBytes) => {
    // Keys that are not the node numbers (the identity shortcut misses, the pass over the keys finds them).
    const slots = Int32Array.from({ length: n }, (_, i) => 3 * i + 7);
    const { ann, file } = graph(metric, slots, memoryBytes);
    {
      expect(file.size).toBe(n);
      let same = 0;
      let total = 0;
      for (const q of queries) {
        for (const k of [10, 50]) {
          const mine = file.search(ann.graphQuery(q), k, 16);
          const theirs = Array.from(ann.search(q, k));
          expect(mine).toHaveLength(theirs.length);
          const set = new Set(theirs);
          same += mine.filter((key) => set.has(key)).length;
          total += theirs.length;
        }
      }
      // Same walk, same rows, same cast: the same answers (ties in the quantised distances may order apart).
      expect(same / total).toBeGreaterThan(0.99);
      expect(file.nodesOf([7, 10, 3 * (n - 1) + 7, 8]).size).toBe(3);
    }
  });

  it('leaves any node out, the entry too: the others are still found', () => {
    // 40 nodes: every one left out in turn (one of them is the walk's entry point); the rest are all returned.
    const small = 40;
    const ann = new UsearchAnn('cosine', dim, { connectivity: 8, expansionAdd: 32, expansionSearch: 64 }, 1);
    ann.add(Int32Array.from({ length: small }, (_, i) => i), values.subarray(0, small * dim), 1);
    const path = join(dir, 'small.usearch');
    ann.save(path);
    const file = new UsearchGraphFile(fileBytes(path));
    const nodes = file.nodesOf(Array.from({ length: small }, (_, i) => i));
    for (let s = 0; s < small; s++) {
      const found = file.search(values.subarray(s * dim, (s + 1) * dim), small, 64, nodes.get(s)!);
      expect(found.sort((a, b) => a - b)).toEqual(Array.from({ length: small }, (_, i) => i).filter((i) => i !== s));
    }
  });

  it('leaves a node out of the walk: never returned, never routed through', () => {
    const slots = Int32Array.from({ length: n }, (_, i) => i);
    const { file } = graph('cosine', slots);
    {
      const nodes = file.nodesOf([0, 1, 2, 3, 4]);
      for (let s = 0; s < 5; s++) {
        const q = values.subarray(s * dim, (s + 1) * dim);
        // Asked with its own vector, the graph returns the record itself first; left out, it is absent.
        expect(file.search(q, 10, 16)[0]).toBe(s);
        const held = file.search(q, 10, 16, nodes.get(s)!);
        expect(held).toHaveLength(10);
        expect(held).not.toContain(s);
      }
    }
  });
});
