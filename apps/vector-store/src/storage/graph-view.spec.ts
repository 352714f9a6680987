// A graph viewed by the store keeps a name of its own until its index object is collected and usearch's
// destructor has closed it; only then is the link removed (where the kernel frees the file, off the event loop).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from '@jest/globals';
import { DEFAULT_ANN_PARAMS, selectAnnBinding, UsearchAnn, type AnnBindingKind } from '@conifer/engine';
import { collectGarbage } from './collect-garbage.js';
import { checkGraphFile, GraphViews, mappedDir, UNLINK_AFTER_MS } from './graph-view.js';

const DIM = 8;
let dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

/** A saved graph of `n` random vectors, in a fresh directory. */
function savedGraph(n: number): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'conifer-graph-view-'));
  dirs.push(dir);
  const ann = new UsearchAnn('cosine', DIM);
  const vectors = new Float32Array(n * DIM).map(() => Math.random() - 0.5);
  ann.add(Array.from({ length: n }, (_, i) => i), vectors, 1);
  const file = path.join(dir, 'graph.usearch');
  ann.save(file);
  return { dir, file };
}

/** Whether the process maps the file (as /proc/self/maps names it: its path when mapped, `(deleted)` after). */
function mapped(file: string): boolean {
  return readFileSync('/proc/self/maps', 'utf8').includes(file);
}

/** Collects until `views` has removed `count` links (the registry's callbacks and the delay need turns). */
async function collectedUntil(views: GraphViews, count: number): Promise<void> {
  while (views.unlinked < count) {
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('GraphViews', () => {
  it('links a viewed graph until its index object is collected and unmapped, then removes the link', async () => {
    const { dir, file } = savedGraph(300);
    const links = mappedDir(dir);
    const views = new GraphViews(UNLINK_AFTER_MS);
    // In a scope of its own: nothing refers to the view after it.
    await (async (): Promise<void> => {
      const ann = await views.view(file, links, 'cosine', DIM, DEFAULT_ANN_PARAMS, 1);
      expect(ann.size).toBe(300);
      expect(ann.search(new Float32Array(DIM).fill(0.1), 5)).toHaveLength(5);
      expect(ann.file).toBe(file);
    })();
    expect(views.linked).toBe(1);
    expect(statSync(file).nlink).toBe(2);
    expect(readdirSync(links)).toHaveLength(1);
    expect(mapped(file)).toBe(true);
    // The builder unlinks a replaced graph's own name while it is still mapped: the view's link keeps the file.
    rmSync(file);
    const [link] = readdirSync(links);
    expect(statSync(path.join(links, link!)).nlink).toBe(1);

    await collectedUntil(views, 1);
    expect(readdirSync(links)).toHaveLength(0);
    // usearch's destructor had unmapped (and closed) the file before its last name went.
    expect(mapped(file)).toBe(false);
  });

  it('gives one link per view, each removed once its own object is collected', async () => {
    const { dir, file } = savedGraph(100);
    const links = mappedDir(dir);
    const views = new GraphViews(0);
    const kept = await views.view(file, links, 'cosine', DIM, DEFAULT_ANN_PARAMS, 1);
    await (async (): Promise<void> => {
      await views.view(file, links, 'cosine', DIM, DEFAULT_ANN_PARAMS, 1);
    })();
    expect(statSync(file).nlink).toBe(3);
    await collectedUntil(views, 1);
    expect(statSync(file).nlink).toBe(2);
    expect(kept.search(new Float32Array(DIM).fill(0.1), 3)).toHaveLength(3);
  });

  it('still views the graph when the link cannot be made', async () => {
    const { dir, file } = savedGraph(50);
    const blocker = path.join(dir, 'not-a-directory');
    writeFileSync(blocker, '');
    const views = new GraphViews();
    const ann = await views.view(file, path.join(blocker, 'mapped'), 'cosine', DIM, DEFAULT_ANN_PARAMS, 1);
    expect(ann.size).toBe(50);
    expect(views.linked).toBe(0);
    expect(statSync(file).nlink).toBe(1);
  });

  // A snapshot's graph at start: viewed only if it is the file the snapshot recorded. The compiled binding checks it
  // on the view's own read; usearch's prebuilt one cannot, so the store reads it for the CRC first.
  it.each(['compiled', 'prebuilt'] as AnnBindingKind[])('views a graph only if its size and CRC-32 match (%s binding)', async (kind) => {
    selectAnnBinding(kind);
    try {
      const { dir, file } = savedGraph(300);
      const bytes = readFileSync(file);
      const expected = { bytes: bytes.length, crc32: crc32(bytes) };
      const views = new GraphViews();
      const ann = await views.view(file, mappedDir(dir), 'cosine', DIM, DEFAULT_ANN_PARAMS, 1, expected);
      expect(ann.size).toBe(300);
      await expect(views.view(file, mappedDir(dir), 'cosine', DIM, DEFAULT_ANN_PARAMS, 1, { ...expected, bytes: expected.bytes - 1 })).rejects.toThrow('wrong size');
      bytes[bytes.length >> 1] ^= 0xff;
      writeFileSync(file, bytes);
      await expect(views.view(file, mappedDir(dir), 'cosine', DIM, DEFAULT_ANN_PARAMS, 1, expected)).rejects.toThrow('does not match its checksum');
      expect(() => checkGraphFile(file, expected)).toThrow('does not match its checksum');
      expect(() => checkGraphFile(file, { ...expected, crc32: crc32(bytes) })).not.toThrow();
    } finally {
      selectAnnBinding('compiled');
    }
  });
});
