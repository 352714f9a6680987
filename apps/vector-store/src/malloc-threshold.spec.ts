import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { defaultMallocThreshold, heapFloorArgs, mallocTunedEnvironment } from './malloc-threshold.js';

describe('mallocTunedEnvironment', () => {
  const onGlibc = (): boolean => true;
  const notAsked = (): boolean => {
    throw new Error('the C library was asked although the environment already decided');
  };

  it('adds the threshold to GLIBC_TUNABLES, keeping the other tunables', () => {
    expect(mallocTunedEnvironment({ A: '1' }, 131072, onGlibc)).toEqual({ A: '1', GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072' });
    expect(mallocTunedEnvironment({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, 4096, onGlibc)?.GLIBC_TUNABLES).toBe(
      'glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=4096',
    );
  });

  it('leaves the process as it is when the threshold is set already, kept at the default, or not glibc', () => {
    expect(mallocTunedEnvironment({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536' }, 131072, notAsked)).toBeUndefined();
    expect(mallocTunedEnvironment({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=1' }, 131072, notAsked)).toBeUndefined();
    expect(mallocTunedEnvironment({ MALLOC_MMAP_THRESHOLD_: '65536' }, 131072, notAsked)).toBeUndefined();
    expect(mallocTunedEnvironment({}, 0, notAsked)).toBeUndefined();
    expect(mallocTunedEnvironment({}, 131072, () => false)).toBeUndefined();
  });
});

describe('defaultMallocThreshold', () => {
  it("sits above the HTTP parser's 64 KiB body copies only where the free heap they leave can be trimmed", () => {
    expect(defaultMallocThreshold(true)).toBeGreaterThan(64 * 1024);
    expect(defaultMallocThreshold(false)).toBe(32 * 1024);
  });
});

describe('heapFloorArgs', () => {
  it("adds V8's old-generation floor unless the operator sized the heap (options or NODE_OPTIONS) or it is 0", () => {
    expect(heapFloorArgs(['--enable-source-maps'], undefined, 128)).toEqual(['--initial-old-space-size=128']);
    expect(heapFloorArgs(['--max-old-space-size=4096'], '--max-semi-space-size=8', 64)).toEqual(['--initial-old-space-size=64']);
    expect(heapFloorArgs(['--initial-old-space-size=512'], undefined, 128)).toEqual([]);
    expect(heapFloorArgs(['--initial_heap_size=256'], undefined, 128)).toEqual([]);
    expect(heapFloorArgs([], '--enable-source-maps  --initial-old-space-size=32', 128)).toEqual([]);
    expect(heapFloorArgs([], undefined, 0)).toEqual([]);
  });
});

describe('execWithMallocThreshold', () => {
  const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime !== undefined;
  const run = glibc && typeof process.execve === 'function' ? it : it.skip;

  run('re-executes the same process (same pid) once, with the threshold set', () => {
    const module = path.join(path.dirname(fileURLToPath(import.meta.url)), 'malloc-threshold.ts');
    const script = [
      `const before = process.env.GLIBC_TUNABLES ?? '-';`,
      `const { execWithMallocThreshold } = await import(${JSON.stringify(module)});`,
      `if (process.env.SEEN === undefined) { process.env.SEEN = String(process.pid); }`,
      `execWithMallocThreshold(65536);`,
      `console.log(JSON.stringify({ pid: process.pid, first: process.env.SEEN, tunables: process.env.GLIBC_TUNABLES, before, execArgv: process.execArgv }));`,
    ].join('\n');
    const env = { ...process.env, GLIBC_TUNABLES: 'glibc.malloc.arena_max=4' } as NodeJS.ProcessEnv;
    delete env.SEEN;
    delete env.MALLOC_MMAP_THRESHOLD_;
    const out = execFileSync(process.execPath, ['--experimental-strip-types', '--no-warnings', '--input-type=module', '-e', script], { env }).toString();
    const lines = out.trim().split('\n');
    // One line: the first run re-executed itself before printing; the second printed.
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]!) as { pid: number; first: string; tunables: string; before: string; execArgv: string[] };
    expect(String(result.pid)).toBe(result.first);
    expect(result.tunables).toBe('glibc.malloc.arena_max=4:glibc.malloc.mmap_threshold=65536');
    expect(result.before).toBe(result.tunables);
    // V8's old-generation floor, once (the re-executed process found it in its options and did not add it again).
    expect(result.execArgv.filter((a) => a.startsWith('--initial-old-space-size'))).toEqual(['--initial-old-space-size=128']);
  });
});
