// Gateway and store on one host over a Unix domain socket (CONIFER_VECTOR_STORE_SOCKET[S], issue 13): the whole
// data plane works through it, and the gateway's connections to the store really are on the socket.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSystem, type System } from '@conifer/test-utils';

let system: System;

beforeAll(async () => {
  system = await startSystem({ unixSocket: true });
});
afterAll(async () => {
  await system?.stop();
});

/** Connections on `socketPath` (Linux /proc/net/unix: the listener and each accepted connection name it). */
function socketEntries(socketPath: string): number {
  return readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .filter((line) => line.endsWith(` ${socketPath}`)).length;
}

describe('gateway → store over a Unix socket', () => {
  it('creates, writes and queries an index through the socket', async () => {
    const projectId = await system.defaultProjectId();
    const apiKey = (await system.mintKey(projectId, ['ProjectEditor'])).value;
    const headers = { 'api-key': apiKey, 'content-type': 'application/json' };
    const created = await fetch(`${system.gatewayUrl}/indexes`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'sock', dimension: 2, metric: 'cosine', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
    });
    expect(created.status).toBe(201);
    const { host } = (await created.json()) as { host: string };
    const base = host.startsWith('http') ? host : `http://${host}`;
    const upsert = await fetch(`${base}/vectors/upsert`, { method: 'POST', headers, body: JSON.stringify({ vectors: [{ id: 'a', values: [1, 0] }, { id: 'b', values: [0, 1] }] }) });
    expect(await upsert.json()).toEqual({ upsertedCount: 2 });
    const query = await fetch(`${base}/query`, { method: 'POST', headers, body: JSON.stringify({ vector: [1, 0.1], topK: 1 }) });
    expect(query.status).toBe(200);
    expect(((await query.json()) as { matches: { id: string }[] }).matches.map((m) => m.id)).toEqual(['a']);
    // The listener plus at least one accepted connection of the gateway's pool.
    expect(socketEntries(path.join(system.dataDir, 'store.sock'))).toBeGreaterThanOrEqual(2);
  });
});
