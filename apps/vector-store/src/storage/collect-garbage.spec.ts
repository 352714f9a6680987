import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { getHeapStatistics } from 'node:v8';
import { canTrimMallocHeap, collectGarbageIfQuick } from './collect-garbage.js';

describe('collectGarbageIfQuick', () => {
  it('collects when the live heap is within the limit, and frees what was garbage', () => {
    let garbage: object[] | undefined = Array.from({ length: 200_000 }, (_, i) => ({ i, text: `record-${i}` }));
    const held = getHeapStatistics().used_heap_size;
    garbage = undefined;
    expect(garbage).toBeUndefined();
    expect(collectGarbageIfQuick(held + 256 * 2 ** 20)).toBe(true);
    // ~200k objects and strings: well over 5 MB freed.
    expect(getHeapStatistics().used_heap_size).toBeLessThan(held - 5 * 2 ** 20);
  });

  it('leaves a heap larger than the limit to V8 (a full collection of it would block the event loop)', () => {
    expect(collectGarbageIfQuick(1024)).toBe(false);
  });
});

describe('releaseFreeMemory', () => {
  const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime !== undefined;

  it('can trim wherever the compiled binding runs on glibc', () => {
    // CI and development machines build the binding (packages/engine/native): a silent fallback would hide here.
    expect(canTrimMallocHeap).toBe(glibc && process.platform === 'linux');
  });

  (canTrimMallocHeap ? it : it.skip)("returns the heap's free blocks between live ones to the kernel", () => {
    // A process of its own with the store's threshold, so that its RssAnon is this test's: 40 KB blocks (under the
    // threshold: from malloc's heap) every other one dropped, so the free space lies between live blocks where
    // shrinking the heap's top cannot reach it.
    const module = path.join(path.dirname(fileURLToPath(import.meta.url)), 'collect-garbage.ts');
    const script = [
      `const { releaseFreeMemory } = await import(${JSON.stringify(module)});`,
      `const { readFileSync } = await import('node:fs');`,
      `const rssAnon = () => Number(/RssAnon:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;`,
      `let blocks = Array.from({ length: 4000 }, () => Buffer.allocUnsafeSlow(40 * 1024).fill(7));`,
      `const kept = blocks.filter((_, i) => i % 2 === 0);`,
      `blocks = undefined;`,
      `const trim = releaseFreeMemory(1000, Number(process.env.LIMIT));`,
      `await new Promise((r) => setTimeout(r, 900));`,
      `const before = rssAnon();`,
      // The trim's timer is unref'd (it never keeps a store from exiting): this one keeps the script alive.
      `const alive = setTimeout(() => {}, 10_000);`,
      `const released = await trim;`,
      `clearTimeout(alive);`,
      `console.log(JSON.stringify({ before, after: rssAnon(), released, kept: kept.length }));`,
    ].join('\n');
    const run = (limit: number) => {
      const env = { ...process.env, GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=73728', LIMIT: String(limit) };
      const out = execFileSync(process.execPath, ['--experimental-strip-types', '--no-warnings', '--input-type=module', '-e', script], { env }).toString();
      return JSON.parse(out.trim()) as { before: number; after: number; released: boolean; kept: number };
    };
    const trimmed = run(256 * 2 ** 20);
    expect(trimmed.kept).toBe(2000);
    expect(trimmed.released).toBe(true);
    // 2000 × 40 KB = 78 MB freed between live blocks: most of it leaves RssAnon.
    expect(trimmed.before - trimmed.after).toBeGreaterThan(50 * 2 ** 20);
    // Above the limit the trim would hold the main arena's lock (and so the event loop) too long: left as it is.
    const left = run(16 * 2 ** 20);
    expect(left.released).toBe(false);
    expect(Math.abs(left.before - left.after)).toBeLessThan(16 * 2 ** 20);
  });
});
