#!/usr/bin/env -S node --experimental-strip-types
// A snapshot's graph at the store's start (issue 12 part 1): before session 17 the store read the file for its CRC-32
// on the event loop, then `viewAsync` dropped the file's page cache and read it back through a mapping advised for
// huge pages; now the compiled binding's `viewAsync` checks the CRC on that one read. This tool times both ways on
// one saved graph, rounds alternating, each starting from the page cache a previous view left (as a restart on the
// same machine finds it): wall time to a searchable index, and the calling thread's CPU (the event loop's share).
// Not part of `npm test` or `npm run bench`.
//   node --experimental-strip-types bench/src/graph-start-read.ts <graph file> <dim> [--rounds=4]
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import os from 'node:os';
import { crc32 } from 'node:zlib';
import { DEFAULT_ANN_PARAMS, UsearchAnn } from '@conifer/engine';
import { commandLine, median } from './util.ts';

const { args, flags } = commandLine();
const [file, dimArg] = args;
if (dimArg === undefined) throw new Error('usage: graph-start-read.ts <graph file> <dim>');
const DIM = Number(dimArg);
const ROUNDS = Number(flags.rounds ?? 4);
if (!UsearchAnn.viewChecksFiles()) throw new Error('the compiled binding is not built: nothing to compare');

const bytes = statSync(file!).size;

/** The store's CRC pass before session 17 (and still with usearch's prebuilt binding): 8 MB reads on the calling thread. */
function crcPass(): number {
  const fd = openSync(file!, 'r');
  const buffer = Buffer.allocUnsafe(8 << 20);
  let sum = 0;
  for (let at = 0; ; ) {
    const n = readSync(fd, buffer, 0, buffer.length, at);
    if (n === 0) break;
    sum = crc32(buffer.subarray(0, n), sum);
    at += n;
  }
  closeSync(fd);
  return sum;
}

const ways: Record<string, () => Promise<UsearchAnn>> = {
  'CRC pass, then view': async () => {
    if (crcPass() !== expected.crc32) throw new Error('the file changed');
    return UsearchAnn.viewAsync(file!, 'cosine', DIM, DEFAULT_ANN_PARAMS, 1);
  },
  'view checking the CRC': () => UsearchAnn.viewAsync(file!, 'cosine', DIM, DEFAULT_ANN_PARAMS, 1, expected),
};
const expected = { bytes, crc32: crcPass() };
const wall: Record<string, number[]> = {};
const cpu: Record<string, number[]> = {};
await ways['view checking the CRC']!(); // the page cache as a view leaves it
for (let round = 0; round < ROUNDS; round++) {
  const names = Object.keys(ways);
  for (const name of round % 2 === 0 ? names : names.reverse()) {
    const t0 = performance.now();
    const c0 = process.threadCpuUsage();
    const ann = await ways[name]!();
    const c1 = process.threadCpuUsage(c0);
    (wall[name] ??= []).push(performance.now() - t0);
    (cpu[name] ??= []).push((c1.user + c1.system) / 1000);
    if (ann.size === 0) throw new Error('empty graph');
  }
}
const line = (name: string): string =>
  `${name}: wall ${median(wall[name]!).toFixed(0)} ms [${wall[name]!.map((v) => v.toFixed(0)).join(', ')}], calling thread's CPU ${median(cpu[name]!).toFixed(0)} ms`;
process.stdout.write(`${file} (${(bytes / 2 ** 30).toFixed(2)} GiB), ${ROUNDS} rounds, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}\n${Object.keys(ways).map(line).join('\n')}\n`);
