#!/usr/bin/env -S node --experimental-strip-types
// The store's own query path at 768 dimensions (issue 13): one store process per build (this tree's, and another
// build's for a before/after), each on its own copy of one data directory (n × dim from BENCH_DATA_DIR, ingested
// and graph-built once), queried one request at a time over HTTP (the bench's client) and over the framed
// protocol the gateway uses (@conifer/store-client, protocol 'frames'), the builds and paths interleaved query by
// query; then each build at a fixed request rate for the CPU per request (/proc, net of the idle background).
//   node --experimental-strip-types bench/src/store-query.ts [--n=100000] [--dim=768] [--queries=200] [--rounds=5]
//     [--base-store-main=<another build's apps/vector-store/dist/main.js>] [--rate=200] [--rate-seconds=8]
//     [--data-dir=<reuse an ingested store directory>] [--no-bare] [--no-rate] [--cpu-prof=<label>] [--filter=10|1]
// --filter: every query with the bench's 10 % (`bucket = 3`) or 1 % (`centile = 42`) filter.
// --no-bare: without the bare node:http server (bare-store.ts: the same parser, engine and printer, no Fastify);
// --no-rate: without the fixed-rate CPU passes.
// --cpu-prof=<label>: every server runs with --cpu-prof (100 µs sampling); their profiles over the sequential
// window only are summarized to bench/profiles/<label>-<this|base|bare>.txt (per query: the window's queries to that
// process, both its paths).
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { queryBody } from '@conifer/test-utils';
import { VectorStoreClient } from '@conifer/store-client';
import { benchData, namedFilter } from './bench-data.ts';
import { summarize } from './cpuprofile-summary.ts';
import { load, Store } from './store-process.ts';
import { cpuSeconds, freePort, percentile, request, sleep } from './util.ts';

const argv = process.argv.slice(2);
const option = (name: string, fallback: string | number): string => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? String(fallback);
const n = Number(option('n', 100_000));
const dim = Number(option('dim', 768));
const queryCount = Number(option('queries', 200));
const rounds = Number(option('rounds', 5));
const rate = Number(option('rate', 200));
const rateSeconds = Number(option('rate-seconds', 8));
const baseMain = option('base-store-main', '');
const thisMain = path.resolve(import.meta.dirname, '../../apps/vector-store/dist/main.js');
const profLabel = option('cpu-prof', '');
const profArgs = (name: string): string[] => (profLabel === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.join(work, `prof-${name}`)}`, '--cpu-prof-interval=100']);

const log = (text: string): void => void process.stderr.write(`${text}\n`);
const data = benchData(n, dim, queryCount, 'bench');
const { filter } = namedFilter(option('filter', ''));
const bodies = data.queries.map((q) => queryBody(q, { filter }));
const work = mkdtempSync(path.join(os.tmpdir(), 'conifer-store-query-'));
let dataDir = option('data-dir', '');
const stores: { name: string; store: Store; client: VectorStoreClient }[] = [];
let bare: { child: ChildProcess; url: string } | undefined;
let profWindow: { window: [number, number]; queries: Record<string, number>; load: string } | undefined;

try {
  if (dataDir === '' || !existsSync(dataDir)) {
    dataDir ||= path.join(work, 'data');
    const seed = new Store(thisMain, dataDir, await freePort());
    await seed.start();
    log(`ingesting ${n} × ${dim} (${data.bodyCount} bodies) into ${dataDir}, load ${load()}`);
    await seed.ingest(dim, data.bodyCount, (i) => data.body(i).body);
    for (;;) {
      const m = await seed.metrics();
      if (m.annPending === 0) break;
      await sleep(1000);
    }
    // The graph saved with a snapshot: every copy starts from it.
    await seed.post('/snapshot', '');
    await seed.stop();
    log(`ingested and built, load ${load()}`);
  }
  const builds = [{ name: 'this', main: thisMain }, ...(baseMain === '' ? [] : [{ name: 'base', main: path.resolve(baseMain) }])];
  for (const build of builds) {
    const dir = path.join(work, `copy-${build.name}`);
    cpSync(dataDir, dir, { recursive: true });
    const store = new Store(build.main, dir, await freePort(), profArgs(build.name));
    await store.start();
    for (;;) {
      if ((await store.metrics()).annPending === 0) break;
      await sleep(500);
    }
    // Without the profiler only: its sampling thread counts in the process's CPU.
    const waited = await store.quiet(profLabel === '' ? 0.03 : Infinity);
    // The breadth it plans with (a restored store may have calibrated again: another breadth than the bare server's).
    log(`  ${build.name} quiet after ${waited.toFixed(0)} s of start-up work, breadth multiplier ${await store.breadthScale()}; load ${load()}`);
    const client = new VectorStoreClient({ url: store.url, internalToken: store.headers['x-conifer-internal-token'], timeoutMs: 30_000, protocol: 'frames', framedConnections: 1 });
    stores.push({ name: build.name, store, client });
  }
  // The same query answered by a bare node:http server with the store's parser, engine and printer (bare-store.ts).
  if (!argv.includes('--no-bare')) {
    const dir = path.join(work, 'copy-bare');
    cpSync(dataDir, dir, { recursive: true });
    const port = await freePort();
    const child = spawn(process.execPath, [...profArgs('bare'), '--experimental-strip-types', '--no-warnings', path.join(import.meta.dirname, 'bare-store.ts'), path.join(dir, 'vector-store/indexes/bench'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
    });
    bare = { child, url: `http://127.0.0.1:${port}` };
  }
  const framed = async (client: VectorStoreClient, body: string): Promise<{ ms: number; text: string; status: number }> => {
    const t0 = process.hrtime.bigint();
    const r = await client.forwardStreaming('bench', { method: 'POST', path: '/query', body, contentType: 'application/json' });
    const bytes = r.whole ?? (await r.bytes());
    return { ms: Number(process.hrtime.bigint() - t0) / 1e6, text: bytes.toString('utf8'), status: r.status };
  };
  type Path = { label: string; run: (body: string) => Promise<{ ms: number; text: string; status: number }> };
  const paths: Path[] = [];
  for (const s of stores) {
    const url = `${s.store.url}/internal/indexes/bench/query`;
    paths.push({ label: `${s.name} http`, run: (body) => request(url, { method: 'POST', headers: s.store.headers, body }) });
    paths.push({ label: `${s.name} frames`, run: (body) => framed(s.client, body) });
  }
  if (bare !== undefined) {
    const url = `${bare.url}/internal/indexes/bench/query`;
    paths.push({ label: 'bare http', run: (body) => request(url, { method: 'POST', body }) });
  }
  // Warm-up, and the answers of the builds compared.
  for (let i = 0; i < Math.min(50, bodies.length); i++) {
    const answers = [];
    for (const p of paths) {
      const r = await p.run(bodies[i]!);
      if (r.status !== 200) throw new Error(`${p.label}: ${r.status} ${r.text.slice(0, 200)}`);
      answers.push(JSON.parse(r.text).matches.map((m: { id: string }) => m.id).join(','));
    }
    if (new Set(answers).size !== 1) log(`  note: query ${i} answered differently: ${answers.join(' | ')}`);
  }
  log(`sequential: ${rounds} rounds × ${bodies.length} queries, paths interleaved query by query; load ${load()}`);
  const times: Record<string, number[]> = Object.fromEntries(paths.map((p) => [p.label, []]));
  // The window in the monotonic clock's µs (what a --cpu-prof profile's timestamps use: cpuprofile-summary.ts's window).
  const windowStart = Number(process.hrtime.bigint() / 1000n);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < bodies.length; i++) {
      // The order rotates every query so that no path always follows another.
      for (let k = 0; k < paths.length; k++) {
        const p = paths[(i + k) % paths.length]!;
        times[p.label]!.push((await p.run(bodies[i]!)).ms);
      }
    }
  }
  const windowEnd = Number(process.hrtime.bigint() / 1000n);
  log(`  sequential window (monotonic µs, for profiles): ${windowStart} ${windowEnd}`);
  const perProcess: Record<string, number> = {};
  for (const p of paths) perProcess[p.label.split(' ')[0]!] = (perProcess[p.label.split(' ')[0]!] ?? 0) + times[p.label]!.length;
  profWindow = { window: [windowStart, windowEnd], queries: perProcess, load: load() };
  for (const p of paths) {
    const t = times[p.label]!;
    log(`  ${p.label.padEnd(12)} p50 ${percentile(t, 50).toFixed(3)} ms, p90 ${percentile(t, 90).toFixed(3)} ms, p99 ${percentile(t, 99).toFixed(3)} ms`);
  }
  if (bare !== undefined) {
    const engine = JSON.parse((await request(`${bare.url}/engine`)).text) as { count: number; p50Ms: number; p90Ms: number; parseP50Ms: number; renderP50Ms: number };
    log(`  engine alone (timed in the bare server, same queries, same rounds, warm-up included): p50 ${engine.p50Ms.toFixed(3)} ms, p90 ${engine.p90Ms.toFixed(3)} ms over ${engine.count} queries`);
    log(`  around it in the bare server: body read (readQueryBody) p50 ${engine.parseP50Ms.toFixed(3)} ms, answer printed (renderQueryResult) p50 ${engine.renderP50Ms.toFixed(3)} ms`);
    for (const p of paths) log(`  ${p.label.padEnd(12)} over the engine: p50 ${(percentile(times[p.label]!, 50) - engine.p50Ms).toFixed(3)} ms`);
  }
  const rated = !argv.includes('--no-rate');
  // CPU per request at a fixed rate (open loop: one query every 1/rate s, whatever the answers' latency).
  if (rated) log(`fixed rate ${rate} req/s, ${rateSeconds} s per path, CPU per request of the server (/proc, net of the idle background); load ${load()}`);
  const pidOf = (label: string): number => (label.startsWith('bare') ? bare!.child.pid! : stores.find((s) => label.startsWith(`${s.name} `))!.store.pid);
  for (let pass = 0; rated && pass < 2; pass++) {
    for (const p of paths) {
      const pid = pidOf(p.label);
      const idle0 = cpuSeconds(pid);
      await sleep(2000);
      const idle = (cpuSeconds(pid) - idle0) / 2;
      const c0 = cpuSeconds(pid);
      const t0 = performance.now();
      let sent = 0;
      const inFlight: Promise<unknown>[] = [];
      while (performance.now() - t0 < rateSeconds * 1000) {
        const due = t0 + (sent * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        inFlight.push(p.run(bodies[sent % bodies.length]!));
        sent++;
      }
      await Promise.all(inFlight);
      const seconds = (performance.now() - t0) / 1000;
      const used = cpuSeconds(pid) - c0 - idle * seconds;
      log(`  pass ${pass + 1} ${p.label.padEnd(12)} ${sent} queries, server CPU ${((used * 1e6) / sent).toFixed(0)} µs per query (idle ${(idle * 1000).toFixed(0)} ms/s); load ${load()}`);
    }
  }
} finally {
  const bareExit = bare === undefined || bare.child.exitCode !== null ? undefined : new Promise((resolve) => bare!.child.once('exit', resolve));
  bare?.child.kill('SIGTERM');
  for (const s of stores) {
    await s.client.close();
    await s.store.stop();
  }
  await bareExit;
  if (profLabel !== '' && profWindow !== undefined) {
    const outDir = path.resolve(import.meta.dirname, '../profiles');
    mkdirSync(outDir, { recursive: true });
    for (const [name, queries] of Object.entries(profWindow.queries)) {
      const dir = path.join(work, `prof-${name}`);
      const label = `${profLabel}-${name}`;
      // One profile per thread (the ANN worker's too): the main thread's is the busiest in the window.
      const texts = (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : []).map((f) => summarize(path.join(dir, f), { requests: queries, label, window: profWindow!.window }));
      const busy = (text: string): number => Number(/busy \(not idle\) ([\d.]+) s/.exec(text)?.[1] ?? 0);
      const text = texts.sort((a, b) => busy(b) - busy(a))[0];
      if (text === undefined) continue;
      const head = `# ${name} (store-query.ts, ${n} × ${dim}, top_k 10, one query at a time, HTTP and framed paths interleaved; load at the window's end ${profWindow.load})`;
      writeFileSync(path.join(outDir, `${label}.txt`), `${head}\n${text}`);
      log(`  profile summary: bench/profiles/${label}.txt`);
    }
  }
  if (process.env.STORE_QUERY_KEEP === undefined) rmSync(work, { recursive: true, force: true });
  else log(`  kept ${work}`);
}
