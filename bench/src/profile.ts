#!/usr/bin/env -S node --experimental-strip-types
// CPU profiles of both processes under load (issue 13): starts the system with `--cpu-prof`, loads
// `POST <host>/query` (1,000 × 128 index, top_k 10, warm key) through the gateway with autocannon, stops the
// processes (the profiles are written at exit) and writes text summaries to bench/profiles/<label>-{gateway,store}.txt.
//   node --experimental-strip-types bench/src/profile.ts --label=after [--dim=128] [--upsert] [--duration=10] [--connections=16] [--no-prof] [--rate=<req/s>] [--syscalls | --all-syscalls] [--unix] [--base-gateway-main=<path>] [--slices=<n>] [--log-level=info] [--trace-gc]
// Also prints the CPU each process used per request (/proc/<pid>/stat), and nginx's for the same hop and load;
// with --trace-gc the gateways' collections are written to bench/profiles/<label>-gateway[-base]-gc.txt.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSystem } from '@conifer/test-utils';
import { makeDataset, queryBody, upsertBodies } from '@conifer/test-utils';
import { summarize } from './cpuprofile-summary.ts';
import { findNginx, startNginx } from './nginx.ts';
import { cpuSeconds, cpuTime, json, request } from './util.ts';
import autocannon from 'autocannon';

const option = (name: string, fallback: string | number): string | number => process.argv.slice(2).find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const label = option('label', 'run');
const duration = Number(option('duration', 10));
const connections = Number(option('connections', 16));
// --dim=<d>: the index's dimension (default 128; 768 sends an 8 KB query body).
const dim = Number(option('dim', 128));
// --upsert: the load is POST /vectors/upsert with the first upsert body of the index's data (up to 2 MB: at 768-d
// ~360 vectors, the same ids every time) instead of a query: the gateway's cost per large body.
const upsert = process.argv.includes('--upsert');
const route = upsert ? '/vectors/upsert' : '/query';
// --no-prof: no profiler (it costs CPU itself): only the /proc CPU figures, no summaries.
const profiling = !process.argv.includes('--no-prof');
// --rate=<req/s>: a fixed request rate (autocannon overallRate) instead of saturation, so that CPU per request
// is compared at the same rate (at saturation it falls as the rate rises: more requests per wake-up).
const rate = Number(option('rate', 0)) || undefined;
// --syscalls: socket syscalls per request of the gateway and the store (strace -c attached during the load;
// it slows both processes, so take CPU figures from a run without it). Says how many writes each answer takes.
// --all-syscalls: the same with every syscall (the ten commonest per request): where system time goes besides sockets.
const allSyscalls = process.argv.includes('--all-syscalls');
const syscalls = allSyscalls || process.argv.includes('--syscalls');
// --unix: the gateway reaches the store through a Unix domain socket (CONIFER_VECTOR_STORE_SOCKET[S]).
const unixSocket = process.argv.includes('--unix');
// --base-gateway-main=<another build's apps/gateway/dist/main.js>: a second gateway of that build on the same store,
// database and key, loaded in turn with this tree's gateway (and nginx), slice by slice (before/after in one run).
const baseGatewayMain = String(option('base-gateway-main', '')) || undefined;
// --slices=<n>: the load time of each target cut into n slices run in turn, the order rotated each time (default 1).
const slices = Math.max(1, Number(option('slices', 1)));
// --log-level=<level>: the processes' CONIFER_LOG_LEVEL (default warn: no request lines; info: one line per request).
const logLevel = String(option('log-level', 'warn'));
// --trace-gc: the processes run with --trace-gc; the gateways' collections during each target's load are counted
// from their output (scavenges and mark-compacts per 10,000 requests: the allocation pressure per request).
const traceGc = process.argv.includes('--trace-gc');
const profDir = mkdtempSync(path.join(os.tmpdir(), 'conifer-prof-'));
const nodeOptions = profiling ? `--cpu-prof --cpu-prof-dir=${profDir}` : '';
/** Collections in a process's output so far: [scavenges, mark-compacts]. */
const gcCounts = (output: string): [number, number] => [output.match(/: Scavenge/g)?.length ?? 0, output.match(/: Mark-Compact/g)?.length ?? 0];
const SOCKET_CALLS = 'write,writev,sendmsg,sendto,read,readv,recvmsg,recvfrom';

function traceSyscalls(pid: number, file: string): ChildProcess {
  return spawn('strace', ['-c', '-f', ...(allSyscalls ? [] : ['-e', `trace=${SOCKET_CALLS}`]), '-o', file, '-p', String(pid)], { stdio: 'ignore' });
}

/** strace -c's table → "writev 1.00, read 2.01 …" per request. */
async function syscallsPerRequest(tracer: ChildProcess, file: string, requests: number): Promise<string> {
  const exited = new Promise((resolve) => tracer.once('exit', resolve));
  tracer.kill('SIGINT');
  await exited;
  const counts: [string, number][] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const fields = line.trim().split(/\s+/);
    const name = fields.at(-1)!;
    if (fields.length >= 5 && /^[a-z_0-9]+$/.test(name) && name !== 'syscall' && name !== 'total' && (allSyscalls || SOCKET_CALLS.split(',').includes(name))) counts.push([name, Number(fields[3]) / requests]);
  }
  if (allSyscalls) counts.sort((a, b) => b[1] - a[1]).splice(10);
  return counts.map(([name, perRequest]) => `${name} ${perRequest.toFixed(2)}`).join(', ');
}
const outDir = path.resolve(import.meta.dirname, '../profiles');
mkdirSync(outDir, { recursive: true });

const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
const system = await startSystem({ unixSocket, ...(traceGc ? { gatewayNodeArgs: ['--trace-gc'] } : {}), ...(baseGatewayMain ? { gateways: 2, gatewayMains: [undefined, path.resolve(baseGatewayMain)] } : {}), env: { CONIFER_LOG_LEVEL: logLevel, ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) } });
let requests = 0;
let baseRequests = 0;
let window: [number, number] | undefined;
/** User and system CPU seconds separately (system: the kernel's socket work, e.g. loopback TCP on each write). */
const cpuSplit = (pid: number): [number, number] => {
  const { user, system } = cpuTime(pid);
  return [user, system];
};
const cpuLines: string[] = [];
try {
  const projectId = await system.defaultProjectId();
  const apiKey = (await system.mintKey(projectId, ['ProjectEditor'])).value;
  const headers = { 'api-key': apiKey, 'content-type': 'application/json' };
  const created = await json(`${system.gatewayUrl}/indexes`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name: 'prof', dimension: dim, metric: 'cosine', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
  });
  const data = makeDataset({ n: 1000, dim, seed: 1 });
  for (const { body } of upsertBodies(data)) await json(`${created.host}/vectors/upsert`, { method: 'POST', headers, body });
  const body = upsert ? upsertBodies(data)[0]!.body : queryBody(data.makeQueries(1)[0], { topK: 10 });
  for (let i = 0; i < (upsert ? 20 : 500); i++) await request(`${created.host}${route}`, { method: 'POST', headers, body });
  const gatewayPid = system.gateways[0]!.child.pid!;
  const storePid = system.store.child.pid!;
  // The same index through the base gateway (another build, same store, database and key): its URL is the
  // index host's path on that gateway's origin.
  const baseGateway = baseGatewayMain ? system.gateways[1]! : undefined;
  const baseUrl = baseGateway ? `${baseGateway.url}${new URL(created.host).pathname}${route}` : undefined;
  if (baseUrl) for (let i = 0; i < (upsert ? 20 : 500); i++) await request(baseUrl, { method: 'POST', headers, body });
  const basePid = baseGateway?.child.pid;
  // Background CPU (health checks, revocation polling, metrics, the ANN thread…) over 4 idle seconds, subtracted
  // below: at low request rates it would otherwise dominate "CPU per request".
  const idlePids = [gatewayPid, storePid, ...(basePid ? [basePid] : [])];
  const idle0 = idlePids.map(cpuSeconds);
  await new Promise((resolve) => setTimeout(resolve, 4000));
  const idle = idlePids.map((pid, i) => (cpuSeconds(pid) - idle0[i]!) / 4);
  const idleOf = (pid: number): number => idle[idlePids.indexOf(pid)] ?? 0;

  interface Target {
    name: string;
    url: string;
    headers: Record<string, string>;
    pid: () => number;
    /** The hop's output (gateways: for --trace-gc). */
    output?: () => string;
    gc: [number, number];
    requests: number;
    seconds: number;
    hop: number;
    hopSplit: [number, number];
    store: number;
    client: number;
    p50: number[];
    p99: number[];
    non2xx: number;
  }
  const target = (name: string, url: string, hopHeaders: Record<string, string>, pid: () => number, output?: () => string): Target => ({
    name, url, headers: hopHeaders, pid, output, gc: [0, 0], requests: 0, seconds: 0, hop: 0, hopSplit: [0, 0], store: 0, client: 0, p50: [], p99: [], non2xx: 0,
  });
  const targets: Target[] = [target(`${label} gateway`, `${created.host}${route}`, headers, () => gatewayPid, () => system.gateways[0]!.output())];
  if (baseUrl) targets.push(target('base gateway', baseUrl, headers, () => basePid!, () => baseGateway!.output()));
  const nginxBinary = findNginx();
  const nginx = nginxBinary ? await startNginx(nginxBinary, new URL(system.store.url).port, mkdtempSync(path.join(os.tmpdir(), 'conifer-nginx-'))) : undefined;
  try {
    if (nginx) {
      const internal: Record<string, string> = { 'x-conifer-internal-token': system.env.CONIFER_INTERNAL_TOKEN!, 'content-type': 'application/json' };
      const indexId = (await json(`${system.store.url}/internal/indexes`, { headers: internal })).indexes[0].indexId;
      const workers = execFileSync('pgrep', ['-f', `nginx: worker process`], { encoding: 'utf8' }).trim().split('\n').map(Number);
      const worker = workers.sort((a, b) => b - a)[0]!;
      targets.push(target('nginx', `${nginx.url}/internal/indexes/${indexId}${route}`, internal, () => worker));
    }
    const startUs = Number(process.hrtime.bigint() / 1000n);
    const traceDir = syscalls ? mkdtempSync(path.join(os.tmpdir(), 'conifer-strace-')) : '';
    const tracers = syscalls ? [traceSyscalls(gatewayPid, path.join(traceDir, 'gateway')), traceSyscalls(storePid, path.join(traceDir, 'store'))] : [];
    if (syscalls) await new Promise((resolve) => setTimeout(resolve, 500));
    const sliceSeconds = Math.max(1, Math.round(duration / slices));
    for (let slice = 0; slice < slices; slice++) {
      // The order rotates, so that a change in the machine's load falls on every target alike.
      for (let k = 0; k < targets.length; k++) {
        const t = targets[(slice + k) % targets.length]!;
        const hopPid = t.pid();
        const before = [cpuSeconds(hopPid), cpuSeconds(storePid)];
        const splitBefore = cpuSplit(hopPid);
        const gcBefore = traceGc && t.output ? gcCounts(t.output()) : undefined;
        const client0 = process.cpuUsage();
        const t0 = performance.now();
        const result = await autocannon({ url: t.url, method: 'POST', headers: t.headers, body, connections, duration: sliceSeconds, ...(rate ? { overallRate: rate } : {}) });
        const client = process.cpuUsage(client0);
        const after = [cpuSeconds(hopPid), cpuSeconds(storePid)];
        const splitAfter = cpuSplit(hopPid);
        t.seconds += (performance.now() - t0) / 1000;
        t.requests += result.requests.total;
        t.hop += after[0]! - before[0]!;
        t.store += after[1]! - before[1]!;
        t.hopSplit[0] += splitAfter[0] - splitBefore[0];
        t.hopSplit[1] += splitAfter[1] - splitBefore[1];
        t.client += (client.user + client.system) / 1e6;
        t.p50.push(result.latency.p50);
        t.p99.push(result.latency.p99);
        t.non2xx += result.non2xx;
        if (gcBefore) {
          const gcAfter = gcCounts(t.output!());
          t.gc[0] += gcAfter[0] - gcBefore[0];
          t.gc[1] += gcAfter[1] - gcBefore[1];
        }
      }
    }
    window = [startUs, Number(process.hrtime.bigint() / 1000n)];
    requests = targets[0]!.requests;
    baseRequests = baseUrl ? targets[1]!.requests : 0;
    if (syscalls) {
      cpuLines.push(
        `${label}: ${allSyscalls ? 'commonest' : 'socket'} syscalls per request (strace -c, load window): gateway ${await syscallsPerRequest(tracers[0]!, path.join(traceDir, 'gateway'), requests)}; ` +
          `store ${await syscallsPerRequest(tracers[1]!, path.join(traceDir, 'store'), requests)}`,
      );
    }
    for (const t of targets) {
      const us = (seconds: number): string => ((seconds * 1e6) / t.requests).toFixed(0);
      const hopIdle = t.name === 'nginx' ? 0 : idleOf(t.pid());
      cpuLines.push(
        `${t.name}: ${t.requests} requests in ${t.seconds.toFixed(1)} s (${Math.round(t.requests / t.seconds)} req/s, p50 ${t.p50.join('/')} ms, p99 ${t.p99.join('/')} ms, non-2xx ${t.non2xx}); ` +
          `CPU per request (/proc, user+system, profiler ${profiling ? 'on' : 'off'}): hop ${us(t.hop)} µs (user / system ${us(t.hopSplit[0])} / ${us(t.hopSplit[1])}), store ${us(t.store)} µs, ` +
          `client (autocannon, this process) ${us(t.client)} µs; hop net of its idle background (${(hopIdle * 1000).toFixed(0)} ms/s) ${us(t.hop - hopIdle * t.seconds)} µs` +
          (traceGc && t.output ? `; GC per 10k requests: ${((t.gc[0] * 1e4) / t.requests).toFixed(1)} scavenges, ${((t.gc[1] * 1e4) / t.requests).toFixed(2)} mark-compacts` : ''),
      );
    }
    if (targets.length > 1) {
      const rps = (t: Target): number => t.requests / t.seconds;
      const first = targets[0]!;
      cpuLines.push(
        `${label}: req/s ratios: ${targets.slice(1).map((t) => `${first.name} ÷ ${t.name} ${(rps(first) / rps(t)).toFixed(2)}×`).join(', ')}` +
          (nginx && baseUrl ? `, base gateway ÷ nginx ${(rps(targets[1]!) / rps(targets[2]!)).toFixed(2)}×` : '') +
          `; ${slices} slice(s) of ${sliceSeconds} s per target; load average at start ${load}, at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
      );
    }
  } finally {
    nginx?.stop();
  }
  for (const line of cpuLines) process.stderr.write(`${line}\n`);
  if (traceGc) {
    // The gateways' collections themselves (kind, heap before → after, pause, reason), for the record.
    for (const [i, gateway] of system.gateways.entries()) {
      const lines = gateway.output().split('\n').filter((l) => / ms: (Scavenge|Mark-Compact|Minor)/.test(l));
      writeFileSync(path.join(outDir, `${label}-gateway${i === 0 ? '' : '-base'}-gc.txt`), `${lines.join('\n')}\n`);
    }
  }
} finally {
  await system.stop();
}
const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
const pidOf = (f: string): number => Number(f.split('.')[3]);
const threadOf = (f: string): number => Number(f.split('.')[4]);
for (const f of files) {
  const pid = pidOf(f);
  const isBase = baseGatewayMain !== undefined && pid === system.gateways[1]?.child.pid;
  const process_ = pid === system.store.child.pid ? 'store' : isBase ? 'gateway-base' : system.gateways.some((g) => g.child.pid === pid) ? 'gateway' : `pid${pid}`;
  // Worker threads (the store's ANN builder, parse workers) write profiles of their own.
  const which = threadOf(f) === 0 ? process_ : `${process_}-thread${threadOf(f)}`;
  const text = summarize(path.join(profDir, f), {
    requests: isBase ? baseRequests : process_ === 'store' ? requests + baseRequests : requests,
    window,
    label: `${which} under load (${label}): POST ${route} via the gateway, 1,000 × ${dim}${upsert ? ', the first upsert body' : ', top_k 10'}, ${connections} connections, ${duration} s; load average at start ${load}`,
  });
  writeFileSync(path.join(outDir, `${label}-${which}.txt`), `${cpuLines.map((l) => `> ${l}`).join('\n')}\n\n${text}`);
  process.stderr.write(`wrote bench/profiles/${label}-${which}.txt\n`);
}
