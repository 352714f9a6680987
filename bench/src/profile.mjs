#!/usr/bin/env node
// CPU profiles of both processes under load (issue 13): starts the system with `--cpu-prof`, loads
// `POST <host>/query` (1,000 × 128 index, top_k 10, warm key) through the gateway with autocannon, stops the
// processes (the profiles are written at exit) and writes text summaries to bench/profiles/<label>-{gateway,store}.txt.
//   node bench/src/profile.mjs --label=after [--duration=10] [--connections=16]
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSystem } from '@conifer/test-utils';
import { makeDataset, queryBody, upsertBodies } from './data.mjs';
import { summarize } from './cpuprofile-summary.mjs';
import { json, request } from './util.mjs';
import autocannon from 'autocannon';

const option = (name, fallback) => process.argv.slice(2).find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const label = option('label', 'run');
const duration = Number(option('duration', 10));
const connections = Number(option('connections', 16));
const profDir = mkdtempSync(path.join(os.tmpdir(), 'conifer-prof-'));
const outDir = path.resolve(import.meta.dirname, '../profiles');
mkdirSync(outDir, { recursive: true });

const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
const system = await startSystem({ env: { CONIFER_LOG_LEVEL: 'warn', NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profDir}` } });
let requests = 0;
let window;
try {
  const projectId = await system.defaultProjectId();
  const apiKey = (await system.mintKey(projectId, ['ProjectEditor'])).value;
  const headers = { 'api-key': apiKey, 'content-type': 'application/json' };
  const created = await json(`${system.gatewayUrl}/indexes`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name: 'prof', dimension: 128, metric: 'cosine', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
  });
  const data = makeDataset({ n: 1000, dim: 128, seed: 1 });
  for (const { body } of upsertBodies(data)) await json(`${created.host}/vectors/upsert`, { method: 'POST', headers, body });
  const body = queryBody(data.makeQueries(1)[0], { topK: 10 });
  for (let i = 0; i < 500; i++) await request(`${created.host}/query`, { method: 'POST', headers, body });
  const startUs = Number(process.hrtime.bigint() / 1000n);
  const result = await autocannon({ url: `${created.host}/query`, method: 'POST', headers, body, connections, duration });
  window = [startUs, Number(process.hrtime.bigint() / 1000n)];
  requests = result.requests.total;
  process.stderr.write(`${label}: ${requests} requests in ${duration} s (${Math.round(requests / duration)} req/s), p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}; load average at start ${load}\n`);
} finally {
  await system.stop();
}
const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
const pidOf = (f) => Number(f.split('.')[3]);
const threadOf = (f) => Number(f.split('.')[4]);
for (const f of files) {
  const pid = pidOf(f);
  const process_ = pid === system.store.child.pid ? 'store' : system.gateways.some((g) => g.child.pid === pid) ? 'gateway' : `pid${pid}`;
  // Worker threads (the store's ANN builder, parse workers) write profiles of their own.
  const which = threadOf(f) === 0 ? process_ : `${process_}-thread${threadOf(f)}`;
  const text = summarize(path.join(profDir, f), {
    requests,
    window,
    label: `${which} under load (${label}): POST /query via the gateway, 1,000 × 128, top_k 10, ${connections} connections, ${duration} s; load average at start ${load}`,
  });
  writeFileSync(path.join(outDir, `${label}-${which}.txt`), text);
  process.stderr.write(`wrote bench/profiles/${label}-${which}.txt\n`);
}
