// The store's framed listener (issue 13): a framed request gets the same status, headers and bytes as the same
// request over HTTP (routes, hooks, limits, errors), the token is checked at the Upgrade, many requests share one
// connection, large bodies arrive in several DATA frames, and a bad frame closes that connection only.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  decodeResponseHead,
  ANSWER_WINDOW_BYTES,
  encodeCancel,
  encodeRequest,
  encodeWindow,
  FLAG_END,
  FrameDecoder,
  FRAMES_PATH,
  FRAMES_PROTOCOL,
  FrameType,
  MAX_DATA_BYTES,
} from '@conifer/contracts';
import { startTestApp, TOKEN, type TestApp } from '../support/app.js';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A minimal framed client (what the gateway's store client does, without its pooling and fallbacks). */
class FrameClient {
  readonly upgrade: Promise<string>;
  readonly closed: Promise<void>;
  private readonly answers = new Map<number, { head?: Answer; chunks: Buffer[]; resolve: (answer: Answer) => void }>();
  private readonly decoder = new FrameDecoder((frame) => {
    const pending = this.answers.get(frame.stream);
    if (pending === undefined) return;
    if (frame.type === FrameType.Response) {
      const head = decodeResponseHead(frame.payload);
      const headers: Record<string, string> = {};
      for (let i = 0; i < head.headers.length; i += 2) headers[head.headers[i]!] = head.headers[i + 1]!;
      pending.head = { status: head.status, headers, body: '' };
    } else if (frame.type === FrameType.Data) {
      pending.chunks.push(Buffer.from(frame.payload));
    }
    if ((frame.flags & FLAG_END) !== 0) {
      this.answers.delete(frame.stream);
      pending.resolve({ ...pending.head!, body: Buffer.concat(pending.chunks).toString('utf8') });
    }
  });
  private readonly socket: Socket;
  nextId = 1;

  /** Body bytes received so far on a stream still open. */
  receivedBytes(id: number): number {
    return this.answers.get(id)?.chunks.reduce((total, chunk) => total + chunk.length, 0) ?? -1;
  }

  constructor(port: number, token: string | null, path = FRAMES_PATH) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.write(`GET ${path} HTTP/1.1\r\nhost: store\r\nconnection: Upgrade\r\nupgrade: ${FRAMES_PROTOCOL}\r\n${token === null ? '' : `x-conifer-internal-token: ${token}\r\n`}\r\n`);
    let handshake = Buffer.alloc(0);
    let open = false;
    this.upgrade = new Promise((resolve) => {
      this.socket.on('data', (chunk: Buffer) => {
        if (open) return this.decoder.push(chunk);
        handshake = Buffer.concat([handshake, chunk]);
        const end = handshake.indexOf('\r\n\r\n');
        if (end === -1) return;
        open = true;
        resolve(handshake.toString('latin1', 0, end));
        if (handshake.length > end + 4 && handshake.toString('latin1', 0, 12).endsWith(' 101')) this.decoder.push(handshake.subarray(end + 4));
      });
    });
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    this.socket.on('error', () => undefined);
  }

  send(method: string, path: string, body?: unknown, headers: string[] = []): Promise<Answer> {
    const bytes = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const all = bytes === undefined ? headers : ['content-type', 'application/json', 'content-length', String(bytes.length), ...headers];
    const id = this.nextId++;
    const answer = new Promise<Answer>((resolve) => this.answers.set(id, { chunks: [], resolve }));
    this.socket.write(encodeRequest(id, method, path, all, bytes));
    return answer;
  }

  raw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }
}

let t: TestApp;
let port: number;
const openClients: FrameClient[] = [];

async function client(token: string | null = TOKEN, path?: string): Promise<FrameClient> {
  const c = new FrameClient(port, token, path);
  openClients.push(c);
  await c.upgrade;
  return c;
}

beforeAll(async () => {
  t = await startTestApp({ annBuilder: false });
  port = Number(new URL(t.url).port);
  expect((await t.call('PUT', '/internal/indexes/fr-1', { dimension: 2, metric: 'cosine', vectorType: 'dense' })).status).toBe(201);
});
afterAll(async () => {
  for (const c of openClients) c.close();
  await t.close();
});

/** The same request over HTTP, as the gateway's HTTP path sends it. */
async function overHttp(method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${t.url}${path}`, {
    method,
    headers: { 'x-conifer-internal-token': TOKEN, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => (headers[name] = value));
  return { status: res.status, headers, body: await res.text() };
}

/** The headers both protocols must carry alike (HTTP adds date, connection, keep-alive of its own). */
function kept(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['content-type', 'content-length', 'x-conifer-applied-seq', 'x-conifer-log-seq', 'retry-after']) if (headers[name] !== undefined) out[name] = headers[name]!;
  return out;
}

describe('framed listener', () => {
  it('answers like HTTP: successes, the log sequence, and every error shape', async () => {
    const c = await client();
    const upsert = await c.send('POST', '/internal/indexes/fr-1/vectors/upsert', { vectors: [{ id: 'a', values: [1, 0] }, { id: 'b', values: [0, 1] }] });
    expect(upsert.status).toBe(200);
    expect(JSON.parse(upsert.body)).toEqual({ upsertedCount: 2 });
    expect(upsert.headers['x-conifer-log-seq']).toMatch(/^\d+$/);
    const cases: [string, string, unknown][] = [
      ['POST', '/internal/indexes/fr-1/query', { vector: [1, 0.1], topK: 2, includeValues: true }],
      ['GET', '/internal/indexes/fr-1/vectors/fetch?ids=a&ids=zz', undefined],
      ['GET', '/internal/indexes/fr-1/vectors/list', undefined],
      ['POST', '/internal/indexes/fr-1/describe_index_stats', {}],
      ['POST', '/internal/indexes/fr-1/query', { vector: [1, 0, 3], topK: 2 }], // 400: wrong dimension
      ['POST', '/internal/indexes/fr-1/query', '{"vector": [1, 0'], // 400: bad JSON
      ['POST', '/internal/indexes/nope/query', { vector: [1, 0], topK: 1 }], // 404: no such index
      ['GET', '/internal/nothing-here', undefined], // 404: no route
      ['PATCH', '/internal/indexes/fr-1/query', {}], // 404: no route for the method
      ['GET', '/internal/indexes/fr-1', undefined],
    ];
    for (const [method, path, body] of cases) {
      const framed = await c.send(method, path, body);
      const http = await overHttp(method, path, body);
      expect({ path, status: framed.status, body: framed.body, headers: kept(framed.headers) }).toEqual({ path, status: http.status, body: http.body, headers: kept(http.headers) });
    }
  });

  it('refuses a wrong media type and an oversized upsert as HTTP does', async () => {
    const c = await client();
    const wrongType = await c.send('POST', '/internal/indexes/fr-1/query', undefined, ['content-type', 'text/plain', 'content-length', '2']);
    expect(wrongType.status).toBe(415);
    expect(JSON.parse(wrongType.body)).toMatchObject({ code: 3 });
    const big = JSON.stringify({ vectors: [{ id: 'x', values: [1, 0], metadata: { pad: 'p'.repeat(2 * 1024 * 1024) } }] });
    const framed = await c.send('POST', '/internal/indexes/fr-1/vectors/upsert', big);
    const http = await overHttp('POST', '/internal/indexes/fr-1/vectors/upsert', big);
    expect(framed.status).toBe(413);
    expect({ status: framed.status, body: framed.body }).toEqual({ status: http.status, body: http.body });
  }, 20_000);

  it('takes a large upsert in several DATA frames', async () => {
    const c = await client();
    const vectors = Array.from({ length: 1000 }, (_, i) => ({ id: `big-${i}`, values: [Math.random(), Math.random()], metadata: { text: 'lorem ipsum dolor sit amet '.repeat(50) } }));
    const body = Buffer.from(JSON.stringify({ vectors, namespace: 'big' }));
    expect(body.length).toBeGreaterThan(3 * MAX_DATA_BYTES);
    expect(body.length).toBeLessThan(2 * 1024 * 1024);
    const answer = await c.send('POST', '/internal/indexes/fr-1/vectors/upsert', body);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ upsertedCount: 1000 });
    const fetched = await c.send('GET', '/internal/indexes/fr-1/vectors/fetch?ids=big-999&namespace=big');
    expect(Object.keys(JSON.parse(fetched.body).vectors)).toEqual(['big-999']);
  }, 20_000);

  it('sends a large answer only as far as the reader grants (WINDOW), the rest when it grants more', async () => {
    const c = await client();
    const id = c.nextId;
    const pending = c.send('POST', '/internal/indexes/fr-1/query', { vector: [1, 0.5], topK: 1000, namespace: 'big', includeMetadata: true, includeValues: true });
    let settled = false;
    void pending.then(() => (settled = true));
    // The store stops at the window; other requests on the connection are not held up meanwhile.
    for (let i = 0; i < 100 && c.receivedBytes(id) < ANSWER_WINDOW_BYTES; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await c.send('GET', '/internal/indexes/fr-1')).status).toBe(200);
    expect(c.receivedBytes(id)).toBe(ANSWER_WINDOW_BYTES);
    expect(settled).toBe(false);
    c.raw(encodeWindow(id, 64 * 1024 * 1024));
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(Buffer.byteLength(answer.body)).toBeGreaterThan(ANSWER_WINDOW_BYTES);
    expect(JSON.parse(answer.body).matches).toHaveLength(1000);
  }, 20_000);

  it('carries many requests at once on one connection, each answer on its own stream', async () => {
    const c = await client();
    const answers = await Promise.all(
      Array.from({ length: 64 }, (_, i) => c.send('GET', `/internal/indexes/fr-1/vectors/fetch?ids=${i % 2 === 0 ? 'a' : 'b'}`)),
    );
    answers.forEach((answer, i) => {
      expect(answer.status).toBe(200);
      expect(Object.keys(JSON.parse(answer.body).vectors)).toEqual([i % 2 === 0 ? 'a' : 'b']);
    });
  });

  it('checks the token at the Upgrade: a wrong or missing one gets 401 on every request, as over HTTP', async () => {
    for (const token of ['wrong-token', null]) {
      const c = await client(token);
      expect(await c.upgrade).toMatch(/^HTTP\/1\.1 101 /);
      for (const [method, path] of [['GET', '/internal/indexes'], ['POST', '/internal/indexes/fr-1/query']]) {
        const framed = await c.send(method!, path!, method === 'POST' ? { vector: [1, 0], topK: 1 } : undefined, ['x-conifer-internal-token', TOKEN]);
        expect({ token, path, status: framed.status }).toEqual({ token, path, status: 401 });
        expect(framed.status).toBe(401);
        expect(JSON.parse(framed.body)).toMatchObject({ code: 16 });
      }
    }
  });

  it('refuses an Upgrade to anything else', async () => {
    const c = await client(TOKEN, '/internal/elsewhere');
    expect(await c.upgrade).toMatch(/^HTTP\/1\.1 400 /);
    await c.closed;
  });

  it('closes a connection that sends a bad frame, and only that one', async () => {
    const good = await client();
    for (const bad of [Buffer.from([0, 0, 0, 6, 42, 0, 0, 0, 0, 1]), Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 1]), encodeRequest(1, 'GET', '/x', ['odd'], undefined)]) {
      const c = await client();
      c.raw(bad);
      await c.closed;
    }
    // A response frame sent to the store is a protocol error too.
    const c = await client();
    c.raw(Buffer.from([0, 0, 0, 8, FrameType.Response, 1, 0, 0, 0, 1, 0, 200]));
    await c.closed;
    expect((await good.send('GET', '/internal/indexes/fr-1')).status).toBe(200);
    expect((await (await client()).send('GET', '/internal/indexes/fr-1')).status).toBe(200);
  });

  it('drops a cancelled request and keeps serving the connection', async () => {
    const c = await client();
    // A body announced in full but only partly sent, then cancelled.
    const id = 1000;
    const bytes = encodeRequest(id, 'POST', '/internal/indexes/fr-1/query', ['content-type', 'application/json', 'content-length', '100'], undefined);
    bytes[5] = 0; // head without END: the body would follow
    c.raw(bytes);
    c.raw(encodeCancel(id));
    expect((await c.send('GET', '/internal/indexes/fr-1')).status).toBe(200);
  });

  it('counts open framed connections in /metrics', async () => {
    await client();
    const metrics = await overHttp('GET', '/metrics');
    const open = Number(/conifer_store_framed_connections (\d+)/.exec(metrics.body)?.[1]);
    expect(open).toBeGreaterThanOrEqual(1);
  });
});
