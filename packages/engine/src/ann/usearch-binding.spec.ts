// The two usearch bindings (Conifer's compiled one, usearch's prebuilt one) on the same graphs: each reads the other's
// files and both answer every query with the same slots in the same order; and where the package's build says it
// compiled the binding, that binding is the one in use (a build that compiles but does not load must not pass
// unnoticed by falling back).
import { existsSync, fstatSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { clusteredRecords } from '@conifer/test-utils';
import { DEFAULT_ANN_PARAMS, type FileChecksum, UsearchAnn } from './usearch-ann.js';
import { annBinding, hugePageAdvice, jsonFloat32ArrayScan, selectAnnBinding, type AnnBindingKind } from './usearch-binding.js';

const dim = 48;
const n = 4000;
const records = clusteredRecords(n, dim, 31);
const values = new Float32Array(n * dim);
records.forEach((r, i) => values.set(r.values, i * dim));
const slots = Int32Array.from({ length: n }, (_, i) => i * 3 + 1);
const queries = clusteredRecords(25, dim, 32).map((r) => Float32Array.from(r.values));
const status = fileURLToPath(new URL('../../native/build/status.json', import.meta.url));
const checksumOf = (file: string): FileChecksum => {
  const bytes = readFileSync(file);
  return { bytes: bytes.length, crc32: crc32(bytes) };
};

describe('usearch bindings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conifer-binding-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => void selectAnnBinding('compiled'));

  it('uses the compiled binding wherever the build made it', () => {
    const built = existsSync(status) && (JSON.parse(readFileSync(status, 'utf8')) as { built: boolean }).built;
    const binding = selectAnnBinding('compiled');
    if (built) {
      expect(binding.fallbackReason).toBeUndefined();
      expect(binding.kind).toBe('compiled');
    } else {
      expect(binding.kind).toBe('prebuilt');
      expect(binding.fallbackReason).toEqual(expect.any(String));
    }
    expect(selectAnnBinding('prebuilt').kind).toBe('prebuilt');
    expect(annBinding().kind).toBe('prebuilt');
  });

  it.each([
    ['compiled', 'prebuilt'],
    ['prebuilt', 'compiled'],
  ] as [AnnBindingKind, AnnBindingKind][])('a graph built and saved by the %s binding is viewed, loaded and searched alike by both', async (builder, other) => {
    selectAnnBinding(builder);
    const graph = new UsearchAnn('cosine', dim);
    graph.add(slots, values, 2);
    const file = join(dir, `${builder}.usearch`);
    graph.save(file);
    const answers = queries.map((q) => Array.from(graph.search(q, 40)));
    for (const kind of [builder, other]) {
      selectAnnBinding(kind);
      const viewedAsync = await UsearchAnn.viewAsync(file, 'cosine', dim, graph.params, 1);
      for (const opened of [UsearchAnn.view(file, 'cosine', dim, graph.params, 1), viewedAsync, UsearchAnn.load(file, 'cosine', dim, graph.params, 1)]) {
        expect(opened.size).toBe(n);
        expect(queries.map((q) => Array.from(opened.search(q, 40)))).toEqual(answers);
      }
    }
    // The answers are the graph's (keys back to slots), not an empty or constant list.
    const known = new Set(slots);
    expect(answers.every((a) => a.length === 40 && a.every((s) => known.has(s)))).toBe(true);
    expect(new Set(answers.map((a) => a[0])).size).toBeGreaterThan(5);
  });

  // The compiled binding's insert walk loads ahead (native/build.ts): loads only, so one thread inserting the same rows
  // must build the very graph usearch's own binary builds.
  it('builds, on one thread, the same graph file as the prebuilt binding', () => {
    const files = (['compiled', 'prebuilt'] as AnnBindingKind[]).map((kind) => {
      selectAnnBinding(kind);
      const graph = new UsearchAnn('cosine', dim);
      graph.add(slots, values, 1);
      const file = join(dir, `one-thread-${kind}.usearch`);
      graph.save(file);
      return readFileSync(file);
    });
    expect(files[0]!.length).toBeGreaterThan(n * dim);
    expect(files[0]!.equals(files[1]!)).toBe(true);
  });

  // Linux 6.16 caches ext4 files in large folios; the compiled binding's viewAsync drops the 4 KB pages the writer left
  // and reads the file back through a mapping advised for huge pages (native/build.ts). Elsewhere (another kernel or
  // file system, THP off) the view works on 4 KB pages and this is skipped.
  const [major = 0, minor = 0] = release().split('.').map(Number);
  const EXT4 = 0xef53;
  const hugePages =
    annBinding().kind === 'compiled' &&
    (major > 6 || (major === 6 && minor >= 16)) &&
    statfsSync(tmpdir()).type === EXT4 &&
    !readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8').includes('[never]');
  (hugePages ? it : it.skip)('maps a saved graph in 2 MB pages with viewAsync where the kernel can', async () => {
    selectAnnBinding('compiled');
    const big = 40_000;
    const graph = new UsearchAnn('cosine', dim);
    graph.add(Int32Array.from({ length: big }, (_, i) => i), Float32Array.from({ length: big * dim }, (_, i) => Math.sin(i * 0.37)), 2);
    // Saved twice: each file's pages are cached as the writer left them (4 KB).
    const [plain, huge] = ['plain', 'huge'].map((name) => join(dir, `${name}.usearch`));
    graph.save(plain!);
    graph.save(huge!);
    /** kB of the file's mapping mapped by 2 MB entries (its FilePmdMapped in smaps); -1: not mapped. */
    const filePmd = (file: string): number => {
      const smaps = readFileSync('/proc/self/smaps', 'utf8');
      const at = smaps.indexOf(file);
      return at < 0 ? -1 : Number(/FilePmdMapped:\s+(\d+) kB/.exec(smaps.slice(at))?.[1]);
    };
    const synchronous = UsearchAnn.view(plain!, 'cosine', dim, graph.params, 1);
    expect(filePmd(plain!)).toBe(0);
    const viewed = await UsearchAnn.viewAsync(huge!, 'cosine', dim, graph.params, 1);
    expect(filePmd(huge!)).toBeGreaterThanOrEqual(2048);
    expect(viewed.size).toBe(big);
    for (const q of queries) expect(viewed.search(q, 20)).toEqual(synchronous.search(q, 20));
    // Checked on the way in: the check's read leaves the file cached in 2 MB folios, which the view then maps.
    const checkedFile = join(dir, 'checked.usearch');
    graph.save(checkedFile);
    const checked = await UsearchAnn.viewAsync(checkedFile, 'cosine', dim, graph.params, 1, checksumOf(checkedFile));
    expect(filePmd(checkedFile)).toBeGreaterThanOrEqual(2048);
    for (const q of queries) expect(checked.search(q, 20)).toEqual(synchronous.search(q, 20));
  });

  it('views a graph only if it has the size and CRC-32 given (compiled binding), or refuses to be asked (prebuilt)', async () => {
    const graph = new UsearchAnn('cosine', dim);
    graph.add(slots, values, 2);
    const file = join(dir, 'checked.usearch');
    graph.save(file);
    const saved = checksumOf(file);
    selectAnnBinding('prebuilt');
    expect(UsearchAnn.viewChecksFiles()).toBe(false);
    await expect(UsearchAnn.viewAsync(file, 'cosine', dim, graph.params, 1, saved)).rejects.toThrow('cannot check');
    if (selectAnnBinding('compiled').kind !== 'compiled') return; // the binding was not compiled here
    expect(UsearchAnn.viewChecksFiles()).toBe(true);
    const viewed = await UsearchAnn.viewAsync(file, 'cosine', dim, graph.params, 1, saved);
    expect(queries.map((q) => Array.from(viewed.search(q, 40)))).toEqual(queries.map((q) => Array.from(graph.search(q, 40))));
    await expect(UsearchAnn.viewAsync(file, 'cosine', dim, graph.params, 1, { ...saved, crc32: (saved.crc32 + 1) >>> 0 })).rejects.toThrow(
      'graph file does not match its checksum',
    );
    await expect(UsearchAnn.viewAsync(file, 'cosine', dim, graph.params, 1, { ...saved, bytes: saved.bytes + 1 })).rejects.toThrow('graph file has the wrong size');
    // One byte of a node flipped (a torn or damaged file): refused before usearch parses it.
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(file, bytes);
    await expect(UsearchAnn.viewAsync(file, 'cosine', dim, graph.params, 1, saved)).rejects.toThrow('graph file does not match its checksum');
  });

  it('fails to view a missing file with an error and closes no descriptor it did not open', async () => {
    selectAnnBinding('compiled');
    const missing = join(dir, 'missing.usearch');
    // usearch's own mapped file closed descriptor 0 (stdin) when its open failed; the compiled binding is patched.
    const stdin = fstatSync(0);
    expect(() => UsearchAnn.view(missing, 'cosine', dim, DEFAULT_ANN_PARAMS, 1)).toThrow();
    await expect(UsearchAnn.viewAsync(missing, 'cosine', dim, DEFAULT_ANN_PARAMS, 1)).rejects.toThrow();
    if (annBinding().kind === 'compiled') expect(fstatSync(0).ino).toBe(stdin.ino);
  });

  it('refuses rows that do not match the slots, before either binding reads past them', () => {
    for (const kind of ['compiled', 'prebuilt'] as const) {
      selectAnnBinding(kind);
      const graph = new UsearchAnn('euclidean', dim);
      expect(() => graph.add(slots.subarray(0, 10), values.subarray(0, 9 * dim))).toThrow(/10 slots need 480 values, not 432/);
    }
  });

  it("advises 2 MB pages over a buffer's whole huge pages (compiled binding), which the kernel then faults in as such", () => {
    const built = existsSync(status) && (JSON.parse(readFileSync(status, 'utf8')) as { built: boolean }).built;
    const advise = hugePageAdvice();
    if (!built) return expect(advise).toBeUndefined();
    expect(() => advise!(5 as unknown as ArrayBuffer)).toThrow(/expects an ArrayBuffer/);
    // No whole 2 MB page inside: nothing to advise.
    expect(advise!(new ArrayBuffer(4096))).toBe(false);
    const thp = '/sys/kernel/mm/transparent_hugepage/enabled';
    const mode = existsSync(thp) ? /\[(\w+)\]/.exec(readFileSync(thp, 'utf8'))?.[1] : undefined;
    // 40 MB: above the largest mmap threshold glibc's default grows to (32 MB), so a mapping of its own, untouched until
    // filled, as the store's 12 MB chunks are under its fixed threshold; in this process a smaller buffer may reuse
    // heap pages an earlier test touched (4 KB pages already).
    const chunk = new Float32Array(10 * 2 ** 20);
    const advised = advise!(chunk.buffer);
    // Where the kernel has transparent huge pages off, or none at all, there is nothing to check.
    if (mode !== 'madvise') return;
    expect(advised).toBe(true);
    const anonHuge = (): number => Number(/AnonHugePages:\s+(\d+)/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1] ?? 0) * 1024;
    // The kernel's count of huge pages given at a fault (monotonic: a huge page this process frees meanwhile, which
    // lowers AnonHugePages, does not hide ours; CI once saw a delta of 0 in AnonHugePages here and could not say why).
    const hugeFaults = (): number => Number(/^thp_fault_alloc (\d+)/m.exec(readFileSync('/proc/vmstat', 'utf8'))?.[1] ?? 0);
    const before = anonHuge();
    const faultsBefore = hugeFaults();
    chunk.fill(1);
    // 19 or 20 whole 2 MB pages, as the mapping's alignment falls; the kernel may fall back to 4 KB pages when it has
    // no free 2 MB block (fragmented memory), which a development or CI machine with free memory does not.
    const seen = { anonHugeBytes: anonHuge() - before, hugeFaults: hugeFaults() - faultsBefore };
    expect(seen.anonHugeBytes >= 36 * 2 ** 20 || seen.hugeFaults >= 18 ? 'huge pages' : seen).toBe('huge pages');
  });

  it('scans a JSON array of numbers into float32 as Math.fround(JSON.parse(...)) does (compiled binding), and leaves what it does not take', () => {
    const built = existsSync(status) && (JSON.parse(readFileSync(status, 'utf8')) as { built: boolean }).built;
    const scan = jsonFloat32ArrayScan();
    if (!built) return expect(scan).toBeUndefined();
    const bits = (a: ArrayLike<number>): number[] => Array.from(new Uint32Array(Float32Array.from(a).buffer));
    const split = (read: number): { count: number; end: number } => ({ count: Math.floor(read / 2 ** 32), end: read % 2 ** 32 });
    // Views at an offset on both sides: the scan reads and writes from the views' starts, not their buffers'.
    const text = 'xx[ 0.5 , -0, 1e-3,0.1234,-17.25e2 ,12345678901234567890,0.30000001192092896,3.4028234e38 ]yy';
    const backing = new Uint8Array(text.length + 1);
    backing.set(Buffer.from(text), 1);
    const bytes = backing.subarray(1);
    const out = new Float32Array(new ArrayBuffer(64), 8, 10);
    const want = JSON.parse(text.slice(2, -2)) as number[];
    expect(split(scan!(bytes, 2, out, 1))).toEqual({ count: want.length, end: text.length - 2 });
    expect(bits(out.subarray(1, 1 + want.length))).toEqual(bits(want.map(Math.fround)));
    expect(Object.is(out[2], -0)).toBe(true);
    expect(new Float32Array(out.buffer, 0, 2)).toEqual(new Float32Array(2));
    // Digit runs longer than one 8-byte load, past 19 digits, leading zeros that push a nonzero digit past the 19 kept,
    // and numbers that end at the buffer's end (no 8 bytes left to load).
    const long = ['123456789.123456789', '0.1234567890123456789012345', '0.00000000000000000000012', '-0.0000000000000000000000000', '98765432109876543210.5', '1.00000000000000000000000000001'];
    for (const t of long) {
      const single = new Float32Array(1);
      expect([t, split(scan!(Buffer.from(`[${t}]`), 0, single, 0))]).toEqual([t, { count: 1, end: t.length + 2 }]);
      expect([t, bits(single)]).toEqual([t, bits([Math.fround(JSON.parse(t) as number)])]);
    }
    expect(split(scan!(Buffer.from('[]'), 0, out, 0))).toEqual({ count: 0, end: 2 });
    expect(split(scan!(Buffer.from('[\n]'), 0, out, 10))).toEqual({ count: 0, end: 3 });
    // Not taken: no room, JSON errors, numbers that are not finite float32s, an underflow it leaves to the caller,
    // an array that is not one, a start outside the bytes.
    expect(scan!(Buffer.from('[1,2,3]'), 0, out, 8)).toBe(-1);
    expect(split(scan!(Buffer.from('[1,2]'), 0, out, 8))).toEqual({ count: 2, end: 5 });
    for (const t of ['[1,]', '[,1]', '[01]', '[1.]', '[.5]', '[+1]', '[1e]', '[-]', '[1 2]', '[1', '[1,', '[NaN]', '[1e39]', '[-3.5e38]', '[1e400]', '["1"]', '[[1]]', '1', '{}'])
      expect([t, scan!(Buffer.from(t), 0, out, 0)]).toEqual([t, -1]);
    expect(scan!(Buffer.from('[1]'), 3, out, 0)).toBe(-1);
    expect(scan!(Buffer.from('[1]'), 0, out, 11)).toBe(-1);
    expect(() => scan!([1] as unknown as Uint8Array, 0, out, 0)).toThrow(/expects/);
    expect(() => scan!(Buffer.from('[1]'), 0, new Float64Array(2) as unknown as Float32Array, 0)).toThrow(/expects/);
    // Random float32s printed as doubles and as short decimals: every one read by the binding, bit for bit.
    let seed = 7;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const numbers = Array.from({ length: 20_000 }, (_, i) => {
      const x = Math.fround((random() - 0.5) * 2 ** Math.floor(random() * 80 - 40));
      return i % 2 === 0 ? JSON.stringify(x) : x.toFixed(Math.floor(random() * 6));
    });
    const many = new Float32Array(numbers.length);
    const read = split(scan!(Buffer.from(`[${numbers.join(',')}]`), 0, many, 0));
    expect(read.count).toBe(numbers.length);
    expect(bits(many)).toEqual(bits(numbers.map((t) => Math.fround(JSON.parse(t) as number))));
  });
});
