#!/usr/bin/env -S node --experimental-strip-types
// What a durable 768-d ingest cannot cost less than on this machine (issue 12 part 4): the CPU per 1000 vectors
// of the bare steps every upsert goes through, for the bench's bodies (4-decimal values, as many records per
// body as the 2 MB limit allows), measured alone:
// - in this thread: touching every byte of a body in a JS loop, `toString` + `JSON.parse` (V8's native parser,
//   which builds JS number arrays the store would still have to pack), the store's `readUpsertBody` (values
//   scanned into float32 by the compiled binding where it was built, and by its JavaScript reader), CRC-32 of the packed values (the WAL's checksum);
// - over loopback TCP, 4 requests in flight, CPU of each process from /proc: an HTTP server that reads and
//   drops each body (what a store pays to receive it), and the same behind a bare TCP relay (what a gateway
//   pays to pass the bytes on, with no HTTP parsing at all).
// Not part of `npm run bench`.
//   npx turbo run build && node --experimental-strip-types bench/src/ingest-floor.ts [--n=20000] [--rounds=3]
// With GLIBC_TUNABLES=glibc.malloc.mmap_threshold=32768 (what the store runs with by default: CONIFER_MALLOC_MMAP_THRESHOLD,
// malloc-threshold.ts) every allocation of 32 KB or more is a fresh mapping, as in the store: compare the two to see
// what that costs.
import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';
import { crc32 } from 'node:zlib';
import { makeDataset, upsertBodies } from '@conifer/test-utils';
import { readUpsertBody, useNativeValuesScan } from '@conifer/vector-store';
import { cpuSeconds, freePort, pool, request, sleep } from './util.ts';

const arg = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const N = Number(arg('n', '20000'));
const ROUNDS = Number(arg('rounds', '3'));
const DIM = 768;
const load = (): string => os.loadavg().map((x) => x.toFixed(1)).join(' ');

const native = useNativeValuesScan(true);
const bodies = upsertBodies(makeDataset({ n: N, dim: DIM, seed: DIM }));
const bytes = bodies.reduce((a, b) => a + b.body.length, 0);
console.log(`${N} × ${DIM} in ${bodies.length} bodies (${((bytes / N) * 1000 / 1e6).toFixed(2)} MB of JSON per 1000 vectors); node ${process.version}; values read by the compiled binding: ${native ? 'yes' : 'no (not built)'}; load ${load()}`);

/** CPU ms of this process per 1000 vectors for one pass of `fn` over every body. */
const perK = (fn: (body: Buffer) => unknown): number => {
  const before = process.cpuUsage();
  for (const { body } of bodies) fn(body);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / (N / 1000);
};
let sink = 0;
const inProcess: Record<string, (body: Buffer) => unknown> = {
  'JS loop over every byte': (body) => {
    let s = 0;
    for (let i = 0; i < body.length; i++) s += body[i]!;
    sink += s;
  },
  'toString + JSON.parse': (body) => JSON.parse(body.toString('utf8')),
  'readUpsertBody (the store)': (body) => readUpsertBody(body),
  'readUpsertBody, JavaScript reader only': (body) => {
    useNativeValuesScan(false);
    const read = readUpsertBody(body);
    useNativeValuesScan(true);
    return read;
  },
  'CRC-32 of the packed values': (body) => crc32(packedOf.get(body)!),
};
const packedOf = new Map(bodies.map(({ body }) => [body, readUpsertBody(body).packed!]));
const results: Record<string, number[]> = {};
const add = (name: string, ms: number): void => {
  (results[name] ??= []).push(ms);
};

// Child processes: an HTTP sink, and a TCP relay in front of it.
const SINK = `
const http = require('node:http');
http.createServer((req, res) => { req.on('data', () => {}); req.on('end', () => res.end('{"upsertedCount":1}')); })
  .listen(Number(process.argv[1]), '127.0.0.1');`;
const RELAY = `
const net = require('node:net');
const [port, target] = process.argv.slice(1).map(Number);
net.createServer((client) => {
  const upstream = net.connect(target, '127.0.0.1');
  client.pipe(upstream); upstream.pipe(client);
  client.on('error', () => upstream.destroy()); upstream.on('error', () => client.destroy());
}).listen(port, '127.0.0.1');`;
const start = async (code: string, args: number[]): Promise<ChildProcess> => {
  const child = spawn(process.execPath, ['-e', code, ...args.map(String)], { stdio: 'ignore' });
  await sleep(300);
  return child;
};
const sinkPort = await freePort();
const relayPort = await freePort();
const sinkProcess = await start(SINK, [sinkPort]);
const relayProcess = await start(RELAY, [relayPort, sinkPort]);
const send = async (port: number): Promise<Record<string, number>> => {
  const before = { client: process.cpuUsage(), sink: cpuSeconds(sinkProcess.pid!), relay: cpuSeconds(relayProcess.pid!) };
  await pool(bodies.length, 4, async (i) => {
    const response = await request(`http://127.0.0.1:${port}/`, { method: 'POST', body: bodies[i]!.body });
    if (response.status !== 200) throw new Error(`sink → ${response.status}`);
  });
  const client = process.cpuUsage(before.client);
  const k = N / 1000;
  return {
    client: (client.user + client.system) / 1000 / k,
    sink: ((cpuSeconds(sinkProcess.pid!) - before.sink) * 1000) / k,
    relay: ((cpuSeconds(relayProcess.pid!) - before.relay) * 1000) / k,
  };
};
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, fn] of Object.entries(inProcess)) add(name, perK(fn));
    const direct = await send(sinkPort);
    add('HTTP sink: client', direct.client);
    add('HTTP sink: server (reads and drops)', direct.sink);
    const relayed = await send(relayPort);
    add('via TCP relay: client', relayed.client);
    add('via TCP relay: relay (bytes in, bytes out)', relayed.relay);
    add('via TCP relay: HTTP sink', relayed.sink);
    console.log(`round ${round + 1} done, load ${load()}`);
  }
} finally {
  sinkProcess.kill();
  relayProcess.kill();
}
console.log(`\nCPU ms per 1000 vectors, every round (load at the end ${load()}):`);
for (const [name, xs] of Object.entries(results)) console.log(`| ${name} | ${xs.map((x) => x.toFixed(1)).join(' / ')} |`);
void sink;
