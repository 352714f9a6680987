// Issue 14 item 13: what the store acknowledges is byte-identical after a restart. Before: ids, metadata keys
// and strings with lone UTF-16 surrogates ("s\ud800", "s\udfff") were acknowledged, written as UTF-8 (where
// both become U+FFFD) and came back merged after a restart (7 acknowledged vectors, 6 recovered). Now the
// parsers refuse text that is not well-formed Unicode with 400, and everything acknowledged survives as sent.
// Property test: random records (ids, namespaces, metadata keys, strings and lists mixing lone surrogates,
// astral characters and ASCII) are upserted one by one, the store is closed and reopened from its directory,
// and every acknowledged record must be fetched back exactly; every refused one must be ill-formed text.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildServer } from '../../src/api/server.js';
import { IndexRegistry } from '../../src/storage/index-registry.js';
import { TOKEN } from '../support/app.js';

const logger = pino({ level: 'silent' });
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Running {
  app: FastifyInstance;
  registry: IndexRegistry;
  url: string;
}

async function open(dataDir: string): Promise<Running> {
  const registry = await IndexRegistry.open(dataDir, logger, {});
  const app = buildServer({ registry, internalToken: TOKEN, maxBodyBytes: 4 * 1024 * 1024, logger });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, registry, url };
}

async function close(running: Running): Promise<void> {
  await running.app.close();
  await running.registry.close();
}

async function call(running: Running, method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(running.url + url, {
    method,
    headers: { 'x-conifer-internal-token': TOKEN, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

const isWellFormed = (s: string): boolean => Buffer.from(s, 'utf8').toString('utf8') === s;

/** Text mixing ASCII, BMP, astral pairs and lone surrogates (high and low). */
const text = (min: number, max: number) =>
  fc
    .array(
      fc.oneof(
        fc.constantFrom('a', 'Z', '-', '0', ' '),
        fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff'),
        fc.constantFrom('\ud83d\ude00', '\ud83c\udf32', '\u00e9', '\u4e2d', '\ufffd'),
        fc.integer({ min: 0x20, max: 0xffff }).map((c) => String.fromCharCode(c)),
      ),
      { minLength: min, maxLength: max },
    )
    .map((parts) => parts.join(''));

const recordArb = fc.record({
  id: text(1, 8),
  namespace: fc.constantFrom('', 'ns-a', 'ns-b'),
  metadata: fc.dictionary(text(1, 5), fc.oneof(text(0, 6), fc.array(text(0, 4), { maxLength: 3 }), fc.integer(), fc.boolean()), { maxKeys: 3 }),
});
type Rec = { id: string; namespace: string; metadata: Record<string, unknown> };

function wellFormed(record: Rec): boolean {
  if (!isWellFormed(record.id)) return false;
  for (const [key, value] of Object.entries(record.metadata)) {
    if (!isWellFormed(key)) return false;
    if (typeof value === 'string' && !isWellFormed(value)) return false;
    if (Array.isArray(value) && !value.every((v) => isWellFormed(v as string))) return false;
  }
  return true;
}

describe('acknowledged data survives a restart byte for byte', () => {
  it('property: every acknowledged record is fetched back identical after reopening; every refused one was ill-formed', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb, { minLength: 5, maxLength: 25 }), async (records: Rec[]) => {
        const dataDir = mkdtempSync(path.join(tmpdir(), 'conifer-unicode-'));
        dirs.push(dataDir);
        const index = `/internal/indexes/u${run++}`;
        let running = await open(dataDir);
        expect((await call(running, 'PUT', index, { dimension: 2, metric: 'cosine', vectorType: 'dense' })).status).toBe(201);
        const acknowledged = new Map<string, Rec>(); // namespace + id → last acknowledged record
        for (const [i, record] of records.entries()) {
          const vector = { id: record.id, values: [1, i + 1], metadata: record.metadata };
          const res = await call(running, 'POST', `${index}/vectors/upsert`, { namespace: record.namespace, vectors: [vector] });
          if (res.status === 200) {
            expect(wellFormed(record)).toBe(true);
            acknowledged.set(`${record.namespace}\u0000${record.id}`, { ...record, metadata: { ...record.metadata } });
          } else {
            expect(res.status).toBe(400);
            expect(res.body.message).toMatch(/not well-formed Unicode/);
            expect(wellFormed(record)).toBe(false);
          }
        }
        await close(running);
        running = await open(dataDir);
        try {
          const stats = await call(running, 'POST', `${index}/describe_index_stats`, {});
          expect(stats.body.totalVectorCount).toBe(acknowledged.size);
          for (const record of acknowledged.values()) {
            const query = `ids=${encodeURIComponent(record.id)}&namespace=${encodeURIComponent(record.namespace)}`;
            const fetched = await call(running, 'GET', `${index}/vectors/fetch?${query}`);
            const got = fetched.body.vectors[record.id];
            expect(got?.id).toBe(record.id);
            expect(JSON.stringify(got?.metadata ?? {})).toBe(JSON.stringify(record.metadata));
          }
        } finally {
          await close(running);
        }
      }),
      { numRuns: 15 },
    );
  }, 120_000);

  it('the report’s case: "s\\ud800" and "s\\udfff" are refused, the 5 others survive a restart', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'conifer-unicode-'));
    dirs.push(dataDir);
    let running = await open(dataDir);
    expect((await call(running, 'PUT', '/internal/indexes/report', { dimension: 2, metric: 'cosine', vectorType: 'dense' })).status).toBe(201);
    const ids = ['a', 'b', 'c', 's\ud800', 's\udfff', 's\ufffd', 's\ud83d\ude00'];
    const statuses = [];
    for (const [i, id] of ids.entries()) {
      statuses.push((await call(running, 'POST', '/internal/indexes/report/vectors/upsert', { vectors: [{ id, values: [1, i] }] })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 400, 400, 200, 200]);
    await close(running);
    running = await open(dataDir);
    const listed = await call(running, 'GET', '/internal/indexes/report/vectors/list');
    expect(listed.body.vectors.map((v: { id: string }) => v.id).sort()).toEqual(['a', 'b', 'c', 's\ufffd', 's\ud83d\ude00'].sort());
    await close(running);
  }, 60_000);
});
