// The store client over the framed protocol (protocol 'frames'), against a small framed store built from the
// contracts codec: what is sent, whole and streamed answers, time-outs (with CANCEL), a connection broken in
// flight, a refused connection, reconnection, and the fall-back to HTTP for a node that does not speak frames.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  decodeRequestHead,
  encodeResponse,
  encodeCancel,
  encodeData,
  FLAG_END,
  FrameDecoder,
  FrameType,
  FRAMES_PROTOCOL,
  UnavailableError,
} from '@conifer/contracts';
import { VectorStoreClient } from './store-client.js';

interface Received {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** The code of the failure under the UnavailableError (what the gateway's replica logic reads). */
function causeCode(error: unknown): string | undefined {
  for (let e = (error as { cause?: unknown }).cause as { code?: string; cause?: unknown } | undefined; e !== undefined; e = e.cause as typeof e) if (typeof e.code === 'string') return e.code;
  return undefined;
}

/** A framed store: answers by path; records requests, upgrades and cancels. */
class FramedStore {
  readonly received: Received[] = [];
  readonly cancelled: number[] = [];
  readonly granted: number[] = [];
  private readonly onGrant = new Map<number, () => void>();
  readonly upgrades: IncomingMessage[] = [];
  readonly sockets = new Set<Duplex>();
  server!: Server;
  url!: string;

  async start(port = 0): Promise<this> {
    this.server = createServer((_req, res) => res.writeHead(404).end());
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      this.upgrades.push(req);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${FRAMES_PROTOCOL}\r\nconnection: Upgrade\r\n\r\n`);
      const bodies = new Map<number, { head: ReturnType<typeof decodeRequestHead>; chunks: Buffer[] }>();
      const decoder = new FrameDecoder((frame) => {
        if (frame.type === FrameType.Cancel) return void this.cancelled.push(frame.stream);
        if (frame.type === FrameType.Window) {
          this.granted.push(frame.payload.readUInt32BE(0));
          this.onGrant.get(frame.stream)?.();
          this.onGrant.delete(frame.stream);
          return;
        }
        if (frame.type === FrameType.Request) bodies.set(frame.stream, { head: decodeRequestHead(frame.payload), chunks: [] });
        else bodies.get(frame.stream)!.chunks.push(Buffer.from(frame.payload));
        if ((frame.flags & FLAG_END) === 0) return;
        const { head, chunks } = bodies.get(frame.stream)!;
        bodies.delete(frame.stream);
        const headers: Record<string, string> = {};
        for (let i = 0; i < head.headers.length; i += 2) headers[head.headers[i]!] = head.headers[i + 1]!;
        const request = { method: head.method, path: head.path, headers, body: Buffer.concat(chunks) };
        this.received.push(request);
        this.answer(socket, frame.stream, request);
      });
      socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    });
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  private answer(socket: Duplex, stream: number, request: Received): void {
    const json = (status: number, value: unknown, extra: string[] = []) => {
      const body = Buffer.from(JSON.stringify(value));
      socket.write(encodeResponse(stream, status, ['content-type', 'application/json', 'content-length', String(body.length), ...extra], body));
    };
    const path = request.path.split('?')[0]!;
    if (path.endsWith('/echo')) return json(200, { body: request.body.toString('utf8') }, ['x-conifer-log-seq', '42']);
    if (path.endsWith('/missing')) return json(404, { code: 5, message: 'nope', details: [] });
    if (path.endsWith('/big')) return json(200, { pad: 'x'.repeat(300_000) });
    if (path.endsWith('/broken')) {
      // Head and part of the body, then the store breaks the answer off.
      socket.write(encodeResponse(stream, 200, ['content-type', 'application/json', 'content-length', '200000'], Buffer.alloc(70_000, 0x20), false));
      setTimeout(() => socket.write(encodeCancel(stream)), 20);
      return;
    }
    if (path.endsWith('/windowed')) {
      socket.write(encodeResponse(stream, 200, ['content-type', 'application/json', 'content-length', '300000'], Buffer.alloc(200_000, 0x20), false));
      this.onGrant.set(stream, () => socket.write(encodeData(stream, Buffer.alloc(100_000, 0x20), true)));
      return;
    }
    if (path.endsWith('/die')) return void setTimeout(() => socket.destroy(), 20);
    if (path.endsWith('/silent')) return; // never answers
    return json(500, { code: 13, message: 'unexpected', details: [] });
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('VectorStoreClient over frames', () => {
  const token = 'f'.repeat(40);
  let store: FramedStore;
  let client: VectorStoreClient;

  beforeAll(async () => {
    store = await new FramedStore().start();
    client = new VectorStoreClient({ url: store.url, internalToken: token, timeoutMs: 300, protocol: 'frames' });
  });
  afterAll(async () => {
    await client.close();
    await store.stop();
  });

  it('presents the token once, at the Upgrade, and sends the headers that matter with each request', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.forwardStreaming('ix/1', { method: 'POST', path: '/echo?x=1', body: Buffer.from(`{"n":${i}}`), requestId: `r-${i}`, minSeq: '7' }),
      ),
    );
    answers.forEach((answer, i) => {
      expect(answer.status).toBe(200);
      expect(answer.logSeq).toBe('42');
      expect(answer.contentType).toBe('application/json');
      expect(JSON.parse(answer.whole!.toString())).toEqual({ body: `{"n":${i}}` });
    });
    expect(store.upgrades.length).toBeGreaterThanOrEqual(1);
    expect(store.upgrades.length).toBeLessThanOrEqual(2); // framedConnections default
    expect(store.upgrades[0]!.headers['x-conifer-internal-token']).toBe(token);
    const last = store.received.at(-1)!;
    expect(last.path).toBe('/internal/indexes/ix%2F1/echo?x=1');
    expect(last.headers).toEqual({ 'x-request-id': expect.stringMatching(/^r-/), 'content-type': 'application/json', 'content-length': String(last.body.length), 'x-conifer-min-seq': '7' });
    expect(last.headers['x-conifer-internal-token']).toBeUndefined();
  });

  it('sends a body given in pieces as the same bytes, with its whole length (also several DATA frames)', async () => {
    const text = JSON.stringify({ pad: 'y'.repeat(600_000) });
    const pieces = [Buffer.from(text.slice(0, 3)), Buffer.from(text.slice(3, 70_000)), Buffer.from(text.slice(70_000))];
    const answer = await client.forwardStreaming('i', { method: 'POST', path: '/echo', body: pieces });
    expect(answer.status).toBe(200);
    const last = store.received.at(-1)!;
    expect(last.body.toString()).toBe(text);
    expect(last.headers['content-length']).toBe(String(text.length));
    await answer.bytes();
  });

  it('passes error answers through unchanged and streams a large one', async () => {
    const missing = await client.forwardStreaming('i', { method: 'GET', path: '/missing' });
    expect(missing.status).toBe(404);
    expect(JSON.parse((await missing.bytes()).toString())).toMatchObject({ code: 5 });
    const big = await client.forwardStreaming('i', { method: 'GET', path: '/big' });
    expect(big.whole).toBeUndefined();
    expect(big.contentLength).toBeGreaterThan(300_000);
    expect((await big.bytes()).length).toBe(big.contentLength);
    // A store that waits for the reader's grant before sending the rest (flow control per answer).
    const windowed = await client.forwardStreaming('i', { method: 'GET', path: '/windowed' });
    expect(windowed.whole).toBeUndefined();
    expect((await windowed.bytes()).length).toBe(300_000);
    expect(store.granted.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(200_000);
  });

  it('times out a silent request (headers time-out) and tells the store to drop it', async () => {
    const failure = await client.forwardStreaming('i', { method: 'GET', path: '/silent' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UnavailableError);
    expect(causeCode(failure)).toBe('UND_ERR_HEADERS_TIMEOUT');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(store.cancelled.length).toBeGreaterThanOrEqual(1);
    // The connection is still good.
    expect((await client.forwardStreaming('i', { method: 'GET', path: '/missing' })).status).toBe(404);
  });

  it('fails an answer the store breaks off on its body stream', async () => {
    const answer = await client.forwardStreaming('i', { method: 'GET', path: '/broken' });
    expect(answer.status).toBe(200);
    const outcome = await answer.bytes().then((bytes) => bytes.length, (error: unknown) => error);
    expect(outcome).toBeInstanceOf(UnavailableError);
  });

  it('fails requests in flight when the connection breaks (UND_ERR_SOCKET), then reconnects', async () => {
    const single = new VectorStoreClient({ url: store.url, internalToken: token, timeoutMs: 1000, protocol: 'frames', framedConnections: 1 });
    expect((await single.forwardStreaming('i', { method: 'POST', path: '/echo', body: '{}' })).status).toBe(200);
    const upgrades = store.upgrades.length;
    const failures = await Promise.all([single.forwardStreaming('i', { method: 'GET', path: '/die' }), single.forwardStreaming('i', { method: 'GET', path: '/silent' })].map((p) => p.catch((error: unknown) => error)));
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(UnavailableError);
      expect(causeCode(failure)).toBe('UND_ERR_SOCKET');
    }
    const again = await single.forwardStreaming('i', { method: 'POST', path: '/echo', body: '{}' });
    expect(again.status).toBe(200);
    expect(store.upgrades.length).toBe(upgrades + 1);
    await single.close();
  });

  it('a node that refuses connections → UnavailableError with ECONNREFUSED (nothing was sent)', async () => {
    const gone = await new FramedStore().start();
    const url = gone.url;
    await gone.stop();
    const lonely = new VectorStoreClient({ url, internalToken: token, timeoutMs: 300, protocol: 'frames' });
    const failure = await lonely.forwardStreaming('i', { method: 'GET', path: '/missing' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UnavailableError);
    expect(causeCode(failure)).toBe('ECONNREFUSED');
    await lonely.close();
  });

  it('falls back to HTTP for a node that does not speak frames', async () => {
    const plain = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ over: 'http', token: req.headers['x-conifer-internal-token'], body: Buffer.concat(chunks).toString() })));
    });
    const sockets = new Set<Socket>();
    plain.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const old = new VectorStoreClient({ url: `http://127.0.0.1:${(plain.address() as AddressInfo).port}`, internalToken: token, timeoutMs: 1000, protocol: 'frames' });
    for (let i = 0; i < 2; i++) {
      const answer = await old.forwardStreaming('i', { method: 'POST', path: '/q', body: '{"a":1}' });
      expect(answer.status).toBe(200);
      expect(JSON.parse((await answer.bytes()).toString())).toEqual({ over: 'http', token, body: '{"a":1}' });
    }
    await old.close();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => plain.close(() => resolve()));
  });

  it('a store shutting down (503 to the Upgrade) fails the request as refused, and is not taken for an HTTP-only node', async () => {
    const closing = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"over":"http"}'));
    closing.on('upgrade', (_req: IncomingMessage, socket: Duplex) => socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n'));
    await new Promise<void>((resolve) => closing.listen(0, '127.0.0.1', resolve));
    const draining = new VectorStoreClient({ url: `http://127.0.0.1:${(closing.address() as AddressInfo).port}`, internalToken: token, timeoutMs: 1000, protocol: 'frames' });
    for (let i = 0; i < 2; i++) {
      const failure = await draining.forwardStreaming('i', { method: 'POST', path: '/q', body: '{}' }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(UnavailableError);
      expect(causeCode(failure)).toBe('ECONNREFUSED');
    }
    await draining.close();
    closing.closeAllConnections();
    await new Promise<void>((resolve) => closing.close(() => resolve()));
  });
});
