import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FrozenNamespace } from '@conifer/engine';
import { ValuesFile, ValuesParts, writeValuesFile } from './values-file.js';

const DIM = 4;

/** A frozen view of `rows` rows (row r holds r, r+0.25, …), every third one dead. */
function frozen(rows: number): FrozenNamespace {
  const valuesOf = (slot: number): Float32Array => Float32Array.from({ length: DIM }, (_, j) => slot + j / 4);
  return {
    dimension: DIM,
    schema: undefined,
    slotCount: rows,
    isLive: (slot) => slot % 3 !== 2,
    idOf: (slot) => `r${slot}`,
    metadataOf: () => undefined,
    sparseOf: () => undefined,
    valuesOf,
    readRows: (first, count, out) => {
      for (let i = 0; i < count; i++) out.set(valuesOf(first + i), i * DIM);
    },
    normOf: () => 1,
  };
}

/** The descriptors of this process open on `file` (as /proc names their targets). */
function descriptorsOn(file: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(file)) n++;
    } catch {
      // Closed while listing.
    }
  }
  return n;
}

describe('ValuesFile', () => {
  it('reads back what writeValuesFile wrote (dead rows as zeros), and releases its descriptor when closed, the file unlinked meanwhile', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'conifer-values-'));
    try {
      const file = path.join(dir, 'snapshot-00000002.values-0.f32');
      const handle = await open(file, 'w');
      const { rows, bytes } = await writeValuesFile(handle, frozen(600));
      await handle.close();
      expect([rows, bytes]).toEqual([600, 600 * DIM * 4]);
      const values = ValuesFile.open(file, DIM, 600);
      const out = new Float32Array(3 * DIM);
      values.read(299, 3, out, 0);
      expect(Array.from(out)).toEqual([0, 0, 0, 0, 300, 300.25, 300.5, 300.75, 301, 301.25, 301.5, 301.75]);
      expect(() => ValuesFile.open(file, DIM, 601)).toThrow(/expected/);
      // A superseded snapshot's file is unlinked while still open: the close is its last reference.
      unlinkSync(file);
      expect(descriptorsOn(file)).toBe(1);
      values.close();
      expect(values.closed).toBe(true);
      expect(() => values.read(0, 1, out, 0)).toThrow(/closed/);
      // Released in libuv's thread pool (the kernel frees an unlinked file's blocks then): a moment later.
      for (let i = 0; i < 100 && descriptorsOn(file) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(descriptorsOn(file)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ValuesParts', () => {
  it('reads rows across consecutive files written from a slot on (writeValuesFile from), as one file would hold them', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'conifer-values-parts-'));
    try {
      const ns = frozen(50);
      const bounds = [0, 20, 30, 30, 50]; // parts of 20, 10, 0 and 20 rows
      const parts: ValuesFile[] = [];
      for (let p = 0; p + 1 < bounds.length; p++) {
        const file = path.join(dir, `part-${p}.f32`);
        const handle = await open(file, 'w');
        const written = await writeValuesFile(handle, { ...ns, slotCount: bounds[p + 1]! }, bounds[p]!);
        await handle.close();
        expect(written.rows).toBe(bounds[p + 1]! - bounds[p]!);
        parts.push(ValuesFile.open(file, DIM, written.rows));
      }
      const segment = new ValuesParts(parts);
      expect(segment.rows).toBe(50);
      const expected = (slot: number): number[] => (ns.isLive(slot) ? Array.from(ns.valuesOf(slot)) : [0, 0, 0, 0]);
      for (const [first, count] of [[0, 50], [18, 5], [19, 12], [29, 2], [30, 20], [49, 1], [7, 0]] as const) {
        const out = new Float32Array((count + 1) * DIM).fill(-1);
        segment.read(first, count, out, 1);
        expect(Array.from(out.subarray(0, 1))).toEqual([-1]);
        for (let i = 0; i < count; i++) expect(Array.from(out.subarray(1 + i * DIM, 1 + (i + 1) * DIM))).toEqual(expected(first + i));
      }
      expect(() => segment.read(45, 6, new Float32Array(6 * DIM), 0)).toThrow(RangeError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
