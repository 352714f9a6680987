// The store's Unix domain socket listener (CONIFER_VECTOR_STORE_SOCKET): same routes and hooks as TCP, the
// internal token still required, a stale socket file replaced, a live one or another file never taken over.
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { listenOnUnixSocket, type UnixListener } from '../../src/api/unix-listener.js';
import { startTestApp, TOKEN, type TestApp } from '../support/app.js';

let t: TestApp;
let dir: string;
let listener: UnixListener;

function overSocket(socketPath: string, method: string, url: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path: url, headers: { host: 'store', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  t = await startTestApp({ annBuilder: false });
  dir = mkdtempSync(path.join(tmpdir(), 'conifer-sock-'));
  listener = await listenOnUnixSocket(t.app.server, path.join(dir, 'store.sock'));
});
afterAll(async () => {
  await listener.close();
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Unix socket listener', () => {
  it('serves the same API as TCP, owner and group only', async () => {
    expect(statSync(listener.path).mode & 0o777).toBe(0o660);
    const json = { 'x-conifer-internal-token': TOKEN, 'content-type': 'application/json' };
    expect((await overSocket(listener.path, 'PUT', '/internal/indexes/sock-1', json, JSON.stringify({ dimension: 2, metric: 'cosine', vectorType: 'dense' }))).status).toBe(201);
    const upsert = await overSocket(listener.path, 'POST', '/internal/indexes/sock-1/vectors/upsert', json, JSON.stringify({ vectors: [{ id: 'a', values: [1, 0] }] }));
    expect(upsert.status).toBe(200);
    const query = await overSocket(listener.path, 'POST', '/internal/indexes/sock-1/query', json, JSON.stringify({ vector: [1, 0], topK: 1 }));
    expect(query.status).toBe(200);
    expect(JSON.parse(query.body).matches).toEqual([expect.objectContaining({ id: 'a' })]);
    // What TCP sees is the same index.
    expect((await t.call('GET', '/internal/indexes/sock-1')).status).toBe(200);
  });

  it('still requires the internal token', async () => {
    for (const headers of [{}, { 'x-conifer-internal-token': 'wrong' }] as Record<string, string>[]) {
      const res = await overSocket(listener.path, 'GET', '/internal/indexes', headers);
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body)).toMatchObject({ code: 16 });
    }
  });

  it('replaces a stale socket file, refuses a live socket or another file', async () => {
    const stalePath = path.join(dir, 'stale.sock');
    const old = createServer();
    await new Promise<void>((resolve) => old.listen(stalePath, resolve));
    await expect(listenOnUnixSocket(t.app.server, stalePath)).rejects.toThrow(/another process is listening/);
    // A server that died without unlinking leaves the file behind (a closed Node server would remove it).
    const { renameSync } = await import('node:fs');
    renameSync(stalePath, `${stalePath}.kept`);
    await new Promise<void>((resolve) => old.close(() => resolve()));
    renameSync(`${stalePath}.kept`, stalePath);
    expect(existsSync(stalePath)).toBe(true);
    const replaced = await listenOnUnixSocket(t.app.server, stalePath);
    expect((await overSocket(stalePath, 'GET', '/healthz', {})).status).toBe(200);
    await replaced.close();
    expect(existsSync(stalePath)).toBe(false);

    const regular = path.join(dir, 'not-a-socket');
    writeFileSync(regular, 'data');
    await expect(listenOnUnixSocket(t.app.server, regular)).rejects.toThrow(/not a socket/);
  });
});
