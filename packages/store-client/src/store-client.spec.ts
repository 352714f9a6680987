import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { UnavailableError } from '@conifer/contracts';
import { parseNodeStatus, StoreResponseError, VectorStoreClient, VectorStoreClients } from './store-client.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

function listen(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })),
  );
}

describe('VectorStoreClient', () => {
  const token = 't'.repeat(40);
  const seen: Seen[] = [];
  let store: { server: Server; url: string };
  let stuck: { server: Server; url: string };
  let client: VectorStoreClient;

  beforeAll(async () => {
    store = await listen((req, res, body) => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const send = (status: number, payload: unknown) => {
        const bytes = Buffer.from(JSON.stringify(payload));
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length });
        res.end(bytes);
      };
      if (req.url === '/internal/indexes/new' && req.method === 'PUT') return send(201, { indexId: 'new', ready: true });
      if (req.url === '/internal/indexes/same' && req.method === 'PUT') return send(200, { indexId: 'same', ready: true });
      if (req.url === '/internal/indexes/other' && req.method === 'PUT') return send(409, { code: 6, message: 'exists', details: [] });
      if (req.url === '/internal/indexes/missing' && req.method === 'GET') return send(404, { code: 5, message: 'nope', details: [] });
      if (req.url === '/internal/indexes' && req.method === 'GET') return send(200, { indexes: [{ indexId: 'a', totalVectorCount: 3 }] });
      if (req.url === '/healthz') return send(200, { status: 'ok' });
      if (req.url === '/internal/indexes/seq/vectors/upsert') {
        res.writeHead(200, { 'content-type': 'application/json', 'x-conifer-log-seq': '42' });
        return res.end('{"upsertedCount":1}');
      }
      if (req.url!.startsWith('/internal/indexes/i1/')) return send(400, { code: 3, message: 'bad vector', details: [] });
      if (req.url === '/internal/indexes/big/query') {
        // Larger than FORWARD_WHOLE_MAX_BYTES, with a Content-Length: streamed.
        const payload = Buffer.from(JSON.stringify({ matches: 'x'.repeat(100_000) }));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': payload.length });
        return res.end(payload);
      }
      if (req.url === '/internal/indexes/chunked/query') {
        // No Content-Length (chunked): streamed, whatever its size.
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.write('{"a":');
        return setTimeout(() => res.end('1}'), 20);
      }
      if (req.url === '/internal/indexes/cut/query') {
        // Promises 200 KB, sends 10 KB, then the node goes away.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 200_000 });
        res.write(Buffer.alloc(10_000, 0x20));
        return setTimeout(() => res.destroy(), 20);
      }
      if (req.url === '/internal/indexes/cutsmall/query') {
        // A small answer cut short: the promise itself fails.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1_000 });
        res.write('{"matches":[');
        return setTimeout(() => res.destroy(), 20);
      }
      send(200, {});
    });
    stuck = await listen(() => {
      /* never answers */
    });
    client = new VectorStoreClient({ url: `${store.url}/`, internalToken: token, timeoutMs: 2_000 });
  });

  afterAll(async () => {
    await client.close();
    stuck.server.closeAllConnections();
    await new Promise((r) => store.server.close(r));
    await new Promise((r) => stuck.server.close(r));
  });

  it('creates indexes with the internal token and the settings as JSON', async () => {
    expect(await client.createIndex('new', { dimension: 3, metric: 'cosine', vectorType: 'dense' })).toBe(true);
    const request = seen.at(-1)!;
    expect(request.headers['x-conifer-internal-token']).toBe(token);
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request.body)).toEqual({ dimension: 3, metric: 'cosine', vectorType: 'dense' });
    expect(await client.createIndex('same', { dimension: null, metric: 'dotproduct', vectorType: 'sparse' })).toBe(false);
  });

  it('reports a 409 from the store as a StoreResponseError', async () => {
    const error = await client.createIndex('other', { dimension: 3, metric: 'cosine', vectorType: 'dense' }).catch((e) => e);
    expect(error).toBeInstanceOf(StoreResponseError);
    expect((error as StoreResponseError).status).toBe(409);
  });

  it('describes (null when missing), lists and deletes', async () => {
    expect(await client.describeIndex('missing')).toBeNull();
    expect(await client.listIndexes()).toEqual([{ indexId: 'a', totalVectorCount: 3 }]);
    await client.deleteIndex('gone');
    expect(seen.at(-1)).toMatchObject({ method: 'DELETE', url: '/internal/indexes/gone' });
    await client.deleteIndex('gone', { purge: true });
    expect(seen.at(-1)).toMatchObject({ method: 'DELETE', url: '/internal/indexes/gone?purge=true' });
    // A node of the previous version: local log, no sequences, every index ready.
    expect(await client.status()).toEqual({ log: 'local', nodeId: undefined, indexes: [{ indexId: 'a', appliedSeq: undefined, lastSeq: undefined, state: 'ready' }] });
    await client.checkHealth();
  });

  it('forwards path, query and body bytes and returns status and body unchanged', async () => {
    const body = Buffer.from('{"vectors":[{"id":"a","values":[0.1]}],"namespace":"ns"}');
    const response = await client.forward('i1', { method: 'POST', path: '/vectors/upsert?x=1&x=2', body, requestId: 'r-1' });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', url: '/internal/indexes/i1/vectors/upsert?x=1&x=2', body: body.toString() });
    expect(seen.at(-1)!.headers['x-request-id']).toBe('r-1');
    expect(response.status).toBe(400);
    expect(response.contentType).toBe('application/json');
    expect(JSON.parse(response.body.toString())).toEqual({ code: 3, message: 'bad vector', details: [] });
  });

  it('forwardStreaming: a small answer arrives whole, with the request sent unchanged', async () => {
    const body = Buffer.from('{"topK":1}');
    const response = await client.forwardStreaming('i1', { method: 'POST', path: '/query?x=1', body, contentType: 'application/json', requestId: 'r-2' });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', url: '/internal/indexes/i1/query?x=1', body: '{"topK":1}' });
    expect(seen.at(-1)!.headers['x-request-id']).toBe('r-2');
    expect(seen.at(-1)!.headers['x-conifer-internal-token']).toBe(token);
    expect(response.status).toBe(400);
    expect(response.contentType).toBe('application/json');
    expect(response.whole).toBeInstanceOf(Buffer);
    expect(response.contentLength).toBe(response.whole!.length);
    expect(JSON.parse(response.whole!.toString())).toEqual({ code: 3, message: 'bad vector', details: [] });
    expect(await response.bytes()).toBe(response.whole);
    // The body stream is still available for a whole answer.
    const chunks: Buffer[] = [];
    for await (const chunk of response.body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(response.whole!)).toBe(true);
  });

  it('forwardStreaming over HTTP: a body given in chunks is sent joined, with its whole length', async () => {
    const chunks = [Buffer.from('{"vectors":[{"id":"a",'), Buffer.from('"values":[0.1]}],'), Buffer.from('"namespace":"ns"}')];
    await client.forwardStreaming('i1', { method: 'POST', path: '/vectors/upsert', body: chunks });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', url: '/internal/indexes/i1/vectors/upsert', body: Buffer.concat(chunks).toString() });
    expect(seen.at(-1)!.headers['content-length']).toBe(String(Buffer.concat(chunks).length));
    await client.forward('i1', { method: 'POST', path: '/vectors/upsert', body: chunks });
    expect(seen.at(-1)!.body).toBe(Buffer.concat(chunks).toString());
  });

  it('forwardStreaming: sends X-Conifer-Min-Seq only when asked, and reads X-Conifer-Log-Seq', async () => {
    const write = await client.forwardStreaming('seq', { method: 'POST', path: '/vectors/upsert', body: '{}', minSeq: '7' });
    expect(write.logSeq).toBe('42');
    expect(seen.at(-1)!.headers['x-conifer-min-seq']).toBe('7');
    const plain = await client.forwardStreaming('i1', { method: 'POST', path: '/query', body: '{}' });
    expect(plain.logSeq).toBeUndefined();
    expect(seen.at(-1)!.headers['x-conifer-min-seq']).toBeUndefined();
  });

  it('reads a node status in the replication shape, leniently', () => {
    expect(
      parseNodeStatus({
        log: 'jetstream',
        nodeId: 'n1',
        indexes: [
          { id: 'a', appliedSeq: 12, lastSeq: 15, state: 'catching-up' },
          { indexId: 'b', appliedSeq: '9', state: 'ready' },
          { appliedSeq: 1 },
          'junk',
          { id: 'c', appliedSeq: -1 },
        ],
      }),
    ).toEqual({
      log: 'jetstream',
      nodeId: 'n1',
      indexes: [
        { indexId: 'a', appliedSeq: 12, lastSeq: 15, state: 'catching-up' },
        { indexId: 'b', appliedSeq: 9, lastSeq: undefined, state: 'ready' },
        { indexId: 'c', appliedSeq: undefined, lastSeq: undefined, state: 'ready' },
      ],
    });
    expect(parseNodeStatus(null)).toEqual({ log: 'local', nodeId: undefined, indexes: [] });
  });

  it('forwardStreaming: a large answer and a chunked one stream', async () => {
    const big = await client.forwardStreaming('big', { method: 'POST', path: '/query', body: '{}' });
    expect(big.whole).toBeUndefined();
    expect(big.status).toBe(200);
    expect(big.contentLength).toBeGreaterThan(100_000);
    const bytes = await big.bytes();
    expect(bytes.length).toBe(big.contentLength);
    expect((JSON.parse(bytes.toString()) as { matches: string }).matches).toHaveLength(100_000);

    const chunked = await client.forwardStreaming('chunked', { method: 'POST', path: '/query', body: '{}' });
    expect(chunked.whole).toBeUndefined();
    expect(chunked.contentLength).toBeUndefined();
    expect(chunked.contentType).toBe('application/json; charset=utf-8');
    expect((await chunked.bytes()).toString()).toBe('{"a":1}');
  });

  it('forwardStreaming: a body cut short after the headers fails on the stream as UnavailableError', async () => {
    const cut = await client.forwardStreaming('cut', { method: 'POST', path: '/query', body: '{}' });
    expect(cut.status).toBe(200);
    await expect(cut.bytes()).rejects.toBeInstanceOf(UnavailableError);
    await expect(client.forwardStreaming('cutsmall', { method: 'POST', path: '/query', body: '{}' })).rejects.toBeInstanceOf(UnavailableError);
  });

  it('forwardStreaming: node down or silent → UnavailableError', async () => {
    const { server, url } = await listen(() => {});
    await new Promise((r) => server.close(r));
    const down = new VectorStoreClient({ url, internalToken: token, timeoutMs: 1_000 });
    await expect(down.forwardStreaming('i1', { method: 'GET', path: '/vectors/list' })).rejects.toBeInstanceOf(UnavailableError);
    await down.close();
    const slow = new VectorStoreClient({ url: stuck.url, internalToken: token, timeoutMs: 200 });
    await expect(slow.forwardStreaming('i1', { method: 'POST', path: '/query', body: '{}' })).rejects.toBeInstanceOf(UnavailableError);
    await slow.close();
  });

  it('503 (UnavailableError) when the node refuses connections', async () => {
    const { server, url } = await listen(() => {});
    await new Promise((r) => server.close(r));
    const down = new VectorStoreClient({ url, internalToken: token, timeoutMs: 1_000 });
    await expect(down.forward('i1', { method: 'GET', path: '/vectors/list' })).rejects.toBeInstanceOf(UnavailableError);
    await expect(down.checkHealth()).rejects.toBeInstanceOf(UnavailableError);
    await down.close();
  });

  it('503 (UnavailableError) when the node does not answer within the timeout', async () => {
    const slow = new VectorStoreClient({ url: stuck.url, internalToken: token, timeoutMs: 200 });
    const error = await slow.forward('i1', { method: 'POST', path: '/query', body: '{}' }).catch((e) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).not.toBeInstanceOf(StoreResponseError);
    await slow.close();
  });

  it('keeps one client per node URL', async () => {
    const clients = new VectorStoreClients({ internalToken: token, timeoutMs: 1_000 });
    expect(clients.for(store.url)).toBe(clients.for(`${store.url}/`));
    await clients.closeAll();
  });

  it('reaches a node configured with a Unix socket through it (the URL is only its name), others over TCP', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(tmpdir(), 'conifer-client-sock-'));
    const socketPath = path.join(dir, 'store.sock');
    const local = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ via: 'socket', url: req.url, token: req.headers['x-conifer-internal-token'] }));
      });
    });
    await new Promise<void>((resolve) => local.listen(socketPath, resolve));
    // Nothing listens on this port: only the socket can answer.
    const named = 'http://127.0.0.1:1';
    const clients = new VectorStoreClients({ internalToken: token, timeoutMs: 1_000 }, { [named]: socketPath });
    const response = await clients.for(`${named}/`).forwardStreaming('i9', { method: 'POST', path: '/query', body: '{}', contentType: 'application/json' });
    expect(JSON.parse((await response.bytes()).toString('utf8'))).toEqual({ via: 'socket', url: '/internal/indexes/i9/query', token });
    await expect(clients.for(store.url).checkHealth()).resolves.toBeUndefined();
    await clients.closeAll();
    await new Promise<void>((resolve) => local.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });
});
