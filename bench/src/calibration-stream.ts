#!/usr/bin/env -S node --experimental-strip-types
// Session 13: is the breadth calibration's optimism at 1M × 128 the method's or the bench data's? The
// calibration asks the graph with stored-kind records it does not hold (the held-back backlog); the bench's queries
// come from another stream of the generator. Here both kinds, 1000 each, ask the same store graph (an ingested data
// directory, DurableIndex.load) at several breadth multipliers: `fresh` = the bench's queries (makeQueries), `unseen`
// = the next 1000 vectors of the data stream (makeDataset with n + 1000: never ingested). Truth: usearch exact top 10
// over the n stored vectors, the same way for both.
//   node --experimental-strip-types --max-old-space-size=8192 bench/src/calibration-stream.ts --data-dir=<dir> [--n=1000000] [--dim=128] [--scales=0.75,1,1.5]
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeDataset, queryBody } from '@conifer/test-utils';
import { DEFAULT_DURABLE_OPTIONS, DurableIndex, readQueryBody } from '@conifer/vector-store';
import { pino } from 'pino';
import usearch from 'usearch';
import { commandLine } from './util.ts';

const { flags } = commandLine();
const n = Number(flags.n ?? 1_000_000);
const dim = Number(flags.dim ?? 128);
const count = 1000;
const scales = (flags.scales ?? '0.75,1,1.5').split(',').map(Number);
const log = (text: string): void => void process.stderr.write(`${text}\n`);

const data = makeDataset({ n: n + count, dim, seed: dim }); // as bench-data.ts makes them
const sets: Record<string, Float32Array[]> = {
  fresh: data.makeQueries(count),
  unseen: Array.from({ length: count }, (_, i) => data.values.slice((n + i) * dim, (n + i + 1) * dim)),
};
const stored = data.values.slice(0, n * dim);
const truth: Record<string, Set<string>[]> = {};
for (const [name, queries] of Object.entries(sets)) {
  truth[name] = [];
  for (let at = 0; at < count; at += 50) {
    const batch = new Float32Array(50 * dim);
    for (let i = 0; i < 50; i++) batch.set(queries[at + i]!, i * dim);
    const result = usearch.exactSearch(stored, batch, dim, 10, 'cos' as never, 0) as unknown as { keys: BigUint64Array };
    for (let i = 0; i < 50; i++) truth[name]!.push(new Set(Array.from(result.keys.subarray(i * 10, i * 10 + 10), (k) => `v${k}`)));
  }
  log(`${name}: exact answers ready`);
}

const work = mkdtempSync(path.join(os.tmpdir(), 'cal-stream-'));
cpSync(flags['data-dir']!, work, { recursive: true });
const index = await DurableIndex.load('bench', path.join(work, 'vector-store/indexes/bench'), DEFAULT_DURABLE_OPTIONS, pino({ level: 'silent' }));
const ns = index.index.namespaces.get('')!;
const calibrated = ns.annCalibration;
log(`graph ${ns.ann!.size} nodes, calibrated ×${calibrated?.scale} (estimate ${calibrated?.recall})`);
for (const scale of scales) {
  ns.setAnnCalibration({ scale, recall: calibrated?.recall ?? 0, size: calibrated?.size ?? ns.ann!.size });
  const line: string[] = [];
  for (const [name, queries] of Object.entries(sets)) {
    let hits = 0;
    for (let i = 0; i < count; i++) {
      const result = index.index.query(readQueryBody(Buffer.from(queryBody(queries[i]!))).request);
      hits += result.matches.filter((m) => truth[name]![i]!.has(m.id)).length;
    }
    line.push(`${name} ${(hits / (count * 10)).toFixed(4)}`);
  }
  log(`×${scale}: recall@10 ${line.join(', ')}`);
}
await index.close();
rmSync(work, { recursive: true, force: true });
