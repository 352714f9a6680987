// Store-level replication bench (issue 17): durable ingest throughput (768-d, batches of 1000, written
// through the index's log and answered once durable and applied, as the upsert route does) and query p50
// over HTTP, on the local WAL, on JetStream with one store replica, and on JetStream with two store nodes
// consuming (ingest on A; "applied on B" is when B has applied the last write; queries on B with
// X-Conifer-Min-Seq). The store runs in-process (@conifer/vector-store; npx turbo run build first); NATS is the
// local server (CONIFER_BENCH_NATS_URL, default nats://127.0.0.1:4222), with names unique to the run,
// deleted at the end. Not part of npm test; nothing asserts on time.
//
//   node --experimental-strip-types bench/src/replication.ts [--n=10000] [--queries=200] [--batch=1000] [--only=local,js1,js2] [--stream-replicas=1]
//   (a NATS cluster: CONIFER_BENCH_NATS_URL=nats://a:4222,nats://b:4222,... --stream-replicas=3)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type IndexSettings, parseUpsertRequest } from '@conifer/contracts';
import { rng } from '@conifer/test-utils';
import { buildServer, type DurableIndex, IndexRegistry, JetStreamHub } from '@conifer/vector-store';
import { pino } from 'pino';

const option = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const N = Number(option('n', '10000'));
const QUERIES = Number(option('queries', '200'));
const BATCH = Number(option('batch', '1000'));
const ONLY = option('only', 'local,js1,js2').split(',');
const STREAM_REPLICAS = Number(option('stream-replicas', '1'));
const DIM = 768;
const NATS_URL = process.env.CONIFER_BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const PREFIX = `B${process.pid}x${Date.now().toString(36)}`;
const TOKEN = 'replication-bench-token-0123456789abcdef';

const logger = pino({ level: 'warn' });

// Uniform in [-0.5, 0.5): the figures compare the logs, so the data need no structure.
const uniform = rng(42);
const random = (): number => uniform() - 0.5;
const vectors = Array.from({ length: N }, () => Array.from({ length: DIM }, random));
const queries = Array.from({ length: QUERIES }, () => Array.from({ length: DIM }, random));
const settings: IndexSettings = { dimension: DIM, metric: 'cosine', vectorType: 'dense' };

type Mode = 'local' | 'jetstream';

interface StoreNode {
  registry: IndexRegistry;
  hub: JetStreamHub | undefined;
  url: string;
  close(): Promise<void>;
}

async function node(mode: Mode): Promise<StoreNode> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'conifer-repl-bench-'));
  const hub = mode === 'local' ? undefined : await JetStreamHub.connect({ servers: NATS_URL, prefix: PREFIX, streamReplicas: STREAM_REPLICAS }, logger);
  // Exact search only (no background graph build): the figures compare the logs, not the ANN builder.
  const registry = await IndexRegistry.open(dataDir, logger, { annBuilder: false, ...(hub ? { hub } : {}) });
  const app = buildServer({ registry, internalToken: TOKEN, maxBodyBytes: 64 * 1024 * 1024, logger });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    registry,
    hub,
    url,
    async close() {
      await app.close();
      await registry.close();
      await hub?.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function ingest(index: DurableIndex): Promise<{ seconds: number; seq: number }> {
  const started = performance.now();
  let seq = 0;
  for (let i = 0; i < N; i += BATCH) {
    const body = { vectors: vectors.slice(i, i + BATCH).map((values, k) => ({ id: `v${i + k}`, values })) };
    ({ seq } = await index.write(index.index.prepareUpsert(parseUpsertRequest(body))));
  }
  return { seconds: (performance.now() - started) / 1000, seq };
}

async function queryP50(url: string, id: string, minSeq: number): Promise<number> {
  const times: number[] = [];
  for (const vector of queries) {
    const started = performance.now();
    const res = await fetch(`${url}/internal/indexes/${id}/query`, {
      method: 'POST',
      headers: { 'x-conifer-internal-token': TOKEN, 'content-type': 'application/json', 'x-conifer-min-seq': String(minSeq) },
      body: JSON.stringify({ topK: 10, vector }),
    });
    if (res.status !== 200) throw new Error(`query answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

interface Row {
  log: string;
  vectors: number;
  ingestPerSecond: number;
  appliedOnLastNodePerSecond: number;
  queryP50Ms: number;
  load: string;
}

const rows: Row[] = [];
const load = (): string => os.loadavg()[0]!.toFixed(2);

async function run(name: string, key: string, mode: Mode, nodes: number): Promise<void> {
  const id = `bench-${key}`;
  const all: StoreNode[] = [];
  try {
    for (let k = 0; k < nodes; k++) all.push(await node(mode));
    for (const n of all) await n.registry.create(id, settings);
    const loadBefore = load();
    const a = all[0]!.registry.get(id);
    const { seconds, seq } = await ingest(a);
    let appliedOnLast = seconds;
    if (all.length > 1) {
      const last = all[all.length - 1]!.registry.get(id).log;
      const t0 = performance.now();
      if (!(await last.waitApplied(seq, 120_000))) throw new Error('the second node did not catch up');
      appliedOnLast = seconds + (performance.now() - t0) / 1000;
    }
    const p50 = await queryP50(all[all.length - 1]!.url, id, seq);
    const row: Row = {
      log: name,
      vectors: N,
      ingestPerSecond: Math.round(N / seconds),
      appliedOnLastNodePerSecond: Math.round(N / appliedOnLast),
      queryP50Ms: Number(p50.toFixed(2)),
      load: `${loadBefore} → ${load()}`,
    };
    rows.push(row);
    console.error(JSON.stringify(row));
    await all[0]!.hub?.purgeIndex(id);
  } finally {
    for (const n of all) await n.close();
  }
}

if (ONLY.includes('local')) await run('local WAL', 'local', 'local', 1);
if (ONLY.includes('js1')) await run('JetStream, 1 store replica', 'js1', 'jetstream', 1);
if (ONLY.includes('js2')) await run('JetStream, 2 store nodes', 'js2', 'jetstream', 2);

// This run's snapshot bucket (streams are purged per index above).
if (!ONLY.every((o) => o === 'local')) {
  const hub = await JetStreamHub.connect({ servers: NATS_URL, prefix: PREFIX }, logger);
  await hub.jsm.streams.delete(`OBJ_${hub.bucketName()}`).catch(() => undefined);
  await hub.close();
}

console.log(`| log | vectors (768-d, batches of ${BATCH}) | durable ingest (vectors/s, acknowledged) | applied on the last node (vectors/s) | query p50 (exact, topK 10, HTTP) | load (1 min) |`);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.log} | ${r.vectors} | ${r.ingestPerSecond} | ${r.appliedOnLastNodePerSecond} | ${r.queryP50Ms} ms | ${r.load} |`);
