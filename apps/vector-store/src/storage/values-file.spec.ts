import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FrozenNamespace } from '@conifer/engine';
import { ValuesFile, writeValuesFile } from './values-file.js';

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
