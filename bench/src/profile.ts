#!/usr/bin/env -S node --experimental-strip-types
// CPU profiles of both processes under load (issue 13): starts the system with `--cpu-prof`, loads
// `POST <host>/query` (1,000 × 128 index, top_k 10, warm key) through the gateway with autocannon, stops the
// processes (the profiles are written at exit) and writes text summaries to bench/profiles/<label>-{gateway,store}.txt.
//   node --experimental-strip-types bench/src/profile.ts --label=after [--duration=10] [--connections=16] [--no-prof] [--rate=<req/s>] [--syscalls] [--unix]
// Also prints the CPU each process used per request (/proc/<pid>/stat), and nginx's for the same hop and load.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSystem } from '@conifer/test-utils';
import { makeDataset, queryBody, upsertBodies } from '@conifer/test-utils';
import { summarize } from './cpuprofile-summary.ts';
import { findNginx, startNginx } from './nginx.ts';
import { json, request } from './util.ts';
import autocannon from 'autocannon';

const option = (name: string, fallback: string | number): string | number => process.argv.slice(2).find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const label = option('label', 'run');
const duration = Number(option('duration', 10));
const connections = Number(option('connections', 16));
// --no-prof: no profiler (it costs CPU itself): only the /proc CPU figures, no summaries.
const profiling = !process.argv.includes('--no-prof');
// --rate=<req/s>: a fixed request rate (autocannon overallRate) instead of saturation, so that CPU per request
// is compared at the same rate (at saturation it falls as the rate rises: more requests per wake-up).
const rate = Number(option('rate', 0)) || undefined;
// --syscalls: socket syscalls per request of the gateway and the store (strace -c attached during the load;
// it slows both processes, so take CPU figures from a run without it). Says how many writes each answer takes.
const syscalls = process.argv.includes('--syscalls');
// --unix: the gateway reaches the store through a Unix domain socket (CONIFER_VECTOR_STORE_SOCKET[S]).
const unixSocket = process.argv.includes('--unix');
const SOCKET_CALLS = 'write,writev,sendmsg,sendto,read,readv,recvmsg,recvfrom';

function traceSyscalls(pid: number, file: string): ChildProcess {
  return spawn('strace', ['-c', '-f', '-e', `trace=${SOCKET_CALLS}`, '-o', file, '-p', String(pid)], { stdio: 'ignore' });
}

/** strace -c's table → "writev 1.00, read 2.01 …" per request. */
async function syscallsPerRequest(tracer: ChildProcess, file: string, requests: number): Promise<string> {
  const exited = new Promise((resolve) => tracer.once('exit', resolve));
  tracer.kill('SIGINT');
  await exited;
  const counts: string[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const fields = line.trim().split(/\s+/);
    const name = fields.at(-1)!;
    if (fields.length >= 5 && SOCKET_CALLS.split(',').includes(name)) counts.push(`${name} ${(Number(fields[3]) / requests).toFixed(2)}`);
  }
  return counts.join(', ');
}
const profDir = mkdtempSync(path.join(os.tmpdir(), 'conifer-prof-'));
const outDir = path.resolve(import.meta.dirname, '../profiles');
mkdirSync(outDir, { recursive: true });

const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
const system = await startSystem({ unixSocket, env: { CONIFER_LOG_LEVEL: 'warn', ...(profiling ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profDir}` } : {}) } });
let requests = 0;
let window: [number, number] | undefined;
/** CPU seconds (user + system) a process has used: what it costs, however busy the machine is. */
const cpuSeconds = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
/** User and system CPU seconds separately (system: the kernel's socket work, e.g. loopback TCP on each write). */
const cpuSplit = (pid: number): [number, number] => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return [Number(fields[11]) / 100, Number(fields[12]) / 100];
};
const cpuLines: string[] = [];
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
  const gatewayPid = system.gateways[0]!.child.pid!;
  const storePid = system.store.child.pid!;
  // Background CPU (health checks, revocation polling, metrics, the ANN thread…) over 4 idle seconds, subtracted
  // below: at low request rates it would otherwise dominate "CPU per request".
  const idle0 = [cpuSeconds(gatewayPid), cpuSeconds(storePid)];
  await new Promise((resolve) => setTimeout(resolve, 4000));
  const idle = [(cpuSeconds(gatewayPid) - idle0[0]) / 4, (cpuSeconds(storePid) - idle0[1]) / 4];
  const startUs = Number(process.hrtime.bigint() / 1000n);
  const t0 = performance.now();
  const traceDir = syscalls ? mkdtempSync(path.join(os.tmpdir(), 'conifer-strace-')) : '';
  const tracers = syscalls ? [traceSyscalls(gatewayPid, path.join(traceDir, 'gateway')), traceSyscalls(storePid, path.join(traceDir, 'store'))] : [];
  if (syscalls) await new Promise((resolve) => setTimeout(resolve, 500));
  const before = [cpuSeconds(gatewayPid), cpuSeconds(storePid)];
  const splitBefore = [cpuSplit(gatewayPid), cpuSplit(storePid)];
  const client0 = process.cpuUsage();
  const result = await autocannon({ url: `${created.host}/query`, method: 'POST', headers, body, connections, duration, ...(rate ? { overallRate: rate } : {}) });
  const after = [cpuSeconds(gatewayPid), cpuSeconds(storePid)];
  const client = process.cpuUsage(client0);
  const splitAfter = [cpuSplit(gatewayPid), cpuSplit(storePid)];
  const seconds = (performance.now() - t0) / 1000;
  window = [startUs, Number(process.hrtime.bigint() / 1000n)];
  requests = result.requests.total;
  if (syscalls) {
    cpuLines.push(
      `${label}: socket syscalls per request (strace -c, load window): gateway ${await syscallsPerRequest(tracers[0]!, path.join(traceDir, 'gateway'), requests)}; ` +
        `store ${await syscallsPerRequest(tracers[1]!, path.join(traceDir, 'store'), requests)}`,
    );
  }
  const perRequest = (seconds: number): string => ((seconds * 1e6) / requests).toFixed(0);
  cpuLines.push(
    `${label}: ${requests} requests via the gateway in ${duration} s (${Math.round(requests / duration)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}); ` +
      `CPU per request (/proc, user+system, profiler ${profiling ? 'on' : 'off'}): gateway ${perRequest(after[0] - before[0])} µs, store ${perRequest(after[1] - before[1])} µs; ` +
      `net of the idle background (gateway ${(idle[0] * 1000).toFixed(0)} ms/s, store ${(idle[1] * 1000).toFixed(0)} ms/s): gateway ${perRequest(after[0] - before[0] - idle[0] * seconds)} µs, store ${perRequest(after[1] - before[1] - idle[1] * seconds)} µs; ` +
      `user / system (gross): gateway ${perRequest(splitAfter[0]![0] - splitBefore[0]![0])} / ${perRequest(splitAfter[0]![1] - splitBefore[0]![1])} µs, ` +
      `store ${perRequest(splitAfter[1]![0] - splitBefore[1]![0])} / ${perRequest(splitAfter[1]![1] - splitBefore[1]![1])} µs; ` +
      `client (autocannon, this process) ${perRequest((client.user + client.system) / 1e6)} µs; load average at start ${load}`,
  );
  // The same hop done by nginx (if installed), same load: its CPU per request is the reference.
  const nginxBinary = findNginx();
  if (nginxBinary) {
    const storeUrl = new URL(system.store.url);
    const nginx = await startNginx(nginxBinary, storeUrl.port, mkdtempSync(path.join(os.tmpdir(), 'conifer-nginx-')));
    try {
      const internal: Record<string, string> = { 'x-conifer-internal-token': system.env.CONIFER_INTERNAL_TOKEN!, 'content-type': 'application/json' };
      const indexId = (await json(`${system.store.url}/internal/indexes`, { headers: internal })).indexes[0].indexId;
      const workers = execFileSync('pgrep', ['-f', `nginx: worker process`], { encoding: 'utf8' }).trim().split('\n').map(Number);
      const worker = workers.sort((a, b) => b - a)[0]!;
      const nginxBefore = [cpuSeconds(worker), cpuSeconds(storePid)];
      const nginxSplitBefore = cpuSplit(worker);
      const viaNginx = await autocannon({ url: `${nginx.url}/internal/indexes/${indexId}/query`, method: 'POST', headers: internal, body, connections, duration, ...(rate ? { overallRate: rate } : {}) });
      const nginxAfter = [cpuSeconds(worker), cpuSeconds(storePid)];
      const nginxSplitAfter = cpuSplit(worker);
      const n = viaNginx.requests.total;
      cpuLines.push(
        `${label}: ${n} requests via nginx in ${duration} s (${Math.round(n / duration)} req/s, p50 ${viaNginx.latency.p50} ms, p99 ${viaNginx.latency.p99} ms); ` +
          `CPU per request: nginx worker ${(((nginxAfter[0] - nginxBefore[0]) * 1e6) / n).toFixed(0)} µs (user / system ${(((nginxSplitAfter[0] - nginxSplitBefore[0]) * 1e6) / n).toFixed(0)} / ${(((nginxSplitAfter[1] - nginxSplitBefore[1]) * 1e6) / n).toFixed(0)} µs), store ${(((nginxAfter[1] - nginxBefore[1]) * 1e6) / n).toFixed(0)} µs`,
      );
    } finally {
      nginx.stop();
    }
  }
  for (const line of cpuLines) process.stderr.write(`${line}\n`);
} finally {
  await system.stop();
}
const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
const pidOf = (f: string): number => Number(f.split('.')[3]);
const threadOf = (f: string): number => Number(f.split('.')[4]);
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
  writeFileSync(path.join(outDir, `${label}-${which}.txt`), `${cpuLines.map((l) => `> ${l}`).join('\n')}\n\n${text}`);
  process.stderr.write(`wrote bench/profiles/${label}-${which}.txt\n`);
}
