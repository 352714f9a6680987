// TEST DOUBLE of the vector store's internal API (apps/vector-store), for the gateway's integration tests:
// in-memory, minimal, plain node:http. It follows the contract the gateway relies on — internal token on every
// route but /healthz and /readyz, PUT/GET/DELETE /internal/indexes/:id, GET /internal/indexes, data-plane paths
// under /internal/indexes/:id answering gRPC-style errors — and records every request so tests can check what
// the gateway forwarded. The e2e suites run the real vector store instead.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** Arrival order across every fake of the process. */
  readonly at: number;
}

let arrivals = 0;

interface FakeIndex {
  dimension: number | null;
  metric: string;
  vectorType: string;
  /** The index schema the gateway sent (IndexSettings.schema). */
  schema?: { fields: Record<string, unknown> };
  vectors: Map<string, unknown>;
}

function isDataRequest(url: string): boolean {
  return url.startsWith('/internal/indexes/') && url.split('?')[0]!.split('/').length > 4;
}

export class FakeVectorStore {
  readonly requests: RecordedRequest[] = [];
  readonly indexes = new Map<string, FakeIndex>();
  /** While true, data-plane requests are accepted but never answered (upstream timeout tests). */
  stall = false;
  /** While true, PUT /internal/indexes/:id answers 500 (node failure on create). */
  failCreates = false;
  /**
   * Replication (docs/REPLICATION.md): when set, the status reports this log kind and each index's appliedSeq; writes
   * answer X-Conifer-Log-Seq (the next value of `sequence.next`, shared between fakes like one log); a read whose
   * X-Conifer-Min-Seq is above appliedSeq answers 503 (the replica is behind).
   */
  log: 'local' | 'jetstream' | undefined;
  appliedSeq = 0;
  sequence: { next: number } = { next: 1 };
  /** Index ids the status lists although the node does not have them (a status taken before a disk was lost). */
  staleStatus: string[] = [];
  /** While true, writes answer 503 (the log is unreachable). */
  logDown = false;
  /** When set, data-plane requests are answered by it (raw response: streaming, huge bodies, early closes). */
  takeOver: ((request: RecordedRequest, res: ServerResponse) => void) | undefined;
  private server: Server | undefined;
  private port = 0;

  constructor(private readonly token: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Data-plane requests recorded for any index (a path below /internal/indexes/:id): what a test that counts forwarded
   * requests counts, since the gateway's node poll (GET /internal/indexes) may land at any moment.
   */
  allDataRequests(): RecordedRequest[] {
    return this.requests.filter((r) => isDataRequest(r.url));
  }

  /** Data-plane requests recorded for one index. */
  dataRequests(indexId: string): RecordedRequest[] {
    return this.requests.filter((r) => r.url.startsWith(`/internal/indexes/${indexId}/`));
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const request = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks), at: arrivals++ };
        this.requests.push(request);
        const answer = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (request.url === '/healthz' || request.url === '/readyz') return answer(200, { status: 'ok' });
        if (request.headers['x-conifer-internal-token'] !== this.token) {
          return answer(401, { code: 16, message: 'missing or invalid internal credential', details: [] });
        }
        if (this.takeOver && isDataRequest(request.url)) {
          return this.takeOver(request, res);
        }
        this.handle(
          request,
          answer,
          () => {
            /* stalled: no answer */
          },
          (seq) => {
            res.writeHead(200, { 'content-type': 'application/json', 'x-conifer-log-seq': String(seq) });
            res.end(JSON.stringify({ upsertedCount: 1 }));
          },
        );
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server!.close(resolve));
    this.server = undefined;
  }

  private handle(
    request: RecordedRequest,
    answer: (status: number, body: unknown) => void,
    stall: () => void,
    answerWithSeq: (seq: number) => void = () => answer(500, {}),
  ): void {
    const path = request.url.split('?')[0]!;
    if (path === '/internal/indexes' && request.method === 'GET') {
      if (this.log !== undefined) {
        return answer(200, {
          log: this.log,
          indexes: [
            ...[...this.indexes].map(([id, i]) => ({ id, appliedSeq: this.appliedSeq, state: 'ready', totalVectorCount: i.vectors.size })),
            ...this.staleStatus.map((id) => ({ id, appliedSeq: this.appliedSeq, state: 'ready', totalVectorCount: 0 })),
          ],
        });
      }
      return answer(200, { indexes: [...this.indexes].map(([indexId, i]) => ({ indexId, totalVectorCount: i.vectors.size })) });
    }
    const match = /^\/internal\/indexes\/([^/]+)(\/.*)?$/.exec(path);
    if (!match) return answer(404, { code: 5, message: 'not found', details: [] });
    const [, indexId, rest] = match as unknown as [string, string, string | undefined];
    const index = this.indexes.get(indexId);
    if (rest === undefined) {
      if (request.method === 'PUT') {
        if (this.failCreates) return answer(500, { code: 13, message: 'disk full', details: [] });
        const settings = JSON.parse(request.body.toString('utf8')) as FakeIndex;
        if (index) return answer(200, { indexId, ready: true });
        this.indexes.set(indexId, {
          dimension: settings.dimension,
          metric: settings.metric,
          vectorType: settings.vectorType,
          ...(settings.schema === undefined ? {} : { schema: settings.schema }),
          vectors: new Map(),
        });
        return answer(201, { indexId, ready: true });
      }
      if (request.method === 'DELETE') {
        this.indexes.delete(indexId);
        return answer(200, {});
      }
      if (request.method === 'GET') {
        if (!index) return answer(404, { code: 5, message: `index ${indexId} not found`, details: [] });
        const { dimension, metric, vectorType } = index;
        return answer(200, { indexId, dimension, metric, vectorType, totalVectorCount: index.vectors.size });
      }
    }
    if (!index) return answer(404, { code: 5, message: `index ${indexId} not found`, details: [] });
    if (this.stall) return stall();
    if (this.log !== undefined && rest !== undefined) {
      const minSeq = request.headers['x-conifer-min-seq'];
      const write = rest === '/vectors/upsert' || rest === '/vectors/update' || rest === '/vectors/delete';
      if (write && this.logDown) return answer(503, { code: 14, message: 'the log is unavailable', details: [] });
      if (!write && typeof minSeq === 'string' && Number(minSeq) > this.appliedSeq) {
        return answer(503, { code: 14, message: `this replica is behind: applied ${this.appliedSeq}, asked ${minSeq}`, details: [] });
      }
      if (write) {
        const seq = this.sequence.next++;
        this.appliedSeq = seq;
        return answerWithSeq(seq);
      }
    }
    const body = request.body.length > 0 ? (JSON.parse(request.body.toString('utf8')) as Record<string, any>) : {};
    switch (`${request.method} ${rest}`) {
      case 'POST /vectors/upsert': {
        const vectors = (body.vectors ?? []) as { id: string; values?: number[] }[];
        if (vectors.some((v) => index.dimension !== null && v.values?.length !== index.dimension)) {
          return answer(400, { code: 3, message: `Vector dimension does not match the dimension of the index ${index.dimension}`, details: [] });
        }
        for (const vector of vectors) index.vectors.set(`${body.namespace ?? ''}/${vector.id}`, vector);
        return answer(200, { upsertedCount: vectors.length });
      }
      case 'POST /describe_index_stats':
        return answer(200, {
          namespaces: { '': { vectorCount: 2 }, en: { vectorCount: 3 }, fr: { vectorCount: 4 } },
          dimension: index.dimension,
          indexFullness: 0,
          totalVectorCount: 9,
          metric: index.metric,
          vectorType: index.vectorType,
        });
      case 'GET /namespaces':
        return answer(200, { namespaces: [{ name: '__default__', record_count: 2 }, { name: 'en', record_count: 3 }, { name: 'fr', record_count: 4 }], total_count: 3 });
      default:
        // Everything else echoes what arrived, so tests can compare it with what the client sent.
        return answer(200, { method: request.method, path: request.url, body });
    }
  }
}
