#!/usr/bin/env -S node --experimental-strip-types
// Durable ingest over HTTP (issue 12 part 4): the same 768-d upsert bodies (the bench's dataset, as many records
// per body as the 2 MB request limit allows, 4 requests in flight, each acknowledged after the WAL fsync) sent
// straight to a store and through the gateway, for each parse-worker count, interleaved round by round so that a
// busy machine weighs on every variant alike. Besides vectors/s it reports the CPU each process spent per 1000
// vectors (/proc/<pid>/stat), which a shared machine disturbs far less than the rate: the client (this process),
// the gateway, the store, and the store's threads by name (the event loop, the parse workers, the ANN builder,
// the rest: V8's collector helpers, libuv's fsyncs), plus the vectors the graph had not taken in when the last
// upsert was acknowledged. Not part of `npm run bench`.
//   npx turbo run build && DATABASE_URL=… REDIS_URL=… node --experimental-strip-types bench/src/ingest-http.ts
//     [--n=20000] [--rounds=2] [--workers=0,1] [--digits=4|17] [--paths=direct,gateway] [--unix-socket]
//     [--base-store-main=<another build's apps/vector-store/dist/main.js>] [--base-gateway-main=<… apps/gateway/dist/main.js>]
//     [--cpu-prof=<dir>] [--perf=<dir>] [--until-indexed] [--extra-env=NAME=VALUE]
// --digits=17 prints values as float32 → double (what numpy float32 lists give: ~20 bytes a number, ~100
// records per body) instead of the bench's 4 decimals. --base-store-main adds a direct-to-store row for another
// build (e.g. main's), started with the same settings, every round; --base-gateway-main adds a gateway row whose
// system runs that gateway build and the --base-store-main store (else this tree's), every round. --cpu-prof
// starts the stores and the systems' processes with `--cpu-prof --cpu-prof-dir=<dir>` (profiles written when they
// stop); --perf=<dir> records the store with `perf record -g` over each ingest (native frames: usearch's add,
// memcpy, page faults; `perf report -i <dir>/<row>.perf.data --sort comm,dso,symbol`). --until-indexed also
// waits for the graph to take in every vector and adds "+graph" columns: the store's CPU (all, loop, ANN
// builder, other) per 1000 vectors from the ingest's start until then, and "+graph wall" its wall time (ms) per 1000.
// --extra-env (repeatable) adds rows for this tree's build run with that variable set too (e.g.
// CONIFER_MALLOC_MMAP_THRESHOLD). Each row also gives the store's RssAnon when the last upsert was answered.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeDataset, startSystem, STORE_MAIN, upsertBodies, type System, type UpsertBody } from '@conifer/test-utils';
import { cpuTime, freePort, json, pool, request, sleep, storeThreadCpu } from './util.ts';

const arg = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const N = Number(arg('n', '20000'));
const ROUNDS = Number(arg('rounds', '2'));
const WORKERS = arg('workers', '0,1').split(',').map(Number);
const DIGITS = Number(arg('digits', '4'));
const BASE_MAIN = arg('base-store-main', '');
const BASE_GATEWAY_MAIN = arg('base-gateway-main', '');
const PATHS = arg('paths', 'direct,gateway').split(',');
// Each --extra-env=NAME=VALUE (repeatable) adds a variant of this tree's build.
const EXTRA_ENVS: [string, Record<string, string>][] = process.argv
  .filter((a) => a.startsWith('--extra-env='))
  .map((a) => a.slice('--extra-env='.length))
  .map((e) => [e, { [e.slice(0, e.indexOf('='))]: e.slice(e.indexOf('=') + 1) }]);
const CPU_PROF = arg('cpu-prof', '');
// `perf record -g` of the store process over each ingest's span (native time: usearch, memcpy, page faults,
// syscalls), written to <dir>/<row>.perf.data; the store runs with --perf-basic-prof so JIT frames have names.
const PERF = arg('perf', '');
// After each ingest, wait until the graph has taken in every vector (ANN pending 0) and report the CPU from the
// ingest's start to then as well ("+graph" columns): what 1000 durable vectors cost once indexed, the builder's
// whole share included (during the ingest it falls behind, so the ingest's own columns hold only part of it).
const UNTIL_INDEXED = process.argv.includes('--until-indexed');
// Node flags for the gateway processes (e.g. --trace-gc: their output goes to <dir of --gateway-output>).
const GATEWAY_NODE_ARGS = arg('gateway-node-args', '').split(' ').filter((a) => a !== '');
const GATEWAY_OUTPUT = arg('gateway-output', '');
// The gateway reaches the store over its Unix socket (CONIFER_VECTOR_STORE_SOCKETS) instead of loopback TCP.
const UNIX_SOCKET = process.argv.includes('--unix-socket');
const DIM = 768;
const IN_FLIGHT = 4;
const TOKEN = 'bench-internal-token-0123456789abcdef0123';

const load = (): string => os.loadavg().map((x) => x.toFixed(1)).join(' ');
/** CPU seconds of a process (all threads), its system share, and per thread group when `threads`. */
function cpuOf(pid: number, threads: boolean): Record<string, number> {
  const total = cpuTime(pid);
  const out: Record<string, number> = { all: total.user + total.system, sys: total.system };
  return threads ? { ...out, ...storeThreadCpu(pid) } : out;
}

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
  /** ms of CPU per 1000 vectors, by `process` or `process thread-group`. */
  cpu: Record<string, number>;
  /** Vectors not yet in the graph when the last upsert was answered. */
  annPending: number;
  /** The store's RssAnon (MB) when the last upsert was answered. */
  rssAnonMb: number;
}

interface Target {
  /** The row's name (file names of --perf). */
  label: string;
  url: string;
  headers: Record<string, string>;
  gatewayPid?: number;
  storePid: number;
  storeUrl: string;
  internalToken: string;
}

/** performance.now() as µs of the monotonic clock (CLOCK_MONOTONIC, the clock of V8's CPU profiles on Linux). */
const monotonicUs = (now: number): number => Number(process.hrtime.bigint() / 1000n) - (performance.now() - now) * 1000;

const annPending = async (storeUrl: string, token: string): Promise<number> =>
  Number(/^conifer_store_ann_pending_vectors (\d+)/m.exec((await request(`${storeUrl}/metrics`, { headers: { 'x-conifer-internal-token': token } })).text)?.[1] ?? NaN);

async function ingest(target: Target, bodies: UpsertBody[]): Promise<Sample> {
  const read = () => ({
    client: process.cpuUsage(),
    gateway: target.gatewayPid === undefined ? undefined : cpuOf(target.gatewayPid, false),
    store: cpuOf(target.storePid, true),
  });
  const before = read();
  const perf =
    PERF === ''
      ? undefined
      : spawn('perf', ['record', '-F', '499', '-g', '-p', String(target.storePid), '-o', path.join(PERF, `${target.label.replace(/[^a-z0-9]+/gi, '-')}.perf.data`)], { stdio: 'ignore' });
  if (perf !== undefined) await sleep(300);
  const t0 = performance.now();
  await pool(bodies.length, IN_FLIGHT, async (i) => {
    const response = await request(target.url, { method: 'POST', headers: target.headers, body: bodies[i]!.body });
    if (response.status !== 200) throw new Error(`upsert → ${response.status} ${response.text.slice(0, 300)}`);
  });
  const seconds = (performance.now() - t0) / 1000;
  const after = read();
  // The ingest's span on the profiles' clock (the monotonic clock, in µs), to summarise only that part of them.
  if (CPU_PROF !== '') appendFileSync(path.join(CPU_PROF, 'windows.jsonl'), `${JSON.stringify({ url: target.url, gatewayPid: target.gatewayPid, storePid: target.storePid, window: [monotonicUs(t0), monotonicUs(performance.now())] })}\n`);
  const rssAnon = Number(/^RssAnon:\s+(\d+) kB/m.exec(readFileSync(`/proc/${target.storePid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
  const pending = await annPending(target.storeUrl, target.internalToken);
  const perK = (seconds: number) => (seconds * 1000 * 1000) / N;
  const cpu: Record<string, number> = {};
  const clientUs = after.client.user - before.client.user + after.client.system - before.client.system;
  cpu.client = clientUs / 1000 / (N / 1000);
  if (after.gateway !== undefined) {
    cpu.gateway = perK(after.gateway.all! - before.gateway!.all!);
    cpu['gateway sys'] = perK(after.gateway.sys! - before.gateway!.sys!);
  }
  cpu.store = perK(after.store.all! - before.store.all!);
  cpu['store sys'] = perK(after.store.sys! - before.store.sys!);
  for (const group of ['loop', 'parse', 'ann', 'workers', 'other']) {
    if (after.store[group] !== undefined) cpu[`store ${group}`] = perK(after.store[group] - (before.store[group] ?? 0));
  }
  if (UNTIL_INDEXED) {
    const waitStart = performance.now();
    while ((await annPending(target.storeUrl, target.internalToken)) > 0 && performance.now() - waitStart < 600_000) await sleep(100);
    const indexed = cpuOf(target.storePid, true);
    cpu['+graph wall'] = (performance.now() - t0) / (N / 1000);
    cpu['+graph store'] = perK(indexed.all! - before.store.all!);
    for (const group of ['loop', 'ann', 'other']) cpu[`+graph ${group}`] = perK((indexed[group] ?? 0) - (before.store[group] ?? 0));
  }
  // With --until-indexed the recording covers the graph's catching up too.
  if (perf !== undefined) {
    perf.kill('SIGINT');
    await new Promise((r) => perf.once('exit', r));
  }
  return { rate: N / seconds, cpu, annPending: pending, rssAnonMb: rssAnon };
}

/** NODE_OPTIONS for --cpu-prof and --perf (the direct stores and the systems' processes alike). */
function profileEnv(): Record<string, string> {
  const options = [...(CPU_PROF !== '' ? [`--cpu-prof --cpu-prof-dir=${path.resolve(CPU_PROF)}`] : []), ...(PERF !== '' ? ['--perf-basic-prof'] : [])];
  return options.length > 0 ? { NODE_OPTIONS: options.join(' ') } : {};
}

/** A store process of its own (no gateway) on an empty data directory. */
async function startStore(main: string, workers: number, env: Record<string, string> = {}): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'conifer-ingest-'));
  const port = await freePort();
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH, NODE_ENV: 'test', CONIFER_DATA_DIR: dataDir, CONIFER_BIND: '127.0.0.1', CONIFER_VECTOR_STORE_PORT: String(port), CONIFER_INTERNAL_TOKEN: TOKEN, CONIFER_LOG_LEVEL: 'warn', CONIFER_PARSE_WORKERS: String(workers), ...profileEnv(), ...env },
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
  console.log(`  ${name}: ${Math.round(s.rate)} vectors/s; CPU ms per 1000 vectors ${Object.entries(s.cpu).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}; ANN pending at the end ${s.annPending}; store RssAnon ${s.rssAnonMb.toFixed(0)} MB; load ${load()}`);
};

const systemEnv = (w: number): Record<string, string> => ({
  CONIFER_LOG_LEVEL: 'warn',
  CONIFER_PARSE_WORKERS: String(w),
  ...profileEnv(),
});
interface Variant {
  name: string;
  system: System;
  headers: Record<string, string>;
}
const gatewayVariants = new Map<number, Variant[]>();
const started: System[] = [];
if (PATHS.includes('gateway')) {
  for (const w of WORKERS) {
    const variants: Variant[] = [];
    const builds: [string, string | undefined, string | undefined, Record<string, string>][] = [[`gateway, new, ${w} parse workers`, undefined, undefined, {}]];
    for (const [label, env] of EXTRA_ENVS) builds.push([`gateway, new, ${w} parse workers, ${label}`, undefined, undefined, env]);
    if (BASE_GATEWAY_MAIN !== '') builds.push([`gateway, base build, ${w} parse workers`, path.resolve(BASE_GATEWAY_MAIN), BASE_MAIN === '' ? undefined : path.resolve(BASE_MAIN), {}]);
    for (const [name, gatewayMain, storeMain, env] of builds) {
      const system = await startSystem({
        unixSocket: UNIX_SOCKET,
        env: { ...systemEnv(w), ...env },
        ...(gatewayMain === undefined ? {} : { gatewayMains: [gatewayMain] }),
        ...(storeMain === undefined ? {} : { storeMain }),
        ...(GATEWAY_NODE_ARGS.length > 0 ? { gatewayNodeArgs: GATEWAY_NODE_ARGS } : {}),
      });
      started.push(system);
      variants.push({ name, system, headers: { 'api-key': (await system.mintKey(await system.defaultProjectId(), ['ProjectEditor'])).value } });
    }
    gatewayVariants.set(w, variants);
  }
}
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const w of WORKERS) {
      // Direct to a store process of its own, then through the gateway (a fresh index each time).
      const direct: [string, string, Record<string, string>][] = [];
      if (PATHS.includes('direct')) {
        direct.push([`direct, new, ${w} parse workers`, STORE_MAIN, {}]);
        for (const [label, env] of EXTRA_ENVS) direct.push([`direct, new, ${w} parse workers, ${label}`, STORE_MAIN, env]);
        if (BASE_MAIN !== '') direct.push([`direct, base build, ${w} parse workers`, path.resolve(BASE_MAIN), {}]);
      }
      // Alternate which build goes first from round to round.
      if (round % 2 === 1) direct.reverse();
      for (const [name, main, env] of direct) {
        const store = await startStore(main, w, env);
        const id = `ingest${round}`;
        await request(`${store.url}/internal/indexes/${id}`, { method: 'PUT', headers: { 'x-conifer-internal-token': TOKEN }, body: JSON.stringify({ dimension: DIM, metric: 'cosine', vectorType: 'dense' }) });
        const target: Target = { label: name, url: `${store.url}/internal/indexes/${id}/vectors/upsert`, headers: { 'x-conifer-internal-token': TOKEN }, storePid: store.child.pid!, storeUrl: store.url, internalToken: TOKEN };
        add(name, await ingest(target, bodies));
        await store.stop();
      }
      const variants = [...(gatewayVariants.get(w) ?? [])];
      if (round % 2 === 1) variants.reverse();
      for (const { name: label, system, headers } of variants) {
        const name = `ing${round}w${w}`;
        const created = await json(`${system.gatewayUrl}/indexes`, { method: 'POST', headers, body: JSON.stringify({ name, dimension: DIM, metric: 'cosine', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }) });
        const target: Target = {
          label,
          url: `${created.host}/vectors/upsert`,
          headers,
          gatewayPid: system.gateways[0]!.child.pid!,
          storePid: system.store.child.pid!,
          storeUrl: system.store.url,
          internalToken: system.env.CONIFER_INTERNAL_TOKEN!,
        };
        add(label, await ingest(target, bodies));
        await request(`${system.gatewayUrl}/indexes/${name}`, { method: 'DELETE', headers });
      }
    }
  }
} finally {
  for (const system of started) {
    if (GATEWAY_OUTPUT !== '') appendFileSync(GATEWAY_OUTPUT, system.gateways.map((g) => g.output()).join('\n'));
    await system.stop();
  }
}
console.log(`\nevery round (load at the end ${load()}):`);
const each = (xs: number[], digits = 0) => xs.map((x) => x.toFixed(digits)).join(' / ');
for (const [name, samples] of Object.entries(rows)) {
  const cpuKeys = Object.keys(samples[0]!.cpu);
  console.log(`| ${name} | ${each(samples.map((s) => s.rate))} vectors/s | ${cpuKeys.map((k) => `${k} ${each(samples.map((s) => s.cpu[k] ?? NaN))}`).join(', ')} ms CPU per 1000 vectors | ANN pending ${each(samples.map((s) => s.annPending))} | store RssAnon ${each(samples.map((s) => s.rssAnonMb))} MB |`);
}
