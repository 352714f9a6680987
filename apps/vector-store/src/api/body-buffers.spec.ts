// Upsert bodies read into reused buffers: the same bytes and the same Fastify errors as `parseAs: 'buffer'`,
// buffers reused once given back, the free list bounded and emptied when idle.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { BodyBuffers, readBodyInto } from './body-buffers.js';

/** Sends `chunks` through a stream into readBodyInto; resolves with the body or rejects with the error. */
function read(buffers: BodyBuffers, chunks: Buffer[], contentLength: string | undefined, limit = 1 << 20): Promise<Buffer> {
  const stream = new PassThrough();
  const result = new Promise<Buffer>((resolve, reject) =>
    readBodyInto(buffers, stream, contentLength, limit, (error, body) => (error === null ? resolve(body!) : reject(error))),
  );
  for (const chunk of chunks) stream.write(chunk);
  stream.end();
  return result;
}

const bytes = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

describe('readBodyInto', () => {
  it('gives the body whole, from one chunk or many, with or without a Content-Length', async () => {
    const buffers = new BodyBuffers();
    const body = bytes(300_000, 1);
    const pieces = [body.subarray(0, 1), body.subarray(1, 65_537), body.subarray(65_537, 200_000), body.subarray(200_000)];
    for (const [chunks, length] of [
      [[body], String(body.length)],
      [pieces, String(body.length)],
      [pieces, undefined],
    ] as const) {
      const got = await read(buffers, [...chunks], length);
      expect(got.equals(body)).toBe(true);
      // Its own ArrayBuffer from the start (what the parse worker is sent whole), never Node's shared pool.
      expect(got.byteOffset).toBe(0);
      buffers.give(got.buffer as ArrayBuffer);
    }
  });

  it("answers Fastify's errors: too large (declared or received), length not matching the body", async () => {
    const buffers = new BodyBuffers();
    const code = (p: Promise<Buffer>): Promise<unknown> => p.then(() => 'no error', (error: { code?: string }) => error.code);
    await expect(code(read(buffers, [bytes(100, 0)], '100', 99))).resolves.toBe('FST_ERR_CTP_BODY_TOO_LARGE');
    await expect(code(read(buffers, [bytes(60, 0), bytes(60, 1)], undefined, 100))).resolves.toBe('FST_ERR_CTP_BODY_TOO_LARGE');
    await expect(code(read(buffers, [bytes(100, 0)], '101'))).resolves.toBe('FST_ERR_CTP_INVALID_CONTENT_LENGTH');
    await expect(code(read(buffers, [bytes(100, 0)], '99'))).resolves.toBe('FST_ERR_CTP_INVALID_CONTENT_LENGTH');
    // A buffer taken for a body that failed goes back to the list (the next one reused it).
    expect(buffers.size).toBe(1);
    expect(buffers.allocated).toBe(1);
  });

  it('passes a stream error on as a 400', async () => {
    const buffers = new BodyBuffers();
    const stream = new PassThrough();
    const result = new Promise<unknown>((resolve) => readBodyInto(buffers, stream, '10', 100, (error) => resolve(error)));
    stream.write(bytes(5, 0));
    stream.destroy(Object.assign(new Error('request aborted'), { code: 'ECONNRESET' }));
    await expect(result).resolves.toMatchObject({ code: 'ECONNRESET', statusCode: 400 });
  });
});

describe('BodyBuffers', () => {
  it('reuses a buffer given back for a body of about its size, and allocates for a much larger one', () => {
    const buffers = new BodyBuffers();
    const first = buffers.take(2_100_000);
    const arrayBuffer = first.buffer;
    buffers.give(arrayBuffer as ArrayBuffer);
    const second = buffers.take(2_050_000);
    expect(second.buffer).toBe(arrayBuffer);
    expect(second.length).toBe(2_050_000);
    expect(buffers.reused).toBe(1);
    buffers.give(second.buffer as ArrayBuffer);
    // 100 KB bodies do not pin a 2 MB buffer each.
    expect(buffers.take(100_000).buffer).not.toBe(arrayBuffer);
    expect(buffers.take(4_000_000).buffer).not.toBe(arrayBuffer);
    expect(buffers.allocated).toBe(3);
  });

  it('keeps a bounded list and ignores buffers it did not make', () => {
    const buffers = new BodyBuffers({ keep: 2 });
    for (let i = 0; i < 5; i++) buffers.give(buffers.take(1000).buffer as ArrayBuffer);
    const taken = [buffers.take(1000), buffers.take(1000), buffers.take(1000)];
    for (const b of taken) buffers.give(b.buffer as ArrayBuffer);
    expect(buffers.size).toBe(2);
    buffers.give(new ArrayBuffer(1000));
    const detached = new ArrayBuffer(256 * 1024);
    structuredClone(detached, { transfer: [detached] });
    buffers.give(detached);
    expect(buffers.size).toBe(2);
    expect(buffers.take(0).length).toBe(0);
  });

  it('empties its list once no buffer has been taken for idleMs', async () => {
    const buffers = new BodyBuffers({ idleMs: 50 });
    buffers.give(buffers.take(1000).buffer as ArrayBuffer);
    expect(buffers.size).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    // Taken and given back again: the idle time starts over.
    buffers.give(buffers.take(1000).buffer as ArrayBuffer);
    await new Promise((resolve) => setTimeout(resolve, 35));
    expect(buffers.size).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(buffers.size).toBe(0);
  });

  it('calls onIdle once when it empties its list after idleMs without a buffer taken', async () => {
    let idle = 0;
    const buffers = new BodyBuffers({ idleMs: 50, onIdle: () => idle++ });
    buffers.give(buffers.take(1000).buffer as ArrayBuffer);
    expect(idle).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect([buffers.size, idle]).toEqual([0, 1]);
  });
});
