// The gateway's side of the framed internal protocol (issue 13; wire format in @conifer/contracts
// internal-frames.ts): a few long-lived connections to one store node, each carrying many forwarded requests at
// once, tagged by stream id, instead of one HTTP/1.1 exchange per request on a pool of sockets.
//
// - Set-up: an HTTP Upgrade to /internal/frames with the internal token (checked once by the store), then frames.
//   Requests made while a connection is being set up are queued and written when it is open.
// - A store that refuses the Upgrade (an older build: no framed listener) is remembered as not speaking frames
//   for a while, and the requests queued on that connection go over HTTP instead (they were never sent).
// - Failures mirror undici's, so that the gateway's answers and replica logic are the same as over HTTP: a
//   refused connection fails with ECONNREFUSED (nothing was sent), a connection that breaks with requests in
//   flight fails them with UND_ERR_SOCKET; time-outs (headers, then between body frames) with
//   UND_ERR_HEADERS_TIMEOUT / UND_ERR_BODY_TIMEOUT, and the store is told to drop the answer (CANCEL).
// - Time-outs are checked by one sweep per connection every TIMER_TICK_MS (no timer per request).
// - Back-pressure per answer: the store sends at most ANSWER_WINDOW_BYTES of an answer ahead of what the reader
//   has taken (WINDOW frames grant more as the client reads), so a slow client holds up its own answer only —
//   never the connection shared with other requests, and never more than a window of it in the gateway. Request bodies are already whole in the gateway's memory; they are written in DATA frames of at most
//   MAX_DATA_BYTES, so a large upsert delays the requests behind it on its connection only briefly, and
//   several connections per node spread the load.
import {
  decodeResponseHead,
  encodeCancel,
  encodeRequest,
  encodeRequestParts,
  encodeWindow,
  FLAG_END,
  FrameDecoder,
  FrameProtocolError,
  FRAMES_PATH,
  FRAMES_PROTOCOL,
  FrameType,
  FrameWriter,
  INTERNAL_TOKEN_HEADER,
  type Frame,
} from '@conifer/contracts';
import { connect, type Socket } from 'node:net';

/** Resolution of the time-out sweep. */
const TIMER_TICK_MS = 50;
/** How long a node that refused the Upgrade is reached over HTTP before frames are tried again. */
const FALLBACK_MS = 60_000;
const HANDSHAKE_MAX_BYTES = 16 * 1024;

export interface FramedTarget {
  /** host:port for TCP, or a Unix socket path. */
  readonly host?: string;
  readonly port?: number;
  readonly socketPath?: string;
  /** Sent as Host on the Upgrade request. */
  readonly hostHeader: string;
}

export interface FramedRequest {
  readonly method: string;
  /** Full store path, query included. */
  readonly path: string;
  /** Header pairs (name, value, …): request id, content type, min-seq. */
  readonly headers: string[];
  /** The body whole, or as the pieces it was received in (framed without copying them: encodeRequestParts). */
  readonly body: Buffer | readonly Buffer[] | undefined;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
}

/** What a framed exchange tells its owner (the store client's handler): the same steps as undici's. */
export interface FramedHandler {
  onHead(status: number, headers: readonly string[], end: boolean, stream: FramedStream): void;
  onData(chunk: Buffer, end: boolean): void;
  onError(error: Error): void;
}

/** Control over one exchange once its answer has started. */
export interface FramedStream {
  /** The answer is no longer wanted: the store is told, later frames are dropped. */
  cancel(): void;
  /** The reader took `bytes` of the answer: the store may send that much more (flow control per answer). */
  grant(bytes: number): void;
}

function failure(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** A handshake refusal: the node does not serve frames (or would not let this connection in). */
class UpgradeRefused extends Error {
  readonly code = 'CONIFER_FRAMES_REFUSED';
}

class Exchange implements FramedStream {
  deadline: number;
  /** The head has arrived. */
  started = false;
  done = false;

  constructor(
    readonly id: number,
    readonly request: FramedRequest,
    readonly handler: FramedHandler,
    private readonly connection: FramedConnection,
  ) {
    this.deadline = Date.now() + request.headersTimeoutMs;
  }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.connection.cancel(this);
  }

  grant(bytes: number): void {
    if (!this.done && bytes > 0) this.connection.window(this, bytes);
  }
}

class FramedConnection {
  readonly streams = new Map<number, Exchange>();
  private readonly socket: Socket;
  /** Frames of one event-loop turn in one write. */
  private readonly writer: FrameWriter;
  private readonly decoder: FrameDecoder;
  private state: 'connecting' | 'handshake' | 'open' | 'closed' = 'connecting';
  /** Frames written before the Upgrade was answered (with their exchanges, to re-route if it is refused). */
  private queued: { exchange: Exchange; bytes: Buffer | Buffer[] }[] = [];
  private handshake: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private sweep: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    target: FramedTarget,
    token: string,
    connectTimeoutMs: number,
    private readonly onClosed: (connection: FramedConnection, refused: Exchange[] | undefined) => void,
  ) {
    this.decoder = new FrameDecoder((frame) => this.onFrame(frame));
    this.socket = target.socketPath !== undefined ? connect(target.socketPath) : connect(target.port!, target.host);
    this.socket.setNoDelay?.(true);
    this.writer = new FrameWriter(this.socket);
    this.socket.setTimeout(connectTimeoutMs);
    this.socket.once('connect', () => {
      this.socket.setTimeout(0);
      this.state = 'handshake';
      this.socket.write(
        `GET ${FRAMES_PATH} HTTP/1.1\r\nhost: ${target.hostHeader}\r\nconnection: Upgrade\r\nupgrade: ${FRAMES_PROTOCOL}\r\n${INTERNAL_TOKEN_HEADER}: ${token}\r\n\r\n`,
      );
    });
    this.socket.once('timeout', () => this.fail(failure('Connect Timeout Error', 'UND_ERR_CONNECT_TIMEOUT')));
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => this.fail(failure('other side closed', 'UND_ERR_SOCKET')));
    this.sweep = setInterval(() => this.expire(), TIMER_TICK_MS);
    this.sweep.unref();
  }

  get inFlight(): number {
    return this.streams.size;
  }

  get usable(): boolean {
    return this.state !== 'closed' && !this.closing;
  }

  send(request: FramedRequest, handler: FramedHandler): void {
    const id = this.nextId;
    this.nextId = this.nextId === 0xffffffff ? 1 : this.nextId + 1;
    const exchange = new Exchange(id, request, handler, this);
    let bytes: Buffer | Buffer[];
    try {
      const body = request.body;
      bytes = body === undefined || Buffer.isBuffer(body) ? encodeRequest(id, request.method, request.path, request.headers, body) : encodeRequestParts(id, request.method, request.path, request.headers, body);
    } catch (error) {
      handler.onError(error as Error);
      return;
    }
    this.streams.set(id, exchange);
    if (this.state === 'open') this.writeFrames(bytes);
    else this.queued.push({ exchange, bytes });
  }

  /** A request's frames: one buffer, or a list (corked by the writer: they leave in one writev). */
  private writeFrames(bytes: Buffer | Buffer[]): void {
    if (Buffer.isBuffer(bytes)) this.writer.write(bytes);
    else for (const part of bytes) this.writer.write(part);
  }

  cancel(exchange: Exchange): void {
    if (!this.streams.delete(exchange.id)) return;
    if (this.state === 'open') this.writer.write(encodeCancel(exchange.id));
    else this.queued = this.queued.filter((entry) => entry.exchange !== exchange);
    this.endIfIdle();
  }

  window(exchange: Exchange, bytes: number): void {
    if (this.state === 'open' && this.streams.has(exchange.id)) this.writer.write(encodeWindow(exchange.id, bytes));
  }

  /** Ends the connection once its requests in flight are answered. */
  close(): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => {
      if (this.state === 'closed') return resolve();
      this.socket.once('close', () => resolve());
      this.endIfIdle();
      // A peer that never closes its side (or requests never answered) does not hold the shutdown up.
      setTimeout(() => this.socket.destroy(), 2_000).unref();
    });
  }

  private endIfIdle(): void {
    if (this.closing && this.streams.size === 0) this.socket.end();
  }

  private receive(chunk: Buffer): void {
    if (this.state === 'open') {
      try {
        this.decoder.push(chunk);
      } catch (error) {
        this.fail(error as Error);
      }
      return;
    }
    if (this.state !== 'handshake') return;
    this.handshake = this.handshake.length === 0 ? chunk : Buffer.concat([this.handshake, chunk]);
    const end = this.handshake.indexOf('\r\n\r\n');
    if (end === -1) {
      if (this.handshake.length > HANDSHAKE_MAX_BYTES) this.fail(new UpgradeRefused('oversized answer to the Upgrade'));
      return;
    }
    const statusLine = this.handshake.toString('latin1', 0, this.handshake.indexOf('\r\n'));
    const rest = this.handshake.subarray(end + 4);
    this.handshake = Buffer.alloc(0);
    if (/^HTTP\/1\.[01] 503 /.test(statusLine)) {
      // A store shutting down: nothing queued was sent (as with a refused connection), and it does speak frames.
      this.fail(failure(`the store is shutting down: ${statusLine}`, 'ECONNREFUSED'));
      return;
    }
    if (!/^HTTP\/1\.[01] 101 /.test(statusLine)) {
      this.fail(new UpgradeRefused(`the store refused the framed protocol: ${statusLine}`));
      return;
    }
    this.state = 'open';
    const queued = this.queued;
    this.queued = [];
    for (const entry of queued) this.writeFrames(entry.bytes);
    if (rest.length > 0) this.receive(rest);
  }

  private onFrame(frame: Frame): void {
    const exchange = this.streams.get(frame.stream);
    if (exchange === undefined) return; // cancelled or timed out: its late answer is dropped
    const end = (frame.flags & FLAG_END) !== 0;
    switch (frame.type) {
      case FrameType.Response: {
        if (exchange.started) throw new FrameProtocolError(`stream ${frame.stream} answered twice`);
        const head = decodeResponseHead(frame.payload);
        exchange.started = true;
        exchange.deadline = Date.now() + exchange.request.bodyTimeoutMs;
        if (end) this.finish(exchange);
        exchange.handler.onHead(head.status, head.headers, end, exchange);
        return;
      }
      case FrameType.Data: {
        if (!exchange.started) throw new FrameProtocolError(`stream ${frame.stream} sent data before its head`);
        exchange.deadline = Date.now() + exchange.request.bodyTimeoutMs;
        if (end) this.finish(exchange);
        exchange.handler.onData(frame.payload, end);
        return;
      }
      case FrameType.Cancel: {
        this.finish(exchange);
        exchange.handler.onError(failure('the store broke off its answer', 'UND_ERR_SOCKET'));
        return;
      }
      default:
        throw new FrameProtocolError(`frame type ${frame.type} is not sent to a gateway`);
    }
  }

  private finish(exchange: Exchange): void {
    exchange.done = true;
    this.streams.delete(exchange.id);
    this.endIfIdle();
  }

  private expire(): void {
    if (this.streams.size === 0) return;
    const now = Date.now();
    for (const exchange of this.streams.values()) {
      if (exchange.deadline > now) continue;
      this.cancel(exchange);
      exchange.done = true;
      exchange.handler.onError(
        exchange.started ? failure('Body Timeout Error', 'UND_ERR_BODY_TIMEOUT') : failure('Headers Timeout Error', 'UND_ERR_HEADERS_TIMEOUT'),
      );
    }
  }

  private fail(error: Error): void {
    if (this.state === 'closed') return;
    const wasHandshake = this.state === 'handshake';
    this.state = 'closed';
    clearInterval(this.sweep);
    this.socket.destroy();
    const exchanges = [...this.streams.values()];
    this.streams.clear();
    // Refused or closed while answering the Upgrade: nothing queued was sent; hand it back to be sent over HTTP.
    if (error instanceof UpgradeRefused || (wasHandshake && (error as { code?: string }).code === 'UND_ERR_SOCKET')) {
      this.queued = [];
      this.onClosed(this, exchanges);
      return;
    }
    this.queued = [];
    this.onClosed(this, undefined);
    for (const exchange of exchanges) {
      exchange.done = true;
      exchange.handler.onError(error);
    }
  }
}

/**
 * The framed connections to one node: a request goes to the open one with the fewest requests in flight, and a
 * new connection is opened (up to `connections`) when all are busy. Closed connections are replaced on demand.
 */
export class FramedChannel {
  private readonly open: FramedConnection[] = [];
  private fallbackUntil = 0;

  constructor(
    private readonly target: FramedTarget,
    private readonly token: string,
    private readonly connectTimeoutMs: number,
    private readonly connections: number,
    /** Sends a request over HTTP instead (the node refused the framed protocol). */
    private readonly overHttp: (request: FramedRequest, handler: FramedHandler) => void,
  ) {}

  /** False while the node is known not to speak frames (its requests go over HTTP). */
  get available(): boolean {
    return this.fallbackUntil <= Date.now();
  }

  send(request: FramedRequest, handler: FramedHandler): void {
    let best: FramedConnection | undefined;
    for (const connection of this.open) {
      if (connection.usable && (best === undefined || connection.inFlight < best.inFlight)) best = connection;
    }
    if (best === undefined || (best.inFlight > 0 && this.open.length < this.connections)) {
      best = new FramedConnection(this.target, this.token, this.connectTimeoutMs, (closed, refused) => this.closed(closed, refused));
      this.open.push(best);
    }
    best.send(request, handler);
  }

  async close(): Promise<void> {
    const open = this.open.splice(0);
    await Promise.all(open.map((connection) => connection.close()));
  }

  private closed(connection: FramedConnection, refused: Exchange[] | undefined): void {
    const at = this.open.indexOf(connection);
    if (at !== -1) this.open.splice(at, 1);
    if (refused === undefined) return;
    this.fallbackUntil = Date.now() + FALLBACK_MS;
    for (const exchange of refused) this.overHttp(exchange.request, exchange.handler);
  }
}
