#!/usr/bin/env -S node --experimental-strip-types
// How much of a hop node:http's server layers can be worth (issue 13, session 8): the overhead section's floor
// server (floor-server.ts) as node:http and as a bare net.Server answering the same bytes (FLOOR_RAW=1), each in
// its own process, timed in the same rounds: sequential latency (the bench's node:http client and the lean raw
// client, targets interleaved, order rotated) and CPU per request of each server process (/proc), sequential and
// under autocannon (16 connections, slices in turn). The bare server is no HTTP server; the difference is an
// upper bound on what reading the gateway's sockets without node:http could save per hop.
//   node --experimental-strip-types bench/src/socket-floor.ts [--rounds=3000] [--seconds=12] [--slices=4]
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { cpuSeconds, percentile, RawHttpClient, request } from './util.ts';

const option = (name: string, fallback: number): number => Number(process.argv.slice(2).find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const rounds = option('rounds', 3000);
const seconds = option('seconds', 12);
const slices = option('slices', 4);
// The overhead section's query body size and a store answer of the same shape (1,000 × 128, top_k 10).
const queryBody = JSON.stringify({ vector: Array.from({ length: 128 }, (_, i) => Math.round(Math.sin(i) * 1e4) / 1e4), topK: 10 });
const answer = JSON.stringify({ matches: Array.from({ length: 10 }, (_, i) => ({ id: `v${i}`, score: 0.9 - i / 100, values: [] })), namespace: '', usage: { readUnits: 1 } });

async function start(raw: boolean): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--experimental-strip-types', '--no-warnings=ExperimentalWarning', path.resolve(import.meta.dirname, 'floor-server.ts')], {
    env: { ...process.env, FLOOR_BODY: answer, FLOOR_RAW: raw ? '1' : '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`floor server exited (${code})`)));
    child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
  });
  return { url: `http://127.0.0.1:${port}/query`, child };
}

const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const loadAtStart = load();
const servers = { http: await start(false), raw: await start(true) };
try {
  const names = ['http', 'raw'] as const;
  const clients = Object.fromEntries(names.map((n) => [n, new RawHttpClient(new URL(servers[n].url), 'POST', {}, queryBody)])) as Record<(typeof names)[number], RawHttpClient>;
  const probes = names.flatMap((n) => [
    { server: n, client: 'node:http client', send: () => request(servers[n].url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: queryBody }) },
    { server: n, client: 'lean client', send: () => clients[n].send() },
  ]);
  const times = probes.map(() => [] as number[]);
  for (let i = 0; i < 300; i++) for (const p of probes) await p.send();
  const cpuBefore = names.map((n) => cpuSeconds(servers[n].child.pid!));
  for (let i = 0; i < rounds; i++) {
    for (let k = 0; k < probes.length; k++) {
      const at = (i + k) % probes.length;
      const response = await probes[at]!.send();
      if (response.status !== 200) throw new Error(`${response.status}`);
      times[at]!.push(response.ms);
    }
  }
  const sequentialCpu = names.map((n, i) => ((cpuSeconds(servers[n].child.pid!) - cpuBefore[i]!) / (rounds * 2)) * 1e6);
  for (const [i, p] of probes.entries()) console.log(`sequential, ${p.client}, ${p.server === 'http' ? 'node:http server' : 'bare net server'}: p50 ${percentile(times[i]!, 50).toFixed(3)} ms, p99 ${percentile(times[i]!, 99).toFixed(3)} ms`);
  console.log(`sequential CPU per request: node:http server ${sequentialCpu[0]!.toFixed(0)} µs, bare net server ${sequentialCpu[1]!.toFixed(0)} µs`);
  for (const c of Object.values(clients)) c.close();

  const totals = names.map(() => ({ requests: 0, cpu: 0, seconds: 0 }));
  for (let s = 0; s < slices; s++) {
    for (let k = 0; k < names.length; k++) {
      const at = (s + k) % names.length;
      const pid = servers[names[at]!].child.pid!;
      const cpu = cpuSeconds(pid);
      const result = await autocannon({ url: servers[names[at]!].url, method: 'POST', headers: { 'content-type': 'application/json' }, body: queryBody, connections: 16, duration: seconds / slices });
      totals[at]!.cpu += cpuSeconds(pid) - cpu;
      totals[at]!.requests += result.requests.total;
      totals[at]!.seconds += seconds / slices;
    }
  }
  for (const [i, n] of names.entries()) {
    const t = totals[i]!;
    console.log(`saturation (autocannon, 16 connections, ${slices} slices), ${n === 'http' ? 'node:http server' : 'bare net server'}: ${(t.requests / t.seconds).toFixed(0)} req/s, CPU per request ${((t.cpu / t.requests) * 1e6).toFixed(1)} µs`);
  }
  console.log(`load average at start ${loadAtStart}, at end ${load()}`);
} finally {
  for (const s of Object.values(servers)) s.child.kill('SIGTERM');
}
