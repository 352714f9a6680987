#!/usr/bin/env -S node --experimental-strip-types
// The gateway → store hop alone (issue 13): CPU the calling process spends per forwarded request, undici's
// `pool.request` + `body.arrayBuffer()` (the forward before the store client's own dispatch handler) against
// `VectorStoreClient.forwardStreaming` (packages/store-client, built), same pool settings, alternating rounds in
// one process. The "store" is a bare node:http server in a child process answering a query-sized JSON body
// (1.2 KB, with Content-Length), so that only the client side is measured. The server also listens on a Unix
// domain socket, and `forwardStreaming` over it is the third variant (issue 13 (c): gateway and store on one host);
// the server's CPU per request is read from /proc for every variant, since a socket saves on both ends.
//   node --experimental-strip-types bench/src/forward-micro.ts [--requests=20000] [--concurrency=16] [--rounds=3]
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { Pool } from 'undici';
import { VectorStoreClient, INTERNAL_TOKEN_HEADER } from '@conifer/store-client';
import { cpuSeconds } from './util.ts';

const option = (name: string, fallback: string | number): string | number => process.argv.slice(2).find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;

if (process.argv[2] === 'server') {
  const answer = Buffer.from(JSON.stringify({ results: [], matches: Array.from({ length: 10 }, (_, i) => ({ id: `v${i}`, score: 0.123456789 * i, values: [] })), namespace: '', usage: { readUnits: 5 } }).padEnd(1200, ' '));
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length });
      res.end(answer);
    });
  });
  const unixServer = createServer(server.listeners('request')[0] as Parameters<typeof createServer>[1]);
  server.listen(0, '127.0.0.1', () => unixServer.listen(process.argv[3], () => process.send!((server.address() as AddressInfo).port)));
} else {
  const requests = Number(option('requests', 20000));
  const concurrency = Number(option('concurrency', 16));
  const rounds = Number(option('rounds', 3));
  const socketDir = mkdtempSync(path.join(os.tmpdir(), 'conifer-forward-'));
  const socketPath = path.join(socketDir, 'store.sock');
  const child = fork(new URL(import.meta.url), ['server', socketPath]);
  const port = await new Promise((resolve) => child.once('message', resolve));
  const serverCpu = (): number => cpuSeconds(child.pid!);
  const url = `http://127.0.0.1:${port}`;
  const token = 't'.repeat(40);
  const body = Buffer.from('{"vector":[0.1,0.2],"topK":10}');
  const poolOptions = { connections: 64, pipelining: 1, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000, headersTimeout: 10_000, bodyTimeout: 10_000 };
  const pool = new Pool(url, poolOptions);
  const client = new VectorStoreClient({ url, internalToken: token, timeoutMs: 10_000 });
  const unixClient = new VectorStoreClient({ url, internalToken: token, timeoutMs: 10_000, socketPath });

  const variants = {
    // What forwardStreaming did before: pool.request, then the whole body through BodyReadable.arrayBuffer().
    'pool.request': async (i: number) => {
      const response = await pool.request({ method: 'POST', path: '/internal/indexes/i/query', headers: [INTERNAL_TOKEN_HEADER, token, 'x-request-id', `r${i}`, 'content-type', 'application/json'], body });
      const bytes = Buffer.from(await response.body.arrayBuffer());
      if (bytes.length !== 1200) throw new Error('short answer');
    },
    forwardStreaming: async (i: number) => {
      const response = await client.forwardStreaming('i', { method: 'POST', path: '/query', body, contentType: 'application/json', requestId: `r${i}` });
      if (response.whole?.length !== 1200) throw new Error('short answer');
    },
    'forwardStreaming over a Unix socket': async (i: number) => {
      const response = await unixClient.forwardStreaming('i', { method: 'POST', path: '/query', body, contentType: 'application/json', requestId: `r${i}` });
      if (response.whole?.length !== 1200) throw new Error('short answer');
    },
  };

  async function run(fn: (i: number) => Promise<void>) {
    let next = 0;
    const cpu = process.cpuUsage();
    const server0 = serverCpu();
    const t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < requests) await fn(next++);
      }),
    );
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const used = process.cpuUsage(cpu);
    return { cpuUs: (used.user + used.system) / requests, serverUs: ((serverCpu() - server0) * 1e6) / requests, rate: requests / wall };
  }

  for (const fn of Object.values(variants)) await run(fn); // warm-up
  const results: Record<string, { cpuUs: number; serverUs: number; rate: number }[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(variants)) results[name].push(await run(fn));
  }
  console.log(`forward micro-benchmark: ${requests} requests × ${rounds} rounds per variant, ${concurrency} concurrent, node ${process.version}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  for (const [name, list] of Object.entries(results)) {
    console.log(
      `  ${name.padEnd(36)} CPU per request, client: ${list.map((x) => `${x.cpuUs.toFixed(1)} µs`).join(', ')}; server: ${list.map((x) => `${x.serverUs.toFixed(0)} µs`).join(', ')}; req/s: ${list.map((x) => Math.round(x.rate)).join(', ')}`,
    );
  }
  await pool.close();
  await client.close();
  await unixClient.close();
  child.kill();
  rmSync(socketDir, { recursive: true, force: true });
}
