// Typed client of one vector-store node's internal API (apps/vector-store): index administration for the
// control plane and raw forwarding for the data plane. One keep-alive undici Pool per node; every request
// carries the internal credential and is bounded by connect, headers and body timeouts, so a node that is
// down, unreachable or stuck becomes an UnavailableError quickly and never a hang.
import { INTERNAL_TOKEN_HEADER, UnavailableError, type IndexMetric, type IndexSettings, type VectorType } from '@conifer/contracts';
import type { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';

export { INTERNAL_TOKEN_HEADER };
export type { IndexMetric };
export type IndexVectorType = VectorType;
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
}

export interface ForwardRequest {
  readonly method: string;
  /** Path below the index, starting with '/', query string included: '/vectors/fetch?ids=a'. */
  readonly path: string;
  /** Body bytes as received (undefined for GET/DELETE without body). */
  readonly body?: Buffer | string;
  readonly contentType?: string;
  readonly requestId?: string;
}

export interface ForwardResponse {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

/** A forwarded request's answer whose body is still arriving (read it, pipe it on, or dump it). */
export interface StreamedResponse {
  readonly status: number;
  readonly contentType: string | undefined;
  /** The store's Content-Length, when it sent one. */
  readonly contentLength: number | undefined;
  /** The body as it arrives; errors (node gone, body timeout) surface on the stream. */
  readonly body: Readable;
  /** Reads the whole body; failures become UnavailableError. */
  bytes(): Promise<Buffer>;
}

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
    });
  }

  // ------------------------------------------------------------------ index administration

  /** Creates the index on the node; true when it was created, false when it already existed alike. */
  async createIndex(indexId: string, settings: StoreIndexSettings): Promise<boolean> {
    const response = await this.call('PUT', `/internal/indexes/${encodeURIComponent(indexId)}`, JSON.stringify(settings));
    if (response.status === 201 || response.status === 200) return response.status === 201;
    throw new StoreResponseError(response.status, response.body.toString('utf8'), 'index creation');
  }

  /** Deletes the index and its data on the node (idempotent). */
  async deleteIndex(indexId: string): Promise<void> {
    const response = await this.call('DELETE', `/internal/indexes/${encodeURIComponent(indexId)}`);
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
      request.body,
      request.contentType,
      request.requestId,
    );
  }

  /**
   * Like forward, but resolves as soon as the store's status and headers arrive: the body is passed on as it
   * comes (a large answer is never held whole in the caller's memory). Failures before the headers are an
   * UnavailableError; later ones surface on the body stream.
   */
  async forwardStreaming(indexId: string, request: ForwardRequest): Promise<StreamedResponse> {
    const headers: string[] = [INTERNAL_TOKEN_HEADER, this.token];
    if (request.body !== undefined) headers.push('content-type', request.contentType ?? 'application/json');
    if (request.requestId !== undefined) headers.push('x-request-id', request.requestId);
    let response: Dispatcher.ResponseData;
    try {
      response = await this.pool.request({
        method: request.method as Dispatcher.HttpMethod,
        path: `/internal/indexes/${encodeURIComponent(indexId)}${request.path}`,
        headers,
        body: request.body,
      });
    } catch (error) {
      throw unavailable(error);
    }
    const type = response.headers['content-type'];
    const length = response.headers['content-length'];
    const body = response.body;
    return {
      status: response.statusCode,
      contentType: Array.isArray(type) ? type[0] : type,
      contentLength: typeof length === 'string' ? Number(length) : undefined,
      body,
      bytes: async () => {
        try {
          return Buffer.from(await body.arrayBuffer());
        } catch (error) {
          throw unavailable(error);
        }
      },
    };
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => this.pool.destroy());
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

/** One client per node URL, created on first use and closed together. */
export class VectorStoreClients {
  private readonly clients = new Map<string, VectorStoreClient>();

  constructor(private readonly defaults: Omit<StoreClientOptions, 'url'>) {}

  for(url: string): VectorStoreClient {
    const key = url.replace(/\/+$/, '');
    let client = this.clients.get(key);
    if (!client) {
      client = new VectorStoreClient({ ...this.defaults, url: key });
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
