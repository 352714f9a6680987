#!/usr/bin/env -S node --experimental-strip-types
// What the gateway's hop adds as the store's own time grows (issue 12 part 8: at 1M × 768 the gateway added
// 0.86–1.18 ms over a store taking 2.6–7.7 ms, nginx ~0): the real system (Postgres, Redis, gateway) with the
// store run by delay-store.ts, which holds a query for a time and in a way its namespace names (idle: off the
// CPU; spin: on it; thrash: random 3 KB reads over 1 GiB, as a graph walk over 1M × 768 does). Small indexes
// (200 vectors per namespace) of 128 and 768 dimensions; the same query sent straight to the store, through the
// gateway (and a second gateway build with --base-main) and through nginx, one at a time, interleaved, the
// order rotated every round, so that each round pairs the targets on the same query and the same seconds.
// Per request also the proxy process's main thread: its CPU time (schedstat run time, ns) and its time waiting
// for a core (schedstat run-queue wait), from one request of the target to its next one (the hop's work after
// the answer counted too), which is what a loaded machine disturbs least.
//   node --experimental-strip-types bench/src/hop-delay.ts [--rounds=400] [--dims=128,768]
//     [--modes=none,idle-2500,spin-2500,thrash-2500,thrash-7000] [--base-main=<other build's apps/gateway/dist/main.js>]
//     [--pin=store:0,gateway:1,nginx:1,client:0 (taskset, all threads; the store process also runs its workers)]
//     [--warm-gateway=<n>: n extra requests through the first gateway before the common warm-up]
//     [--prof-dir=<dir>: the gateway(s) run with --cpu-prof] [--gateway-args='<node flags>'] [--gateway-log=<file>]
//     [--strace=<file> | --perf=<file.data> | --trace=<file>: strace / perf record / perf trace over the timed part]
//     [--out=<file.json>]
// --trace splits the gateway's critical path per request (request read → frames written; the store's answer
// written → the gateway awake; awake → response written): run it with one mode (one --dims, one --modes).
// DATABASE_URL and REDIS_URL as for the bench; nginx must be installed (/usr/sbin/nginx).
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rng, startSystem } from '@conifer/test-utils';
import { findNginx, startNginx } from './nginx.ts';
import { cpuSeconds, json, percentile, RawHttpClient } from './util.ts';

const option = (name: string, fallback: string): string => process.argv.slice(2).find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const rounds = Number(option('rounds', '400'));
const dims = option('dims', '128,768').split(',').map(Number);
const modes = option('modes', 'none,idle-2500,spin-2500,thrash-2500,thrash-7000').split(',');
const baseMain = option('base-main', '');
const profDir = option('prof-dir', '');
const out = option('out', '');
const PER_NAMESPACE = 200;

const load = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' ');
/** A thread's [run ns, run-queue wait ns] so far. */
function schedstat(pid: number): [number, number] {
  const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ');
  return [Number(run), Number(wait)];
}

const extraArgs = option('gateway-args', '');
/**
 * The gateway's critical path per request from a perf trace: request read → its frames written to the store
 * (request side); the store's answer written → the gateway's epoll wake (wake-up); the wake → the answer read →
 * the response written (response side). Times in µs, medians and p90 over the requests.
 */
function criticalPath(file: string, gateway: number, store: number): void {
  type Call = { tid: number; start: number; end: number; name: string; fd: number; result: number };
  const calls: Call[] = [];
  const line = /^\s*([\d.]+) \(\s*([\d.]+) ms\): \S*?\/(\d+) (\w+)\((?:fd: (\d+)|epfd: (\d+))?.*\) += (-?\d+)/;
  const continued = /^\s*([\d.]+) \(\s*([\d.]+) ms\): \S*?\/(\d+)\s+\.\.\. \[continued\]: (\w+)\(\)\) += (-?\d+)/;
  const lines = readFileSync(file, 'utf8').split('\n');
  // Ordered by start: a blocked call's "[continued]" line comes after calls of other threads that started later.
  for (const text of lines) {
    const m = line.exec(text);
    if (m !== null) {
      const start = Number(m[1]) * 1000;
      calls.push({ tid: Number(m[3]), start, end: start + Number(m[2]) * 1000, name: m[4]!, fd: Number(m[5] ?? m[6] ?? -1), result: Number(m[7]) });
      continue;
    }
    // A call that blocked is printed twice: its start ("...") and, once it returns, "[continued]" with its duration.
    const c = continued.exec(text);
    if (c === null) continue;
    const start = Number(c[1]) * 1000;
    calls.push({ tid: Number(c[3]), start, end: start + Number(c[2]) * 1000, name: c[4]!, fd: -1, result: Number(c[5]) });
  }
  calls.sort((a, b) => a.start - b.start);
  const requestSide: number[] = [];
  const wake: number[] = [];
  const responseSide: number[] = [];
  let lastStoreWrite = -1;
  let lastEpollEnd = -1;
  let state: { readAt: number; client: number; store?: number } | undefined;
  let answerWake: number | undefined;
  for (const call of calls) {
    if (call.tid === store) {
      if (call.name === 'write' || call.name === 'writev') lastStoreWrite = call.start;
      continue;
    }
    if (call.tid !== gateway) continue;
    if (call.name.startsWith('epoll')) {
      if (call.result > 0) lastEpollEnd = call.end;
      continue;
    }
    if (call.name === 'read' && call.result >= 1000 && state === undefined) state = { readAt: call.end, client: call.fd };
    else if (call.name === 'writev' && state !== undefined && state.store === undefined && call.fd !== state.client) {
      requestSide.push(call.start - state.readAt);
      state.store = call.fd;
    } else if (call.name === 'read' && state?.store === call.fd && answerWake === undefined) {
      answerWake = lastEpollEnd;
      if (lastStoreWrite > 0 && lastEpollEnd > lastStoreWrite) wake.push(lastEpollEnd - lastStoreWrite);
    } else if (call.name === 'writev' && state?.store !== undefined && call.fd === state.client && answerWake !== undefined) {
      responseSide.push(call.start - answerWake);
      state = undefined;
      answerWake = undefined;
    }
  }
  const show = (label: string, xs: number[]) => `${label} p50 ${percentile(xs, 50).toFixed(0)} µs, p90 ${percentile(xs, 90).toFixed(0)} µs (${xs.length})`;
  process.stdout.write(`  gateway critical path (perf trace): ${show('request read → frames written', requestSide)}; ${show('store writes answer → gateway wakes', wake)}; ${show('wake → response written', responseSide)}\n`);
}

// --parse-trace=<file> --gateway-tid=<n> --store-tid=<n>: read a trace of an earlier run again, and stop.
if (option('parse-trace', '') !== '') {
  criticalPath(option('parse-trace', ''), Number(option('gateway-tid', '0')), Number(option('store-tid', '0')));
  process.exit(0);
}

const gatewayArgs = [...(profDir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`]), ...(extraArgs === '' ? [] : extraArgs.split(' '))];
const system = await startSystem({
  storeMain: path.join(import.meta.dirname, 'delay-store.ts'),
  env: { CONIFER_LOG_LEVEL: 'warn' },
  gatewayNodeArgs: gatewayArgs,
  ...(baseMain === '' ? {} : { gateways: 2, gatewayMains: [undefined, path.resolve(baseMain)] }),
});
const nginxDir = mkdtempSync(path.join(os.tmpdir(), 'conifer-hop-nginx-'));
let stopNginx: (() => boolean) | undefined;
try {
  const internal = { 'x-conifer-internal-token': system.env.CONIFER_INTERNAL_TOKEN! };
  const projectId = await system.defaultProjectId();
  const key = { 'api-key': (await system.mintKey(projectId, ['ProjectEditor'])).value };
  const storeUrl = system.store.url;
  const binary = findNginx();
  if (binary === null) throw new Error('nginx is not installed');
  const nginx = await startNginx(binary, new URL(storeUrl).port, nginxDir);
  stopNginx = nginx.stop;
  const nginxWorker = Number(readFileSync(`/proc/${nginx.pid}/task/${nginx.pid}/children`, 'utf8').trim().split(/\s+/)[0]);

  const pins = option('pin', '');
  if (pins !== '') {
    const pids: Record<string, number[]> = { store: [system.store.child.pid!], gateway: system.gateways.map((g) => g.child.pid!), nginx: [nginx.pid, nginxWorker], client: [process.pid] };
    for (const pin of pins.split(',')) {
      const [who, cpus] = pin.split(':') as [string, string];
      for (const pid of pids[who] ?? []) execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
    }
  }
  interface Target {
    readonly name: string;
    readonly pid?: number;
    readonly client: RawHttpClient;
  }
  interface Config {
    readonly label: string;
    readonly bytes: number;
    readonly targets: Target[];
    readonly ms: Record<string, number[]>;
    readonly runUs: Record<string, number[]>;
    readonly waitUs: Record<string, number[]>;
  }
  const configs: Config[] = [];
  const random = rng(7);
  for (const dim of dims) {
    const name = `hop-${dim}`;
    const storeIds = async (): Promise<string[]> => ((await json(`${storeUrl}/internal/indexes`, { headers: internal })).indexes as { indexId: string }[]).map((i) => i.indexId);
    const before = new Set(await storeIds());
    const created = await json(`${system.gatewayUrl}/indexes`, {
      method: 'POST',
      headers: key,
      body: JSON.stringify({ name, dimension: dim, metric: 'cosine', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
    });
    let host = created.host as string;
    for (let i = 0; i < 100; i++) {
      const described = await json(`${system.gatewayUrl}/indexes/${name}`, { headers: key });
      host = described.host;
      if (described.status?.ready) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const added = (await storeIds()).filter((id) => !before.has(id));
    if (added.length !== 1) throw new Error(`could not find the store's id of index ${name}`);
    const indexId = added[0]!;
    const vector = (): string[] => Array.from({ length: dim }, () => (random() * 2 - 1).toPrecision(9));
    for (const mode of modes) {
      const namespace = mode === 'none' ? '' : `delay-${mode}`;
      const vectors = Array.from({ length: PER_NAMESPACE }, (_, i) => `{"id":"v${i}","values":[${vector().join(',')}]}`);
      const upserted = await json(`${host}/vectors/upsert`, { method: 'POST', headers: key, body: `{"namespace":"${namespace}","vectors":[${vectors.join(',')}]}` });
      if (upserted.upsertedCount !== PER_NAMESPACE) throw new Error(`upsert: ${JSON.stringify(upserted)}`);
    }
    for (const mode of modes) {
      const namespace = mode === 'none' ? '' : `delay-${mode}`;
      const body = `{"topK":10,"namespace":"${namespace}","vector":[${vector().join(',')}]}`;
      const targets: Target[] = [
        { name: 'direct', client: new RawHttpClient(new URL(`${storeUrl}/internal/indexes/${indexId}/query`), 'POST', internal, body) },
        { name: 'gateway', pid: system.gateways[0]!.child.pid!, client: new RawHttpClient(new URL(`${host}/query`), 'POST', key, body) },
        { name: 'nginx', pid: nginxWorker, client: new RawHttpClient(new URL(`${nginx.url}/internal/indexes/${indexId}/query`), 'POST', internal, body) },
      ];
      if (baseMain !== '') {
        const baseHost = `${system.gateways[1]!.url}${new URL(host).pathname}`;
        targets.push({ name: 'base', pid: system.gateways[1]!.child.pid!, client: new RawHttpClient(new URL(`${baseHost}/query`), 'POST', key, body) });
      }
      const names = targets.map((t) => t.name);
      const table = () => Object.fromEntries(names.map((n) => [n, [] as number[]]));
      configs.push({ label: `${dim}-d ${mode}`, bytes: Buffer.byteLength(body), targets, ms: table(), runUs: table(), waitUs: table() });
    }
  }

  // Each proxy's last reading and the config of the request it was taken before.
  const last = new Map<number, { at: [number, number]; config: Config; target: string }>();
  const cpuBefore = new Map<number, number>();
  const send = async (config: Config, target: Target, record: boolean): Promise<void> => {
    if (target.pid !== undefined) {
      const now = schedstat(target.pid);
      const previous = last.get(target.pid);
      if (previous !== undefined && record) {
        previous.config.runUs[previous.target]!.push((now[0] - previous.at[0]) / 1000);
        previous.config.waitUs[previous.target]!.push((now[1] - previous.at[1]) / 1000);
      }
      last.set(target.pid, { at: now, config, target: target.name });
    }
    const response = await target.client.send();
    if (response.status !== 200) throw new Error(`${config.label} ${target.name}: ${response.status} ${response.text}`);
    if (record) config.ms[target.name]!.push(response.ms);
  };
  // --warm-gateway=<n>: n more requests through the first gateway alone first (does a long-running gateway's
  // optimised code cost less per request than one warmed up by 100 requests, as a short bench leaves it?).
  const warmGateway = Number(option('warm-gateway', '0'));
  for (let i = 0; i < warmGateway; i++) {
    const config = configs[i % configs.length]!;
    await send(config, config.targets.find((t) => t.name === 'gateway')!, false);
  }
  // Warm-up (the thrash buffer is written on its first use, the key is verified once, JIT).
  for (let i = 0; i < 100; i++) for (const config of configs) for (const target of config.targets) await send(config, target, false);
  last.clear();
  for (const pid of [system.gateways[0]!.child.pid!, nginxWorker, ...(baseMain === '' ? [] : [system.gateways[1]!.child.pid!])]) cpuBefore.set(pid, cpuSeconds(pid));
  // --strace=<file>: the gateway's main thread's syscalls over the timed part (slows it: for counts, not times).
  const straceFile = option('strace', '');
  const tracer = straceFile === '' ? undefined : spawn('strace', ['-tt', '-e', 'trace=read,readv,recvfrom,recvmsg,write,writev,sendto,sendmsg,epoll_wait,epoll_pwait,epoll_pwait2,epoll_ctl', '-o', straceFile, '-p', String(system.gateways[0]!.child.pid!)], { stdio: 'ignore' });
  // --perf=<file>: on-CPU samples of the gateway (perf record -e cpu-clock; run the gateway with --perf-basic-prof).
  const perfFile = option('perf', '');
  const recorder = perfFile === '' ? undefined : spawn('perf', ['record', '-e', 'cpu-clock', '-F', '10000', '-o', perfFile, '-p', String(system.gateways[0]!.child.pid!)], { stdio: 'ignore' });
  // --trace=<file>: perf trace of the gateway's and the store's main threads (read, writev, write, epoll), read
  // back below into the gateway's critical path per request (single-mode runs: the medians are over all requests).
  const traceFile = option('trace', '');
  const gatewayTid = system.gateways[0]!.child.pid!;
  const storeTid = system.store.child.pid!;
  const syscallTracer =
    traceFile === '' ? undefined : spawn('perf', ['trace', '-o', traceFile, '-e', 'read,write,writev,epoll_pwait,epoll_wait', '--tid', `${gatewayTid},${storeTid}`], { stdio: 'ignore' });
  if (tracer !== undefined || recorder !== undefined || syscallTracer !== undefined) await new Promise((r) => setTimeout(r, 1000));
  const loadBefore = load();
  const started = performance.now();
  const windowStart = process.hrtime.bigint() / 1000n;
  for (let round = 0; round < rounds; round++) {
    for (let c = 0; c < configs.length; c++) {
      const config = configs[(round + c) % configs.length]!;
      const count = config.targets.length;
      for (let k = 0; k < count; k++) await send(config, config.targets[(round + k) % count]!, true);
    }
    if (round % 50 === 49) process.stderr.write(`  round ${round + 1}/${rounds}, load ${load()}\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  tracer?.kill('SIGINT');
  syscallTracer?.kill('SIGINT');
  if (syscallTracer !== undefined) {
    await new Promise((r) => syscallTracer.once('exit', r));
    criticalPath(traceFile, gatewayTid, storeTid);
  }
  recorder?.kill('SIGINT');
  if (recorder !== undefined) await new Promise((r) => recorder.once('exit', r));
  // The timed part on the monotonic clock (µs), which a --cpu-prof profile of the gateway shares (cpuprofile-summary.ts window).
  process.stdout.write(`timed window (monotonic µs): ${windowStart} ${process.hrtime.bigint() / 1000n}; ${rounds * configs.length} requests per target\n`);
  const figures: Record<string, unknown> = {};
  process.stdout.write(`hop-delay: ${rounds} rounds in ${seconds.toFixed(0)} s; load before ${loadBefore}, after ${load()}; ${os.cpus().length} cores\n`);
  for (const config of configs) {
    const direct = config.ms.direct!;
    const row: Record<string, unknown> = { bytes: config.bytes, directP50: percentile(direct, 50) };
    let line = `${config.label.padEnd(20)} body ${String(config.bytes).padStart(5)} B  direct p50 ${percentile(direct, 50).toFixed(3)}`;
    for (const target of config.targets) {
      if (target.name === 'direct') continue;
      const ms = config.ms[target.name]!;
      const paired = ms.map((x, i) => x - direct[i]!);
      const runUs = config.runUs[target.name]!;
      const waitUs = config.waitUs[target.name]!;
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      row[target.name] = { p50: percentile(ms, 50), addedP50: percentile(paired, 50), runUsP50: percentile(runUs, 50), runUsMean: mean(runUs), waitUsMean: mean(waitUs) };
      line += ` | ${target.name} +${percentile(paired, 50).toFixed(3)} ms, cpu ${percentile(runUs, 50).toFixed(0)}/${mean(runUs).toFixed(0)} µs, rq ${mean(waitUs).toFixed(0)} µs`;
    }
    figures[config.label] = row;
    process.stdout.write(`${line}\n`);
  }
  // The proxies' own background (timers, health checks) while no request runs: CPU per second of wall time.
  const idleAt = [...cpuBefore.keys()].map((pid) => schedstat(pid)[0]);
  await new Promise((r) => setTimeout(r, 3000));
  const idle = [...cpuBefore.keys()].map((pid, i) => `pid ${pid} ${((schedstat(pid)[0] - idleAt[i]!) / 3000 / 1000).toFixed(0)} µs/s`);
  const perRound = (seconds / rounds) * 1000;
  process.stdout.write(`  idle background of the proxies' main threads: ${idle.join(', ')}; one round (every target's request once per config) took ${perRound.toFixed(1)} ms\n`);
  figures.idle = idle;
  for (const [pid, before] of cpuBefore) process.stdout.write(`  pid ${pid}: ${((cpuSeconds(pid) - before) * 1000).toFixed(0)} ms CPU (all threads) over the run\n`);
  process.stdout.write('  (added: median of the paired differences to direct; cpu: the proxy thread\'s run time per request, median/mean; rq: its mean run-queue wait)\n');
  if (out !== '') writeFileSync(out, JSON.stringify({ rounds, seconds, loadBefore, loadAfter: load(), figures }, null, 2));
  for (const config of configs) for (const target of config.targets) target.client.close();
  const gatewayLog = option('gateway-log', '');
  if (gatewayLog !== '') writeFileSync(gatewayLog, system.gateways[0]!.output());
} finally {
  stopNginx?.();
  await system.stop();
}
