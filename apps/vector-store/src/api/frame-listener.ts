// The store's side of the framed internal protocol (issue 13; the wire format is in @conifer/contracts
// internal-frames.ts). A gateway asks for it with an HTTP Upgrade to /internal/frames on the store's usual port
// or Unix socket; the internal token is checked once, there (its requests are then marked, not hashed again
// one by one: FRAMED_AUTHENTICATED in internal-auth.ts). Each REQUEST frame then becomes a light request /
// reply pair handed to the Fastify app's own router (`app.routing`, the function the HTTP server calls for every
// request), so a framed request runs the same hooks, body limits, parsers, routes, error handler and metrics as
// an HTTP one, and its answer is the same status, headers and bytes. What it skips is the HTTP/1.1 text on both
// sides (Node's parser and writer here, undici's in the gateway) and a connection's per-request bookkeeping.
//
// A connection whose Upgrade presented a wrong token is still accepted, but its requests carry no token, so the
// onRequest hook answers each one 401 exactly as it answers an HTTP request without the credential.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import {
  ANSWER_WINDOW_BYTES,
  decodeRequestHead,
  encodeCancel,
  encodeData,
  encodeResponse,
  FLAG_END,
  FrameDecoder,
  FrameProtocolError,
  FRAMES_PATH,
  FRAMES_PROTOCOL,
  FrameType,
  FrameWriter,
  grpcErrorBody,
  InvalidArgumentError,
  type Frame,
} from '@conifer/contracts';
import type { Logger } from 'pino';
import { FRAMED_AUTHENTICATED, INTERNAL_TOKEN_HEADER, type InternalTokenVerifier } from './internal-auth.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** Requests in flight one connection may have (a bound on what a peer can make the store hold). */
const MAX_OPEN_STREAMS = 65_536;

export interface FrameListener {
  /** Open framed connections. */
  readonly connections: number;
  /** Stops taking framed requests: each connection ends once its requests in flight are answered. */
  drain(): void;
}

/** Serves framed connections that `http` (the store's HTTP server, on TCP and the Unix socket) upgrades. */
export function listenForFrames(http: HttpServer, handler: Handler, verifier: InternalTokenVerifier, logger: Logger): FrameListener {
  const open = new Set<FrameConnection>();
  let draining = false;
  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = request.url?.split('?')[0];
    const upgrade = request.headers.upgrade?.toLowerCase();
    if (draining || path !== FRAMES_PATH || upgrade !== FRAMES_PROTOCOL) {
      const error = new InvalidArgumentError(draining ? 'the store is shutting down' : `only ${FRAMES_PROTOCOL} is served, at ${FRAMES_PATH}`);
      const body = JSON.stringify(grpcErrorBody(error));
      const status = draining ? '503 Service Unavailable' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return;
    }
    const presented = request.headers[INTERNAL_TOKEN_HEADER];
    const authenticated = typeof presented === 'string' && verifier.verify(presented);
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${FRAMES_PROTOCOL}\r\nconnection: Upgrade\r\n\r\n`);
    const connection = new FrameConnection(socket, handler, authenticated, request.socket.remoteAddress, logger);
    open.add(connection);
    socket.once('close', () => open.delete(connection));
    if (head.length > 0) connection.receive(head);
  });
  return {
    get connections() {
      return open.size;
    },
    drain() {
      draining = true;
      for (const connection of open) connection.drain();
    },
  };
}

/** The part of a socket Fastify reads from a request (its address, for logs and `request.ip`). */
interface SocketInfo {
  readonly remoteAddress: string | undefined;
  readonly encrypted: false;
  on(): SocketInfo;
  once(): SocketInfo;
  removeListener(): SocketInfo;
}

class FrameConnection {
  private readonly decoder: FrameDecoder;
  /** Requests whose body is still arriving. */
  private readonly bodies = new Map<number, FrameRequest>();
  /** Requests not yet answered (to drop the answer of a cancelled one, and to end the connection when draining). */
  private readonly inFlight = new Map<number, FrameResponse>();
  /** Streamed answers waiting for the socket to drain. */
  private readonly waiting = new Set<FrameResponse>();
  private readonly info: SocketInfo;
  /** Answers of one event-loop turn in one write. */
  private readonly writer: FrameWriter;
  private draining = false;

  constructor(
    private readonly socket: Duplex,
    private readonly handler: Handler,
    /** Whether the Upgrade presented the right internal token (its requests are then marked FRAMED_AUTHENTICATED). */
    private readonly authenticated: boolean,
    remoteAddress: string | undefined,
    private readonly logger: Logger,
  ) {
    const info: SocketInfo = { remoteAddress, encrypted: false, on: () => info, once: () => info, removeListener: () => info };
    this.info = info;
    // Request bodies are joined by Fastify anyway: their DATA frames come in the pieces the socket read.
    this.decoder = new FrameDecoder((frame) => this.onFrame(frame), { dataInPieces: true });
    this.writer = new FrameWriter(socket);
    (socket as Duplex & { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('drain', () => {
      const waiting = [...this.waiting];
      this.waiting.clear();
      for (const response of waiting) response.emit('drain');
    });
    socket.on('error', () => socket.destroy());
    // The gateway closed its side (shutting down, or done with this connection): finish what is in flight, then close ours.
    socket.on('end', () => this.drain());
    socket.on('close', () => this.closed());
  }

  receive(chunk: Buffer): void {
    try {
      this.decoder.push(chunk);
    } catch (error) {
      // A frame that cannot be read leaves the connection's state unknown: close it (the gateway reconnects).
      this.logger.warn({ err: error }, 'framed connection closed: bad frame');
      this.socket.destroy();
    }
  }

  /** Writes frames; false when the socket's buffer is full (`response` then gets 'drain'). */
  write(bytes: Buffer, response: FrameResponse): boolean {
    if (this.socket.destroyed) return true;
    const ok = this.writer.write(bytes);
    if (!ok) this.waiting.add(response);
    return ok;
  }

  answered(stream: number): void {
    this.inFlight.delete(stream);
    // An answer sent before the whole body came (401, 413, 415…): the rest of the body is dropped as it arrives.
    this.bodies.delete(stream);
    if (this.draining && this.inFlight.size === 0) this.socket.end();
  }

  cancel(stream: number): void {
    if (!this.socket.destroyed) this.writer.write(encodeCancel(stream));
  }

  drain(): void {
    this.draining = true;
    if (this.inFlight.size === 0) this.socket.end();
  }

  private onFrame(frame: Frame): void {
    const stream = frame.stream;
    switch (frame.type) {
      case FrameType.Request: {
        if (this.inFlight.has(stream)) throw new FrameProtocolError(`stream ${stream} is already open`);
        if (this.inFlight.size >= MAX_OPEN_STREAMS) throw new FrameProtocolError(`more than ${MAX_OPEN_STREAMS} requests in flight on one connection`);
        const head = decodeRequestHead(frame.payload);
        const headers: Record<string, string> = {};
        for (let i = 0; i < head.headers.length; i += 2) headers[head.headers[i]!.toLowerCase()] = head.headers[i + 1]!;
        // A token in a request frame proves nothing (the connection's was checked at the Upgrade, or failed).
        delete headers[INTERNAL_TOKEN_HEADER];
        const request = new FrameRequest(this.info, head.method, head.path, headers, (frame.flags & FLAG_END) !== 0);
        if (this.authenticated) request[FRAMED_AUTHENTICATED] = true;
        const response = new FrameResponse(this, stream, request);
        this.inFlight.set(stream, response);
        if (!request.complete) this.bodies.set(stream, request);
        try {
          this.handler(request as unknown as IncomingMessage, response as unknown as ServerResponse);
        } catch (error) {
          this.logger.error({ err: error }, 'framed request failed before routing');
          response.destroy();
        }
        return;
      }
      case FrameType.Data: {
        const request = this.bodies.get(stream);
        if (request === undefined) return; // cancelled meanwhile
        const end = (frame.flags & FLAG_END) !== 0;
        if (end) this.bodies.delete(stream);
        request.receive(frame.payload, end);
        return;
      }
      case FrameType.Window: {
        if (frame.payload.length !== 4) throw new FrameProtocolError('a window frame carries 4 bytes');
        this.inFlight.get(stream)?.grant(frame.payload.readUInt32BE(0));
        return;
      }
      case FrameType.Cancel: {
        this.bodies.get(stream)?.abort();
        this.bodies.delete(stream);
        const response = this.inFlight.get(stream);
        if (response !== undefined) {
          response.cancelled = true;
          this.answered(stream);
        }
        return;
      }
      default:
        throw new FrameProtocolError(`frame type ${frame.type} is not sent to a store`);
    }
  }

  private closed(): void {
    for (const request of this.bodies.values()) request.abort();
    this.bodies.clear();
    for (const response of this.inFlight.values()) response.cancelled = true;
    this.inFlight.clear();
    for (const response of this.waiting) response.emit('drain');
    this.waiting.clear();
  }
}

/**
 * What Fastify reads of an IncomingMessage: method, url, headers, socket, and the body as 'data'/'end' events
 * once it calls resume(). Bodies arrive in DATA frames; they are held until Fastify starts reading.
 */
class FrameRequest extends EventEmitter {
  readonly httpVersion = '1.1';
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  aborted = false;
  [FRAMED_AUTHENTICATED] = false;
  private chunks: Buffer[] = [];
  private flowing = false;
  private decoder: StringDecoder | undefined;

  constructor(
    readonly socket: SocketInfo,
    readonly method: string,
    public url: string,
    readonly headers: Record<string, string>,
    public complete: boolean,
  ) {
    super();
  }

  receive(chunk: Buffer, end: boolean): void {
    if (this.aborted) return;
    if (end) this.complete = true;
    if (!this.flowing) {
      if (chunk.length > 0) this.chunks.push(chunk);
      return;
    }
    if (chunk.length > 0) this.emitChunk(chunk);
    if (end) this.emit('end');
  }

  resume(): this {
    if (this.flowing) return this;
    this.flowing = true;
    const chunks = this.chunks;
    this.chunks = [];
    for (const chunk of chunks) this.emitChunk(chunk);
    if (this.complete && !this.aborted) this.emit('end');
    return this;
  }

  pause(): this {
    this.flowing = false;
    return this;
  }

  setEncoding(encoding: BufferEncoding): this {
    this.decoder = new StringDecoder(encoding);
    return this;
  }

  /** The gateway cancelled, or the connection closed, before the whole body arrived. */
  abort(): void {
    if (this.aborted || this.complete) return;
    this.aborted = true;
    const error = Object.assign(new Error('request aborted'), { code: 'ECONNRESET' });
    this.emit('aborted');
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.emit('close');
  }

  destroy(): this {
    this.abort();
    return this;
  }

  private emitChunk(chunk: Buffer): void {
    this.emit('data', this.decoder === undefined ? chunk : this.decoder.write(chunk));
  }
}

type HeaderValue = string | number | readonly string[];

/**
 * What Fastify calls on a ServerResponse. The head is held until the body's first bytes so that a whole answer
 * (the usual `res.end(payload)`) goes out as one RESPONSE frame plus its DATA frames in a single socket write.
 */
class FrameResponse extends EventEmitter {
  statusCode = 200;
  statusMessage = '';
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  destroyed = false;
  /** The gateway no longer wants the answer (or the connection is gone): writes are dropped. */
  cancelled = false;
  private headers: Record<string, HeaderValue> = {};
  private headFlushed = false;
  /** Answer bytes the gateway will still take (ANSWER_WINDOW_BYTES, plus its WINDOW grants, minus what was sent). */
  private credit = ANSWER_WINDOW_BYTES;
  /** Body bytes waiting for credit, and whether the last of them ends the answer. */
  private queued: Buffer[] = [];
  private queuedEnd = false;

  constructor(
    private readonly connection: FrameConnection,
    private readonly stream: number,
    private readonly request: FrameRequest,
  ) {
    super();
  }

  get writable(): boolean {
    return !this.writableEnded && !this.destroyed;
  }

  setHeader(name: string, value: HeaderValue): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }

  getHeader(name: string): HeaderValue | undefined {
    return this.headers[name.toLowerCase()];
  }

  getHeaders(): Record<string, HeaderValue> {
    return { ...this.headers };
  }

  hasHeader(name: string): boolean {
    return this.headers[name.toLowerCase()] !== undefined;
  }

  removeHeader(name: string): void {
    delete this.headers[name.toLowerCase()];
  }

  writeHead(status: number, headers?: Record<string, HeaderValue | undefined>): this {
    if (this.headersSent) throw Object.assign(new Error('Cannot write headers after they are sent'), { code: 'ERR_HTTP_HEADERS_SENT' });
    this.statusCode = status;
    if (headers !== undefined) {
      for (const name of Object.keys(headers)) {
        const value = headers[name];
        if (value !== undefined) this.headers[name.toLowerCase()] = value;
      }
    }
    this.headersSent = true;
    return this;
  }

  cork(): void {}
  uncork(): void {}

  write(chunk: Buffer | string, encoding?: unknown, callback?: () => void): boolean {
    if (this.writableEnded || this.destroyed) return false;
    this.headersSent = true;
    const body = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : chunk;
    const ok = this.send(body, false);
    if (typeof callback === 'function') process.nextTick(callback);
    return ok;
  }

  end(chunk?: Buffer | string | null, encoding?: unknown, callback?: () => void): this {
    if (this.writableEnded) return this;
    this.headersSent = true;
    this.writableEnded = true;
    const body = chunk === undefined || chunk === null ? undefined : typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : chunk;
    this.send(body, true);
    if (this.queued.length === 0) this.connection.answered(this.stream);
    process.nextTick(() => {
      this.writableFinished = true;
      this.emit('finish');
      this.emit('close');
      if (typeof callback === 'function') callback();
    });
    return this;
  }

  /** The answer broke off (a streamed body failed): the gateway sees the stream fail, as it would a reset socket. */
  destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    if (!this.writableEnded && !this.cancelled) this.connection.cancel(this.stream);
    if (!this.writableEnded) this.connection.answered(this.stream);
    this.request.abort();
    process.nextTick(() => {
      if (error !== undefined && this.listenerCount('error') > 0) this.emit('error', error);
      this.emit('close');
    });
    return this;
  }

  /** The gateway takes `bytes` more of this answer: send what waited for them. */
  grant(bytes: number): void {
    this.credit += bytes;
    if (this.queued.length === 0 || this.cancelled) return;
    const queued = this.queued;
    const end = this.queuedEnd;
    this.queued = [];
    this.queuedEnd = false;
    let ok = true;
    for (let i = 0; i < queued.length; i++) {
      const last = i === queued.length - 1;
      ok = this.sendData(queued[i]!, end && last);
      if (this.queued.length > 0 || (this.credit === 0 && !last)) {
        // Out of window again: the remainder waits for the next grant.
        this.queued.push(...queued.slice(i + 1));
        this.queuedEnd = end;
        return;
      }
    }
    if (this.writableEnded) this.connection.answered(this.stream);
    else if (ok) this.emit('drain');
  }

  /**
   * Sends the head (first time) and as much of `body` as the gateway's window allows; the rest waits for WINDOW.
   * False when the caller should wait for 'drain' (socket full, or window used up).
   */
  private send(body: Buffer | undefined, end: boolean): boolean {
    if (this.cancelled) return true;
    if (!this.headFlushed) {
      this.headFlushed = true;
      const pairs: string[] = [];
      for (const name of Object.keys(this.headers)) {
        const value = this.headers[name]!;
        if (Array.isArray(value)) for (const item of value as readonly string[]) pairs.push(name, item);
        else pairs.push(name, String(value));
      }
      const now = body === undefined || body.length <= this.credit ? body : body.subarray(0, this.credit);
      const rest = body !== undefined && now !== body ? body.subarray(this.credit) : undefined;
      this.credit -= now?.length ?? 0;
      const ok = this.connection.write(encodeResponse(this.stream, this.statusCode, pairs, now, end && rest === undefined), this);
      if (rest === undefined) return ok;
      this.queued.push(rest);
      this.queuedEnd = end;
      return false;
    }
    if (this.queued.length > 0) {
      if (body !== undefined && body.length > 0) this.queued.push(body);
      if (end) this.queuedEnd = true;
      return false;
    }
    if (body === undefined || body.length === 0) {
      return end ? this.connection.write(encodeData(this.stream, Buffer.alloc(0), true), this) : true;
    }
    return this.sendData(body, end);
  }

  /** Body bytes within the window now; the rest queued. */
  private sendData(body: Buffer, end: boolean): boolean {
    if (body.length <= this.credit) {
      this.credit -= body.length;
      return this.connection.write(encodeData(this.stream, body, end), this);
    }
    const now = body.subarray(0, this.credit);
    this.queued.push(body.subarray(this.credit));
    this.queuedEnd = end;
    if (now.length > 0) this.connection.write(encodeData(this.stream, now, false), this);
    this.credit = 0;
    return false;
  }
}
