// Typed client of one vector-store node's internal API (apps/vector-store): index administration for the
// control plane and raw forwarding for the data plane. One keep-alive undici Pool per node; every request
// carries the internal credential and is bounded by connect, headers and body timeouts, so a node that is
// down, unreachable or stuck becomes an UnavailableError quickly and never a hang.
import { INTERNAL_TOKEN_HEADER, UnavailableError, type IndexSettings } from '@conifer/contracts';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { FramedChannel, type FramedHandler, type FramedRequest, type FramedStream } from './framed-channel.js';

export { INTERNAL_TOKEN_HEADER };
/** What the store needs to create an index (dimension null for sparse indexes). */
export type StoreIndexSettings = IndexSettings;

export interface StoreIndexInfo extends StoreIndexSettings {
  readonly indexId: string;
  readonly totalVectorCount: number;
}

export interface StoreIndexSummary {
  readonly indexId: string;
  readonly totalVectorCount: number;
}

/** One index as a node's status reports it (GET /internal/indexes). */
export interface StoreReplicaStatus {
  readonly indexId: string;
  /** The highest log sequence this replica has applied (undefined: the node does not report sequences). */
  readonly appliedSeq: number | undefined;
  /** The newest sequence of the index's log, when the node knows it. */
  readonly lastSeq: number | undefined;
  /** catching-up: replaying its log (or restoring a snapshot); not to be read from yet. */
  readonly state: 'ready' | 'catching-up';
}

/** A node's status: which log its indexes are on and where each replica stands. */
export interface StoreNodeStatus {
  /** local: a write-ahead log on the node's own disk (its indexes cannot be replicated); jetstream: shared log. */
  readonly log: 'local' | 'jetstream';
  readonly nodeId: string | undefined;
  readonly indexes: readonly StoreReplicaStatus[];
}

/** Log sequence headers of the replication protocol (docs/REPLICATION.md). */
export const LOG_SEQ_HEADER = 'x-conifer-log-seq';
export const MIN_SEQ_HEADER = 'x-conifer-min-seq';
export const APPLIED_SEQ_HEADER = 'x-conifer-applied-seq';

export interface StoreClientOptions {
  /** Base URL of the node, e.g. http://127.0.0.1:8081 (no trailing slash needed). */
  readonly url: string;
  readonly internalToken: string;
  /** Upper bound for waiting on response headers and between body chunks. */
  readonly timeoutMs: number;
  /** TCP/TLS connect timeout; defaults to min(timeoutMs, 5000). */
  readonly connectTimeoutMs?: number;
  /** Sockets kept per node (default 64). */
  readonly connections?: number;
  /** How long an idle keep-alive socket is kept (default 30 s; the store's hint wins when shorter). */
  readonly keepAliveTimeoutMs?: number;
  /**
   * A Unix domain socket to reach the node through instead of TCP (the URL still names the node and is sent as
   * Host): for a gateway and a store on one host, where it skips the loopback TCP stack on every request.
   */
  readonly socketPath?: string;
  /**
   * How data-plane requests (forwardStreaming) reach the node: 'http' (one HTTP/1.1 exchange per request on the
   * pool) or 'frames' (a few long-lived framed connections, issue 13; a node that refuses them is reached over
   * HTTP). Index administration and health checks always use HTTP. Default 'http' here; the gateway's
   * configuration (CONIFER_VECTOR_STORE_PROTOCOL) defaults to 'frames'.
   */
  readonly protocol?: StoreProtocol;
  /** Framed connections per node (default 2). */
  readonly framedConnections?: number;
}

export type StoreProtocol = 'http' | 'frames';

export interface ForwardRequest {
  readonly method: string;
  /** Path below the index, starting with '/', query string included: '/vectors/fetch?ids=a'. */
  readonly path: string;
  /**
   * Body bytes as received (undefined for GET/DELETE without body): whole, or the pieces they arrived in (sent
   * without joining them over the framed protocol; joined for HTTP).
   */
  readonly body?: Buffer | string | readonly Buffer[];
  readonly contentType?: string;
  readonly requestId?: string;
  /** Sent as X-Conifer-Min-Seq: a read waits (bounded) until the replica has applied this log sequence. */
  readonly minSeq?: string;
  /** Overrides the client's headers time-out for this request (a read that another replica can answer). */
  readonly headersTimeoutMs?: number;
}

export interface ForwardResponse {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

/**
 * A forwarded request's answer. Small answers (a Content-Length up to FORWARD_WHOLE_MAX_BYTES) arrive whole in
 * `whole`, collected straight from the socket's chunks; larger or chunked ones are still arriving on `body`.
 */
export interface StreamedResponse {
  readonly status: number;
  readonly contentType: string | undefined;
  /** The store's Content-Length, when it sent one. */
  readonly contentLength: number | undefined;
  /** X-Conifer-Log-Seq of a write's answer: the log sequence the write got. */
  readonly logSeq: string | undefined;
  /** The whole body when it was small enough to be read before resolving; undefined when it streams. */
  readonly whole: Buffer | undefined;
  /** The body as it arrives (made on demand for a whole one); errors (node gone, body timeout) surface on it. */
  readonly body: Readable;
  /** Reads the whole body; failures become UnavailableError. */
  bytes(): Promise<Buffer>;
}

/** Answers with a Content-Length up to this size are collected before forwardStreaming resolves. */
export const FORWARD_WHOLE_MAX_BYTES = 64 * 1024;

/** The store answered with a status the calling operation does not expect. */
export class StoreResponseError extends UnavailableError {
  constructor(
    readonly status: number,
    readonly responseBody: string,
    operation: string,
  ) {
    super(`Vector store refused ${operation} (HTTP ${status})`);
  }
}

/** Connection-level failures (refused, reset, timeouts) that mean "this node is unavailable". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_ABORTED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_INFO',
]);

export function isUnavailableFailure(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  const cause = (error as { cause?: unknown })?.cause;
  return cause !== undefined && cause !== error && isUnavailableFailure(cause);
}

/** A body given in pieces, joined (HTTP sends one buffer). */
function wholeBody(body: Buffer | string | readonly Buffer[] | undefined): Buffer | string | undefined {
  if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) return body;
  return body.length === 1 ? body[0]! : Buffer.concat(body);
}

function byteLength(body: Buffer | readonly Buffer[]): number {
  if (Buffer.isBuffer(body)) return body.length;
  let bytes = 0;
  for (const piece of body) bytes += piece.length;
  return bytes;
}

function unavailable(error: unknown): UnavailableError {
  const failure = new UnavailableError('The vector store holding this index is unavailable; try again shortly');
  (failure as { cause?: unknown }).cause = error;
  return failure;
}

export class VectorStoreClient {
  readonly url: string;
  private readonly pool: Pool;
  private readonly timeoutMs: number;
  private readonly token: string;
  private readonly frames: FramedChannel | undefined;

  constructor(options: StoreClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs;
    this.token = options.internalToken;
    this.pool = new Pool(this.url, {
      connections: options.connections ?? 64,
      pipelining: 1,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
      keepAliveMaxTimeout: Math.max(options.keepAliveTimeoutMs ?? 30_000, 60_000),
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: options.connectTimeoutMs ?? Math.min(options.timeoutMs, 5_000) },
      ...(options.socketPath === undefined ? {} : { socketPath: options.socketPath }),
    });
    if (options.protocol === 'frames') {
      const address = new URL(this.url);
      this.frames = new FramedChannel(
        {
          hostHeader: address.host,
          ...(options.socketPath !== undefined
            ? { socketPath: options.socketPath }
            : { host: address.hostname.replace(/^\[|\]$/g, ''), port: address.port === '' ? (address.protocol === 'https:' ? 443 : 80) : Number(address.port) }),
        },
        this.token,
        options.connectTimeoutMs ?? Math.min(options.timeoutMs, 5_000),
        options.framedConnections ?? 2,
        (_request, handler) => (handler as FramedAnswer).overHttp(),
      );
    }
  }

  // ------------------------------------------------------------------ index administration

  /** Creates the index on the node; true when it was created, false when it already existed alike. */
  async createIndex(indexId: string, settings: StoreIndexSettings): Promise<boolean> {
    const response = await this.call('PUT', `/internal/indexes/${encodeURIComponent(indexId)}`, JSON.stringify(settings));
    if (response.status === 201 || response.status === 200) return response.status === 201;
    throw new StoreResponseError(response.status, response.body.toString('utf8'), 'index creation');
  }

  /**
   * Deletes the index and its data on the node (idempotent). purge: the index itself goes (sent to one replica
   * only), so the node also deletes its shared log and snapshots; without it only this node's replica is dropped.
   */
  async deleteIndex(indexId: string, options: { purge?: boolean } = {}): Promise<void> {
    const query = options.purge ? '?purge=true' : '';
    const response = await this.call('DELETE', `/internal/indexes/${encodeURIComponent(indexId)}${query}`);
    if (response.status === 200 || response.status === 204 || response.status === 404) return;
    throw new StoreResponseError(response.status, response.body.toString('utf8'), 'index deletion');
  }

  /** The index as the node knows it, or null when the node does not have it. */
  async describeIndex(indexId: string): Promise<StoreIndexInfo | null> {
    const response = await this.call('GET', `/internal/indexes/${encodeURIComponent(indexId)}`);
    if (response.status === 404) return null;
    if (response.status !== 200) throw new StoreResponseError(response.status, response.body.toString('utf8'), 'index description');
    return JSON.parse(response.body.toString('utf8')) as StoreIndexInfo;
  }

  async listIndexes(): Promise<StoreIndexSummary[]> {
    const response = await this.call('GET', '/internal/indexes');
    if (response.status !== 200) throw new StoreResponseError(response.status, response.body.toString('utf8'), 'index listing');
    return (JSON.parse(response.body.toString('utf8')) as { indexes: StoreIndexSummary[] }).indexes;
  }

  /** The node's status: its log kind and, per index, the applied sequence and whether it is caught up. */
  async status(timeoutMs = Math.min(this.timeoutMs, 2_000)): Promise<StoreNodeStatus> {
    const response = await this.call('GET', '/internal/indexes', undefined, undefined, undefined, timeoutMs);
    if (response.status !== 200) throw new StoreResponseError(response.status, response.body.toString('utf8'), 'status');
    return parseNodeStatus(JSON.parse(response.body.toString('utf8')) as unknown);
  }

  /** Resolves when the node answers /healthz with 200 within the given time. */
  async checkHealth(timeoutMs = Math.min(this.timeoutMs, 2_000)): Promise<void> {
    const response = await this.call('GET', '/healthz', undefined, undefined, undefined, timeoutMs);
    if (response.status !== 200) throw new StoreResponseError(response.status, response.body.toString('utf8'), 'health check');
  }

  // ------------------------------------------------------------------ data plane

  /**
   * Sends a data-plane request to /internal/indexes/<indexId><path> with the body bytes unchanged, and returns
   * the store's status, content type and body bytes unchanged (errors included: they are already Pinecone's).
   */
  forward(indexId: string, request: ForwardRequest): Promise<ForwardResponse> {
    return this.call(
      request.method,
      `/internal/indexes/${encodeURIComponent(indexId)}${request.path}`,
      wholeBody(request.body),
      request.contentType,
      request.requestId,
    );
  }

  /**
   * Like forward, but a large answer is never held whole: the promise resolves with the store's status and
   * headers, small answers (Content-Length ≤ FORWARD_WHOLE_MAX_BYTES) already read whole, larger ones still
   * arriving on `body`. Runs on undici's dispatcher with its own handler (ForwardHandler): no response stream,
   * header object or async resource per request unless the answer is large. Failures before the answer is
   * resolved are an UnavailableError; later ones surface on the body stream.
   */
  forwardStreaming(indexId: string, request: ForwardRequest): Promise<StreamedResponse> {
    if (this.frames !== undefined && this.frames.available) return this.forwardFramed(this.frames, indexId, request);
    return this.forwardHttp(indexId, request);
  }

  /** The framed path: same answer object, same failures (UnavailableError whose cause has undici's codes). */
  private forwardFramed(frames: FramedChannel, indexId: string, request: ForwardRequest): Promise<StreamedResponse> {
    const body = request.body === undefined ? undefined : typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;
    const headers: string[] = request.requestId !== undefined ? ['x-request-id', request.requestId] : [];
    if (body !== undefined) headers.push('content-type', request.contentType ?? 'application/json', 'content-length', String(byteLength(body)));
    if (request.minSeq !== undefined) headers.push(MIN_SEQ_HEADER, request.minSeq);
    const framed: FramedRequest = {
      method: request.method,
      path: `/internal/indexes/${encodeURIComponent(indexId)}${request.path}`,
      headers,
      body,
      headersTimeoutMs: request.headersTimeoutMs ?? this.timeoutMs,
      bodyTimeoutMs: this.timeoutMs,
    };
    return new Promise<StreamedResponse>((resolve, reject) => {
      frames.send(framed, new FramedAnswer(request.method === 'HEAD', resolve, reject, () => this.forwardHttp(indexId, request)));
    });
  }

  private forwardHttp(indexId: string, request: ForwardRequest): Promise<StreamedResponse> {
    const headers: string[] = request.requestId !== undefined ? [INTERNAL_TOKEN_HEADER, this.token, 'x-request-id', request.requestId] : [INTERNAL_TOKEN_HEADER, this.token];
    if (request.body !== undefined) headers.push('content-type', request.contentType ?? 'application/json');
    if (request.minSeq !== undefined) headers.push(MIN_SEQ_HEADER, request.minSeq);
    return new Promise<StreamedResponse>((resolve, reject) => {
      this.pool.dispatch(
        {
          method: request.method as Dispatcher.HttpMethod,
          path: `/internal/indexes/${encodeURIComponent(indexId)}${request.path}`,
          headers,
          body: wholeBody(request.body),
          // undefined: the pool's own time-out (undici reads `headersTimeout != null`).
          headersTimeout: request.headersTimeoutMs,
        },
        new ForwardHandler(request.method === 'HEAD', resolve, reject),
      );
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.frames?.close(), this.pool.close().catch(() => this.pool.destroy())]);
  }

  private async call(
    method: string,
    path: string,
    body?: Buffer | string,
    contentType?: string,
    requestId?: string,
    timeoutMs = this.timeoutMs,
  ): Promise<ForwardResponse> {
    const headers: Record<string, string> = { [INTERNAL_TOKEN_HEADER]: this.token };
    if (body !== undefined) headers['content-type'] = contentType ?? 'application/json';
    if (requestId !== undefined) headers['x-request-id'] = requestId;
    let response: Dispatcher.ResponseData;
    try {
      response = await this.pool.request({
        method: method as Dispatcher.HttpMethod,
        path,
        headers,
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (error) {
      throw unavailable(error);
    }
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of response.body) chunks.push(chunk as Buffer);
      const header = response.headers['content-type'];
      return {
        status: response.statusCode,
        contentType: Array.isArray(header) ? header[0] : header,
        body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
      };
    } catch (error) {
      throw unavailable(error);
    }
  }
}

/**
 * What both ways of forwarding share: one answer collected whole (a HEAD or a small body: one Buffer.concat at
 * the end, none for a single chunk) and resolved once, or streamed through a Readable resolved at the head;
 * an error before the head rejects, after it destroys the stream.
 */
abstract class AnswerCollector {
  protected status = 0;
  protected contentType: string | undefined;
  protected contentLength: number | undefined;
  protected logSeq: string | undefined;
  protected chunks: Buffer[] | null = null;
  protected stream: Readable | null = null;
  /** The promise was settled (resolved with the answer, or rejected). */
  private settled = false;
  /** The store's answer ended (or failed): a later destroy of the stream need not abort the request. */
  protected ended = false;

  constructor(
    private readonly head: boolean,
    protected readonly resolve: (response: StreamedResponse) => void,
    protected readonly reject: (error: unknown) => void,
  ) {}

  protected readContentLength(raw: string): void {
    const value = Number(raw);
    if (Number.isSafeInteger(value) && value >= 0) this.contentLength = value;
  }

  /** Starts collecting the body whole when that is the plan (HEAD, or a small declared length); else false. */
  protected collectWhole(): boolean {
    if (!this.head && (this.contentLength === undefined || this.contentLength > FORWARD_WHOLE_MAX_BYTES)) return false;
    this.chunks = [];
    return true;
  }

  /** Resolves with the streamed answer (the head has been read). */
  protected startStream(stream: Readable): void {
    this.stream = stream;
    this.settle(new ForwardedAnswer(this.status, this.contentType, this.contentLength, this.logSeq, undefined, stream));
  }

  /** The answer's last byte arrived. */
  protected finish(): void {
    this.ended = true;
    if (this.chunks !== null) {
      const chunks = this.chunks;
      this.chunks = null;
      const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      this.settle(new ForwardedAnswer(this.status, this.contentType, this.contentLength, this.logSeq, whole, undefined));
      return;
    }
    this.stream?.push(null);
  }

  protected fail(error: Error): void {
    this.ended = true;
    this.chunks = null;
    if (!this.settled) {
      this.settled = true;
      this.reject(unavailable(error));
      return;
    }
    this.stream?.destroy(error);
  }

  protected settle(response: StreamedResponse): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve(response);
  }
}

/**
 * undici dispatch handler for one forwarded request: a small answer's chunks collected directly, a large or
 * chunked one streamed through a Readable whose back-pressure pauses the socket (`read` resumes it). No
 * response stream, AsyncResource or callback/promise pair per request as with `pool.request`.
 */
class ForwardHandler extends AnswerCollector implements Dispatcher.DispatchHandler {
  /** Present so that undici treats this as a handler of its current interface (controller-based). */
  onRequestStart(): void {}

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    if (status < 200) return; // 1xx: the real answer follows
    this.status = status;
    const type = headers['content-type'];
    this.contentType = Array.isArray(type) ? type[0] : type;
    const seq = headers[LOG_SEQ_HEADER];
    if (typeof seq === 'string') this.logSeq = seq;
    const length = headers['content-length'];
    if (typeof length === 'string') this.readContentLength(length);
    if (this.collectWhole()) return;
    this.startStream(
      new Readable({
        read: () => controller.resume(),
        destroy: (error, callback) => {
          // The reader gave up before the end (client gone): stop reading from the store.
          if (!this.ended) controller.abort(error ?? new Error('forwarded answer abandoned'));
          callback(error);
        },
      }),
    );
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.chunks !== null) this.chunks.push(chunk);
    else if (this.stream !== null && !this.stream.push(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail(error);
  }
}

/**
 * The framed counterpart of ForwardHandler. The store's headers arrive as (name, value) pairs; only
 * content-type, content-length and the log sequence are read.
 */
class FramedAnswer extends AnswerCollector implements FramedHandler {
  private exchange: FramedStream | undefined;
  /** Bytes pushed to the stream while its reader was behind: granted to the store when it reads again. */
  private owed = 0;

  constructor(
    head: boolean,
    resolve: (response: StreamedResponse) => void,
    reject: (error: unknown) => void,
    /** Sends the request over HTTP instead (the node refused the framed protocol before it was sent). */
    private readonly http: () => Promise<StreamedResponse>,
  ) {
    super(head, resolve, reject);
  }

  overHttp(): void {
    this.http().then(this.resolve, this.reject);
  }

  onHead(status: number, headers: readonly string[], end: boolean, exchange: FramedStream): void {
    this.status = status;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      if (name === 'content-type') this.contentType = headers[i + 1];
      else if (name === LOG_SEQ_HEADER) this.logSeq = headers[i + 1];
      else if (name === 'content-length') this.readContentLength(headers[i + 1]!);
    }
    if (end) {
      this.ended = true;
      this.settle(new ForwardedAnswer(status, this.contentType, this.contentLength, this.logSeq, Buffer.alloc(0), undefined));
      return;
    }
    if (this.collectWhole()) return;
    // Frames of other requests share the connection, so it is never paused for one reader: the store sends
    // this answer only as far as the reader's grants allow (WINDOW), given back as the stream is read.
    this.exchange = exchange;
    this.startStream(
      new Readable({
        read: () => {
          if (this.owed === 0) return;
          const owed = this.owed;
          this.owed = 0;
          exchange.grant(owed);
        },
        destroy: (error, callback) => {
          if (!this.ended) exchange.cancel();
          callback(error);
        },
      }),
    );
  }

  onData(chunk: Buffer, end: boolean): void {
    if (this.chunks !== null) this.chunks.push(chunk);
    else if (this.stream !== null) {
      if (this.stream.push(chunk)) this.exchange?.grant(chunk.length);
      else this.owed += chunk.length;
    }
    if (end) this.finish();
  }

  onError(error: Error): void {
    this.fail(error);
  }
}

class ForwardedAnswer implements StreamedResponse {
  constructor(
    readonly status: number,
    readonly contentType: string | undefined,
    readonly contentLength: number | undefined,
    readonly logSeq: string | undefined,
    readonly whole: Buffer | undefined,
    private stream: Readable | undefined,
  ) {}

  get body(): Readable {
    this.stream ??= Readable.from([this.whole!], { objectMode: false });
    return this.stream;
  }

  async bytes(): Promise<Buffer> {
    if (this.whole !== undefined) return this.whole;
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of this.body) chunks.push(chunk as Buffer);
    } catch (error) {
      throw unavailable(error);
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }
}

function sequence(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return undefined;
}

/**
 * Reads GET /internal/indexes leniently: a node of the previous version reports only { indexes: [{ indexId,
 * totalVectorCount }] } (a local log, no sequences, every index ready).
 */
export function parseNodeStatus(raw: unknown): StoreNodeStatus {
  const body = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const list = Array.isArray(body.indexes) ? (body.indexes as unknown[]) : [];
  const indexes: StoreReplicaStatus[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) continue;
    const entry = item as Record<string, unknown>;
    const indexId = typeof entry.id === 'string' ? entry.id : typeof entry.indexId === 'string' ? entry.indexId : undefined;
    if (indexId === undefined) continue;
    indexes.push({
      indexId,
      appliedSeq: sequence(entry.appliedSeq),
      lastSeq: sequence(entry.lastSeq),
      state: entry.state === 'catching-up' ? 'catching-up' : 'ready',
    });
  }
  return {
    log: body.log === 'jetstream' ? 'jetstream' : 'local',
    nodeId: typeof body.nodeId === 'string' ? body.nodeId : undefined,
    indexes,
  };
}

/** One client per node URL, created on first use and closed together. */
export class VectorStoreClients {
  private readonly clients = new Map<string, VectorStoreClient>();

  /** socketPaths: node URL → the Unix socket it listens on, for nodes on this host (others: TCP). */
  constructor(
    private readonly defaults: Omit<StoreClientOptions, 'url' | 'socketPath'>,
    private readonly socketPaths: Readonly<Record<string, string>> = {},
  ) {}

  for(url: string): VectorStoreClient {
    const key = url.replace(/\/+$/, '');
    let client = this.clients.get(key);
    if (!client) {
      const socketPath = this.socketPaths[key];
      client = new VectorStoreClient({ ...this.defaults, url: key, ...(socketPath === undefined ? {} : { socketPath }) });
      this.clients.set(key, client);
    }
    return client;
  }

  async closeAll(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((client) => client.close()));
  }
}
