#!/usr/bin/env -S node --experimental-strip-types
// The gateway's write of one framed request (issue 13), alone: the frames built with the body copied into one
// new buffer (`encodeRequest`, the store client before this change) against the frame headers written around the
// body's own bytes (`encodeRequestFrames`), both through a FrameWriter on a loopback TCP socket whose reader is a
// child process that discards what it reads. Each request is its own event-loop turn (as a lone query is), the
// body a new buffer per request (as the received chunk is). CPU of this process per request (process.cpuUsage:
// user + system, the kernel's send included), the two variants alternating in blocks, several rounds.
//   node --experimental-strip-types bench/src/frame-write-micro.ts [--bytes=8300] [--requests=5000] [--rounds=6]
import { fork } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { encodeRequest, encodeRequestFrames, FrameWriter } from '@conifer/contracts';
import { median } from './util.ts';

const option = (name: string, fallback: number): number => Number(process.argv.slice(2).find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);

if (process.argv[2] === 'sink') {
  const server = createServer((socket) => socket.resume());
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as AddressInfo).port));
} else {
  const bytes = option('bytes', 8300);
  const requests = option('requests', 5000);
  const rounds = option('rounds', 6);
  const sink = fork(import.meta.filename, ['sink'], { execArgv: process.execArgv });
  const port = await new Promise<number>((resolve) => sink.once('message', (m) => resolve(m as number)));
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise((resolve) => socket.once('connect', resolve));
  const writer = new FrameWriter(socket);
  const headers = ['x-request-id', '6a1f0e52-3c1d-4a4e-9d57-0d5f2b3c4e5f', 'content-type', 'application/json', 'content-length', String(bytes)];
  const template = Buffer.alloc(bytes, 0x31);
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  const variants = {
    copy: (id: number, body: Buffer) => void writer.write(encodeRequest(id, 'POST', '/internal/indexes/ix-1/query', headers, body)),
    parts: (id: number, body: Buffer) => {
      for (const part of encodeRequestFrames(id, 'POST', '/internal/indexes/ix-1/query', headers, body)) writer.write(part);
    },
  };
  const cpu: Record<string, number[]> = { copy: [], parts: [] };
  for (let round = 0; round < rounds + 1; round++) {
    for (const name of round % 2 === 0 ? (['copy', 'parts'] as const) : (['parts', 'copy'] as const)) {
      const t0 = process.cpuUsage();
      for (let i = 0; i < requests; i++) {
        const body = Buffer.allocUnsafe(bytes);
        template.copy(body);
        variants[name](i + 1, body);
        await turn();
      }
      const used = process.cpuUsage(t0);
      if (round > 0) cpu[name]!.push((used.user + used.system) / requests); // round 0: warm-up
    }
  }
  console.log(`${bytes}-byte bodies, ${requests} requests × ${rounds} rounds per variant: CPU per request (µs, median of rounds) copy ${median(cpu.copy!).toFixed(1)} [${cpu.copy!.map((x) => x.toFixed(1)).join(' ')}], parts ${median(cpu.parts!).toFixed(1)} [${cpu.parts!.map((x) => x.toFixed(1)).join(' ')}]`);
  socket.destroy();
  sink.kill();
}
