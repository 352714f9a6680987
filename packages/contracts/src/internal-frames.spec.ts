import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  decodeRequestHead,
  decodeResponseHead,
  encodeCancel,
  encodeData,
  encodeRequest,
  encodeRequestFrames,
  encodeResponse,
  encodeWindow,
  FLAG_END,
  FrameDecoder,
  FrameProtocolError,
  FrameType,
  FrameWriter,
  MAX_DATA_BYTES,
  MAX_FRAME_BYTES,
  type Frame,
} from './internal-frames.js';

const HEADER_LENGTH = 10;

/** Decodes `bytes` fed in the given chunk sizes; copies payloads (they are views into the chunks). */
function decode(bytes: Buffer, chunkSizes: (index: number) => number, options?: { dataInPieces?: boolean }): Frame[] {
  const frames: Frame[] = [];
  const decoder = new FrameDecoder((frame) => frames.push({ ...frame, payload: Buffer.from(frame.payload) }), options);
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = Math.max(1, chunkSizes(i));
    decoder.push(bytes.subarray(at, at + size));
    at += size;
  }
  expect(decoder.buffered).toBe(0);
  return frames;
}

function body(frames: Frame[], stream: number): Buffer {
  return Buffer.concat(frames.filter((f) => f.stream === stream && f.type === FrameType.Data).map((f) => f.payload));
}

/**
 * Twelve request streams, each followed by a WINDOW frame, back to back: bodies empty (1 in 3), larger than two DATA
 * frames (1 in `bigEvery` of the rest) or up to 5000 bytes, with bytes that differ by stream (`fill`). `random` is
 * the seeded generator, left for the test's own draws.
 */
function requestStreams(seed: number, bigEvery: number, fill: number): { random: (n: number) => number; streams: { stream: number; body: Buffer }[]; bytes: Buffer } {
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const streams: { stream: number; body: Buffer }[] = [];
  const parts: Buffer[] = [];
  for (let i = 1; i <= 12; i++) {
    const body = Buffer.alloc(random(3) === 0 ? 0 : random(bigEvery) === 0 ? MAX_DATA_BYTES * 2 + random(1000) : random(5000));
    for (let j = 0; j < body.length; j++) body[j] = (i * fill + j) & 0xff;
    streams.push({ stream: i, body });
    parts.push(encodeRequest(i, 'POST', `/p/${i}`, ['content-type', 'application/json'], body.length === 0 ? undefined : body), encodeWindow(i, i));
  }
  return { random, streams, bytes: Buffer.concat(parts) };
}

describe('internal frames codec', () => {
  const request = encodeRequest(7, 'POST', '/internal/indexes/a%2Fb/query?x=é', ['x-request-id', 'r-1', 'content-type', 'application/json'], Buffer.from('{"topK":1}'));
  const response = encodeResponse(7, 404, ['content-type', 'application/json', 'x-conifer-applied-seq', '12'], Buffer.from('{"code":5}'));

  it('round-trips a request and a response, whole or byte by byte, or several frames in one chunk', () => {
    const both = Buffer.concat([request, response, encodeCancel(9)]);
    for (const sizes of [() => both.length, () => 1, (i: number) => (i % 3) + 2, () => 11]) {
      const frames = decode(both, sizes);
      expect(frames.map((f) => [f.type, f.stream, f.flags])).toEqual([
        [FrameType.Request, 7, 0],
        [FrameType.Data, 7, FLAG_END],
        [FrameType.Response, 7, 0],
        [FrameType.Data, 7, FLAG_END],
        [FrameType.Cancel, 9, FLAG_END],
      ]);
      expect(decodeRequestHead(frames[0]!.payload)).toEqual({
        method: 'POST',
        path: '/internal/indexes/a%2Fb/query?x=é',
        headers: ['x-request-id', 'r-1', 'content-type', 'application/json'],
      });
      expect(frames[1]!.payload.toString()).toBe('{"topK":1}');
      expect(decodeResponseHead(frames[2]!.payload)).toEqual({ status: 404, headers: ['content-type', 'application/json', 'x-conifer-applied-seq', '12'] });
      expect(frames[3]!.payload.toString()).toBe('{"code":5}');
    }
  });

  it('marks a head without body as the end of its stream', () => {
    const frames = decode(encodeRequest(1, 'GET', '/healthz', [], undefined), () => 1000);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.flags & FLAG_END).toBe(FLAG_END);
    const open = decode(encodeResponse(2, 200, [], undefined, false), () => 1000);
    expect(open[0]!.flags & FLAG_END).toBe(0);
    // A head with the first part of a body that goes on: no END anywhere.
    const partial = decode(encodeResponse(2, 200, [], Buffer.alloc(MAX_DATA_BYTES + 10), false), () => 100_000);
    expect(partial.map((f) => f.flags)).toEqual([0, 0, 0]);
  });

  it('cuts a large body into DATA frames no larger than MAX_DATA_BYTES, END on the last only', () => {
    const big = Buffer.alloc(2 * MAX_DATA_BYTES + 1234);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    const frames = decode(encodeRequest(3, 'POST', '/u', [], big), (i) => 65_536 + (i % 7));
    const data = frames.filter((f) => f.type === FrameType.Data);
    expect(data.map((f) => f.payload.length)).toEqual([MAX_DATA_BYTES, MAX_DATA_BYTES, 1234]);
    expect(data.map((f) => f.flags)).toEqual([0, 0, FLAG_END]);
    expect(body(frames, 3).equals(big)).toBe(true);
    const continued = decode(encodeData(3, big, false), () => big.length);
    expect(continued.every((f) => f.flags === 0)).toBe(true);
    expect(decode(encodeData(3, Buffer.alloc(0), true), () => 100)).toEqual([expect.objectContaining({ type: FrameType.Data, flags: FLAG_END })]);
  });

  it('encodeRequestFrames: the same frames as encodeRequest, the body written from its own memory (not copied)', () => {
    const headers = ['x-request-id', 'r-2', 'content-type', 'application/json'];
    const small = Buffer.from('{"vector":[0.5,0.25],"topK":3}');
    const smallParts = encodeRequestFrames(5, 'POST', '/q', headers, small);
    expect(smallParts).toHaveLength(2);
    expect(smallParts[1]).toBe(small);
    expect(Buffer.concat(smallParts).equals(encodeRequest(5, 'POST', '/q', headers, small))).toBe(true);
    const big = Buffer.alloc(2 * MAX_DATA_BYTES + 77);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 253;
    const parts = encodeRequestFrames(6, 'POST', '/u', headers, big);
    // head + DATA header, slice, DATA header, slice, DATA header, slice
    expect(parts).toHaveLength(6);
    for (const slice of [parts[1]!, parts[3]!, parts[5]!]) expect(slice.buffer).toBe(big.buffer);
    const frames = decode(Buffer.concat(parts), (i) => 40_000 + (i % 13));
    expect(frames.map((f) => [f.type, f.stream, f.flags, f.payload.length])).toEqual([
      [FrameType.Request, 6, 0, expect.any(Number)],
      [FrameType.Data, 6, 0, MAX_DATA_BYTES],
      [FrameType.Data, 6, 0, MAX_DATA_BYTES],
      [FrameType.Data, 6, FLAG_END, 77],
    ]);
    expect(decodeRequestHead(frames[0]!.payload)).toEqual({ method: 'POST', path: '/u', headers });
    expect(body(frames, 6).equals(big)).toBe(true);
    // A body in several buffers (as received): one DATA frame per buffer, a large one cut, an empty one skipped.
    const chunks = [Buffer.from('{"a":'), Buffer.alloc(0), big, Buffer.from('}')];
    const chunked = encodeRequestFrames(9, 'POST', '/u', headers, chunks);
    expect(chunked.filter((part) => part.buffer === big.buffer)).toHaveLength(3);
    const chunkedFrames = decode(Buffer.concat(chunked), () => 65_536);
    expect(chunkedFrames.slice(1).map((f) => [f.flags, f.payload.length])).toEqual([
      [0, 5],
      [0, MAX_DATA_BYTES],
      [0, MAX_DATA_BYTES],
      [0, 77],
      [FLAG_END, 1],
    ]);
    expect(body(chunkedFrames, 9).equals(Buffer.concat(chunks))).toBe(true);
    // No body (or an empty one): the head alone, with END.
    for (const none of [undefined, Buffer.alloc(0)]) {
      const only = encodeRequestFrames(8, 'GET', '/healthz', [], none);
      expect(only).toHaveLength(1);
      expect(decode(only[0]!, () => 100).map((f) => [f.type, f.flags])).toEqual([[FrameType.Request, FLAG_END]]);
    }
  });

  it('refuses malformed frames with FrameProtocolError (never another error, never a frame)', () => {
    const cases: Buffer[] = [
      Buffer.from([0, 0, 0, 2, 1, 0, 0, 0, 0, 1]), // length below the header
      Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 1]), // length beyond the maximum
      (() => {
        const b = Buffer.alloc(10);
        b.writeUInt32BE(MAX_FRAME_BYTES - 3, 0); // one byte over
        b[4] = FrameType.Data;
        return b;
      })(),
      Buffer.from([0, 0, 0, 6, 99, 0, 0, 0, 0, 1]), // unknown type
    ];
    for (const bad of cases) {
      const frames: Frame[] = [];
      const decoder = new FrameDecoder((frame) => frames.push(frame));
      expect(() => decoder.push(bad)).toThrow(FrameProtocolError);
      expect(frames).toEqual([]);
    }
    // Heads whose strings run past the payload, or do not come in pairs.
    expect(() => decodeRequestHead(Buffer.from([0, 5, 0x41]))).toThrow(FrameProtocolError);
    expect(() => decodeRequestHead(Buffer.from([0, 1]))).toThrow(FrameProtocolError);
    expect(() => decodeRequestHead(Buffer.from([0, 1, 0x47]))).toThrow(FrameProtocolError); // method only
    expect(() => decodeResponseHead(Buffer.from([1]))).toThrow(FrameProtocolError);
    expect(() => decodeResponseHead(Buffer.from([0, 200, 0, 1, 0x61]))).toThrow(FrameProtocolError); // a name without value
    expect(() => encodeRequest(1, 'GET', 'x'.repeat(70_000), [], undefined)).toThrow(FrameProtocolError);
    expect(() => encodeRequestFrames(1, 'GET', 'x'.repeat(70_000), [], Buffer.from('{}'))).toThrow(FrameProtocolError);
  });

  it('frames a body given in pieces however it was cut, without copying it: the same body and head as encodeRequest', () => {
    const whole = Buffer.alloc(MAX_DATA_BYTES * 3 + 12_345);
    for (let j = 0; j < whole.length; j++) whole[j] = (j * 7) & 0xff;
    const cuts = [
      [whole.length],
      [1, whole.length - 1],
      [65_536, 65_536, 65_536, 65_536, whole.length - 4 * 65_536],
      [MAX_DATA_BYTES, MAX_DATA_BYTES, whole.length - 2 * MAX_DATA_BYTES],
      [MAX_DATA_BYTES - 1, 0, 2, whole.length - MAX_DATA_BYTES - 1],
    ];
    for (const sizes of cuts) {
      const pieces: Buffer[] = [];
      let at = 0;
      for (const size of sizes) {
        pieces.push(whole.subarray(at, at + size));
        at += size;
      }
      const parts = encodeRequestFrames(9, 'POST', '/vectors/upsert', ['content-type', 'application/json'], pieces);
      const frames = decode(Buffer.concat(parts), () => 65_536);
      expect(decodeRequestHead(frames[0]!.payload)).toEqual({ method: 'POST', path: '/vectors/upsert', headers: ['content-type', 'application/json'] });
      expect(body(frames, 9).equals(whole)).toBe(true);
      expect(frames.at(-1)!.flags & FLAG_END).toBe(FLAG_END);
      // The body's bytes are views into the pieces (same memory), not copies.
      for (const part of parts.slice(1)) if (part.length > HEADER_LENGTH) expect(part.buffer).toBe(whole.buffer);
    }
    expect(Buffer.concat(encodeRequestFrames(2, 'GET', '/x', [], [])).equals(encodeRequest(2, 'GET', '/x', [], undefined))).toBe(true);
  });

  it('gives the same frames however the stream is cut (split headers, one-byte chunks, chunks spanning frames)', () => {
    const { random, streams, bytes } = requestStreams(7, 4, 31);
    // Frames compared by their fields and a digest of the payload (jest compares large buffers slowly).
    const digest = (frames: Frame[]) => frames.map((f) => `${f.type}/${f.flags}/${f.stream}/${f.payload.length}/${createHash('sha1').update(f.payload).digest('hex')}`);
    const reference = digest(decode(bytes, () => bytes.length));
    for (const cut of [(i: number) => (i < 5000 ? 1 : 50_000), () => 1 + random(12) * 100, () => 1 + random(70_000), () => 65_536, () => 1 + random(600_000)]) {
      const frames = decode(bytes, cut);
      expect(digest(frames)).toEqual(reference);
      for (const { stream, body: sent } of streams) expect(body(frames, stream).equals(sent)).toBe(true);
    }
  });

  it('with dataInPieces, passes a split DATA frame on as it arrives, unjoined: the same bodies, END only on the last piece', () => {
    const { random, streams, bytes } = requestStreams(11, 3, 17);
    const whole = decode(bytes, () => bytes.length);
    const others = (frames: Frame[]) => frames.filter((f) => f.type !== FrameType.Data).map((f) => [f.type, f.flags, f.stream, f.payload.toString('hex')]);
    for (const cut of [() => 1, () => 1 + random(12) * 100, () => 1 + random(70_000), () => 65_536, (i: number) => (i % 2 === 0 ? 9 : 65_536)]) {
      const frames = decode(bytes, cut, { dataInPieces: true });
      // Every frame that is not DATA is whole and in the same order; each body is its pieces in order.
      expect(others(frames)).toEqual(others(whole));
      for (const { stream, body: sent } of streams) {
        const data = frames.filter((f) => f.type === FrameType.Data && f.stream === stream);
        expect(body(frames, stream).equals(sent)).toBe(true);
        // (An empty body is sent as a REQUEST frame with END, and no DATA.)
        expect(data.map((f) => f.flags & FLAG_END)).toEqual(sent.length === 0 ? [] : [...data.slice(1).map(() => 0), FLAG_END]);
      }
    }
    // A 64 KB read of a 256 KB DATA frame comes out as a view into that read: nothing is joined.
    const big = encodeData(3, Buffer.alloc(MAX_DATA_BYTES, 1), true);
    const seen: Frame[] = [];
    const decoder = new FrameDecoder((frame) => seen.push(frame), { dataInPieces: true });
    const reads = [0, 1, 2, 3, 4].map((i) => Buffer.from(big.subarray(i * 65_536, (i + 1) * 65_536)));
    for (const read of reads) decoder.push(read);
    expect(seen.map((f) => [f.payload.length, f.flags])).toEqual([
      [65_536 - HEADER_LENGTH, 0],
      [65_536, 0],
      [65_536, 0],
      [65_536, 0],
      [HEADER_LENGTH, FLAG_END],
    ]);
    seen.forEach((f, i) => expect(f.payload.buffer).toBe(reads[i]!.buffer));
    expect(decoder.buffered).toBe(0);
  });

  it('refuses a bad length as soon as the header is whole, also when it came in pieces', () => {
    const bad = Buffer.from([0, 0x10, 0, 0, FrameType.Data, 0, 0, 0, 0, 1]); // 1 MiB: over MAX_FRAME_BYTES
    const decoder = new FrameDecoder(() => undefined);
    decoder.push(bad.subarray(0, 3));
    decoder.push(bad.subarray(3, 7));
    expect(() => decoder.push(bad.subarray(7))).toThrow(FrameProtocolError);
    // With dataInPieces too, whether the header comes whole at a chunk's end or in pieces, and for a length too
    // short to be a frame (a DATA frame's header left unchecked would pass on bytes that are not its payload).
    const short = Buffer.from([0, 0, 0, 2, FrameType.Data, 0, 0, 0, 0, 1]);
    for (const header of [bad, short]) {
      const whole = Buffer.concat([encodeWindow(1, 1), header]);
      expect(() => new FrameDecoder(() => undefined, { dataInPieces: true }).push(whole)).toThrow(FrameProtocolError);
      const pieces = new FrameDecoder(() => undefined, { dataInPieces: true });
      pieces.push(header.subarray(0, 3));
      expect(() => pieces.push(header.subarray(3))).toThrow(FrameProtocolError);
    }
  });

  it('keeps an incomplete tail only until the rest arrives', () => {
    const frames: Frame[] = [];
    const decoder = new FrameDecoder((frame) => frames.push(frame));
    decoder.push(request.subarray(0, 5));
    expect(decoder.buffered).toBe(5);
    decoder.push(request.subarray(5));
    expect(decoder.buffered).toBe(0);
    expect(frames).toHaveLength(2);
  });
});

describe('FrameWriter', () => {
  it('sends the frames written in one event-loop turn in one write, and a later turn in another', async () => {
    const writes: number[] = [];
    const socket = new Writable({
      write(chunk, _encoding, done) {
        writes.push(1);
        done();
      },
      writev(chunks, done) {
        writes.push(chunks.length);
        done();
      },
    });
    const writer = new FrameWriter(socket);
    for (let i = 0; i < 3; i++) expect(writer.write(encodeCancel(i))).toBe(true);
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([3]);
    writer.write(encodeCancel(9));
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([3, 1]);
  });
});
