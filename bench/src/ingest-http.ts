#!/usr/bin/env -S node --experimental-strip-types
// Durable ingest over HTTP (issue 12 part 4): the same 768-d upsert bodies (the bench's dataset, as many records
// per body as the 2 MB request limit allows, 4 requests in flight, each acknowledged after the WAL fsync) sent
// straight to a store and through the gateway, for each parse-worker count, interleaved round by round so that a
// busy machine weighs on every variant alike. Besides vectors/s it reports the CPU each process spent per 1000
// vectors (/proc/<pid>/stat), which a shared machine disturbs far less than the rate. Not part of `npm run bench`.
//   npx turbo run build && DATABASE_URL=… REDIS_URL=… node --experimental-strip-types bench/src/ingest-http.ts
//     [--n=20000] [--rounds=2] [--workers=0,1] [--digits=4|17] [--base-store-main=<another build's dist/main.js>] [--unix-socket]
// --digits=17 prints values as float32 → double (what numpy float32 lists give: ~20 bytes a number, ~100
// records per body) instead of the bench's 4 decimals. --base-store-main adds a direct-to-store row for another
// build (e.g. the commit before a change), started with the same settings.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeDataset, startSystem, STORE_MAIN, upsertBodies, type System, type UpsertBody } from '@conifer/test-utils';
import { freePort, json, pool, request, sleep } from './util.ts';

const arg = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const N = Number(arg('n', '20000'));
const ROUNDS = Number(arg('rounds', '2'));
const WORKERS = arg('workers', '0,1').split(',').map(Number);
const DIGITS = Number(arg('digits', '4'));
const BASE_MAIN = arg('base-store-main', '');
// The gateway reaches the store over its Unix socket (CONIFER_VECTOR_STORE_SOCKETS) instead of loopback TCP.
const UNIX_SOCKET = process.argv.includes('--unix-socket');
const DIM = 768;
const IN_FLIGHT = 4;
const TOKEN = 'bench-internal-token-0123456789abcdef0123';

const load = (): string => os.loadavg().map((x) => x.toFixed(1)).join(' ');
const ticksOf = (file: string): number => {
  const fields = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
};
// The whole process (every thread: parse workers, the ANN build, libuv's fsyncs, GC helpers), and its main
// thread (the event loop) alone.
const ticks = (key: string, pid: number): number => (key.endsWith('loop') ? ticksOf(`/proc/${pid}/task/${pid}/stat`) : ticksOf(`/proc/${pid}/stat`));
const TICK_MS = 10; // USER_HZ 100

function bodiesFor(): UpsertBody[] {
  const data = makeDataset({ n: N, dim: DIM, seed: DIM });
  if (DIGITS === 4) return upsertBodies(data);
  // Full float32 → double text, bodies cut at the 2 MB limit like upsertBodies.
  const out: UpsertBody[] = [];
  let parts: string[] = [];
  let bytes = 20;
  const flush = () => {
    if (parts.length > 0) out.push({ count: parts.length, body: Buffer.from(`{"vectors":[${parts.join(',')}]}`) });
    parts = [];
    bytes = 20;
  };
  for (let j = 0; j < N; j++) {
    const record = `{"id":"v${j}","values":${JSON.stringify(Array.from(data.values.subarray(j * DIM, (j + 1) * DIM)))},"metadata":{"bucket":${data.bucket[j]}}}`;
    if (parts.length >= 1000 || bytes + record.length + 1 > 2 * 1024 * 1024 - 1024) flush();
    parts.push(record);
    bytes += record.length + 1;
  }
  flush();
  return out;
}

interface Sample {
  rate: number;
  cpu: Record<string, number>;
}

async function ingest(url: string, headers: Record<string, string>, bodies: UpsertBody[], pids: Record<string, number>): Promise<Sample> {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, ticks(k, pid)]));
  const t0 = performance.now();
  await pool(bodies.length, IN_FLIGHT, async (i) => {
    const response = await request(url, { method: 'POST', headers, body: bodies[i]!.body });
    if (response.status !== 200) throw new Error(`upsert → ${response.status} ${response.text.slice(0, 300)}`);
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, ((ticks(k, pid) - before[k]!) * TICK_MS * 1000) / N]));
  return { rate: N / seconds, cpu };
}

/** A store process of its own (no gateway) on an empty data directory. */
async function startStore(main: string, workers: number): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'conifer-ingest-'));
  const port = await freePort();
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH, NODE_ENV: 'test', CONIFER_DATA_DIR: dataDir, CONIFER_BIND: '127.0.0.1', CONIFER_VECTOR_STORE_PORT: String(port), CONIFER_INTERNAL_TOKEN: TOKEN, CONIFER_LOG_LEVEL: 'warn', CONIFER_PARSE_WORKERS: String(workers) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if ((await request(`${url}/healthz`).catch(() => ({ status: 0 }))).status === 200) break;
    if (i > 300) throw new Error('store did not start');
    await sleep(100);
  }
  return {
    url,
    child,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const bodies = bodiesFor();
const perBody = N / bodies.length;
console.log(`${N} × ${DIM} vectors in ${bodies.length} bodies (${perBody.toFixed(0)} per body, ${(bodies[0]!.body.length / 1e6).toFixed(2)} MB, values with ${DIGITS === 4 ? '4 decimals' : 'float32 → double digits'}), ${IN_FLIGHT} in flight, ${ROUNDS} rounds${UNIX_SOCKET ? ', gateway → store over a Unix socket' : ''}; node ${process.version}; load ${load()}`);

const rows: Record<string, Sample[]> = {};
const add = (name: string, s: Sample) => {
  (rows[name] ??= []).push(s);
  console.log(`  ${name}: ${Math.round(s.rate)} vectors/s; CPU ms per 1000 vectors ${Object.entries(s.cpu).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}; load ${load()}`);
};

const systems = new Map<number, System>();
const keys = new Map<number, Record<string, string>>();
for (const w of WORKERS) {
  const system = await startSystem({ unixSocket: UNIX_SOCKET, env: { CONIFER_LOG_LEVEL: 'warn', CONIFER_PARSE_WORKERS: String(w) } });
  systems.set(w, system);
  keys.set(w, { 'api-key': (await system.mintKey(await system.defaultProjectId(), ['ProjectEditor'])).value });
}
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const w of WORKERS) {
      // Direct to a store process of its own, then through the gateway (a fresh index each time).
      const variants: [string, string][] = [[`direct, new, ${w} parse workers`, STORE_MAIN]];
      if (BASE_MAIN !== '' && round === 0 && w === WORKERS[0]) variants.push([`direct, base build, ${w} parse workers`, path.resolve(BASE_MAIN)]);
      for (const [name, main] of variants) {
        const store = await startStore(main, w);
        const id = `ingest${round}`;
        await request(`${store.url}/internal/indexes/${id}`, { method: 'PUT', headers: { 'x-conifer-internal-token': TOKEN }, body: JSON.stringify({ dimension: DIM, metric: 'cosine', vectorType: 'dense' }) });
        add(name, await ingest(`${store.url}/internal/indexes/${id}/vectors/upsert`, { 'x-conifer-internal-token': TOKEN }, bodies, { store: store.child.pid!, 'store loop': store.child.pid! }));
        await store.stop();
      }
      const system = systems.get(w)!;
      const headers = keys.get(w)!;
      const name = `ing${round}w${w}`;
      const created = await json(`${system.gatewayUrl}/indexes`, { method: 'POST', headers, body: JSON.stringify({ name, dimension: DIM, metric: 'cosine', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }) });
      add(`gateway, ${w} parse workers`, await ingest(`${created.host}/vectors/upsert`, headers, bodies, { gateway: system.gateways[0]!.child.pid!, store: system.store.child.pid!, 'store loop': system.store.child.pid! }));
      await request(`${system.gatewayUrl}/indexes/${name}`, { method: 'DELETE', headers });
    }
  }
} finally {
  for (const system of systems.values()) await system.stop();
}
console.log(`\nevery round (load at the end ${load()}):`);
const each = (xs: number[], digits = 0) => xs.map((x) => x.toFixed(digits)).join(' / ');
for (const [name, samples] of Object.entries(rows)) {
  const cpuKeys = Object.keys(samples[0]!.cpu);
  console.log(`| ${name} | ${each(samples.map((s) => s.rate))} vectors/s | ${cpuKeys.map((k) => `${k} ${each(samples.map((s) => s.cpu[k]!))} ms`).join(', ')} CPU per 1000 vectors |`);
}
