// Replicated indexes (issue 17) on a real cluster: a nats-server child with JetStream, three vector-store nodes
// on it, two gateway processes, CONIFER_INDEX_REPLICAS=2. Continuous ingest and queries through both gateways
// while (1) a node holding a replica is killed with SIGKILL, replaced by repair, and later restarted with its
// data directory wiped; (2) NATS itself is killed and restarted mid-ingest. Checked: every acknowledged write is
// on every replica at the end (fetched by id, on each node directly), no read fails (the gateway's one retry
// hides the dead node; the worst gap between answered reads is printed), exact-match recall is unchanged, and
// while NATS is down writes get a clean 503 in Pinecone's shape and succeed once it is back.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCluster, type Cluster, type StoreChild } from './support/cluster.js';
import { call, DIMENSION, isGrpcError, jsonHeaders, percentile, printFigures, sleep, soakSeconds, Tally } from './support/harness.js';

const REPLICAS = 2;
const DOWN_AFTER_MS = 2_000;

/**
 * A pseudo-random unit-free vector per seed (mulberry32). Not harness.vector(): its sin(seed·a + d·b) vectors all
 * lie in one plane, so thousands of them crowd a circle and near-ties make exact-match recall meaningless.
 */
function vector(seed: number): number[] {
  let state = (seed * 0x9e3779b1) >>> 0;
  return Array.from({ length: DIMENSION }, () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.fround(((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5);
  });
}

interface Load {
  stop(): Promise<void>;
}

describe('replicated index cluster: node loss and NATS restart under load', () => {
  let cluster: Cluster;
  let key: string;
  let indexId: string;
  let path: string;
  /** Every id a gateway acknowledged (200), with its seed. */
  const acknowledged = new Map<string, number>();
  let highestSeq = 0;
  const writeStatuses = new Tally();
  const readStatuses = new Tally();
  const readLatencies: number[] = [];
  let worstReadGapMs = 0;
  const figures: Record<string, unknown> = {};
  let nextSeed = 0;

  const storeStatus = async (store: StoreChild) => {
    const reply = await call(`${store.url}/internal/indexes`, { headers: { 'x-conifer-internal-token': cluster.internalToken }, timeoutMs: 3_000 });
    return reply.status === 200 ? (reply.json as { log: string; indexes: { id: string; appliedSeq: number; state: string }[] }) : undefined;
  };
  const holders = async () => {
    const held: StoreChild[] = [];
    for (const store of cluster.stores) {
      if (!store.running) continue;
      const status = await storeStatus(store);
      if (status?.indexes.some((i) => i.id === indexId)) held.push(store);
    }
    return held;
  };

  /** Writers and readers alternating between the gateways until stopped. */
  function startLoad(options: { writers: number; readers: number; readsMustSucceed: boolean }): Load {
    let running = true;
    let turn = 0;
    const gateway = () => cluster.gatewayUrls[turn++ % cluster.gatewayUrls.length]!;
    const writer = async (n: number) => {
      while (running) {
        const batch = Array.from({ length: 20 }, () => {
          const seed = nextSeed++;
          return { id: `w${n}-${seed}`, values: vector(seed), metadata: { seed } };
        });
        const reply = await call(`${gateway()}${path}/vectors/upsert`, { method: 'POST', headers: jsonHeaders(key), body: JSON.stringify({ vectors: batch }), timeoutMs: 30_000 });
        writeStatuses.add(reply.status);
        if (reply.status === 200) {
          for (const v of batch) acknowledged.set(v.id, v.metadata.seed);
          const seq = Number(reply.headers.get('x-conifer-log-seq'));
          if (Number.isFinite(seq)) highestSeq = Math.max(highestSeq, seq);
        } else if (reply.status !== 503 || !isGrpcError(reply.json)) {
          writeStatuses.add(`unclean-${reply.status}`);
        }
        if (reply.status !== 200) await sleep(100);
      }
    };
    const reader = async () => {
      let lastAnswer = Date.now();
      while (running) {
        const ids = [...acknowledged.entries()];
        const [, seed] = ids.length > 0 ? ids[Math.floor(Math.random() * ids.length)]! : ['', 0];
        const reply = await call(`${gateway()}${path}/query`, { method: 'POST', headers: jsonHeaders(key), body: JSON.stringify({ vector: vector(seed), topK: 3 }), timeoutMs: 30_000 });
        readStatuses.add(reply.status);
        readLatencies.push(reply.doneAt - reply.sentAt);
        if (reply.status === 200) {
          worstReadGapMs = Math.max(worstReadGapMs, reply.doneAt - lastAnswer);
          lastAnswer = reply.doneAt;
        } else if (options.readsMustSucceed) {
          readStatuses.add(`failed:${reply.status}:${reply.text.slice(0, 120)}`);
        }
        await sleep(20);
      }
    };
    const tasks = [...Array.from({ length: options.writers }, (_, n) => writer(n)), ...Array.from({ length: options.readers }, () => reader())];
    return {
      async stop() {
        running = false;
        await Promise.all(tasks);
      },
    };
  }

  /** Exact-match recall@1 over a sample of acknowledged vectors, on one node directly (or a gateway). */
  async function recall(base: string, headers: Record<string, string>, sample: [string, number][]): Promise<number> {
    let hits = 0;
    for (const [id, seed] of sample) {
      const reply = await call(`${base}/query`, { method: 'POST', headers: { ...headers, 'x-conifer-min-seq': String(highestSeq) }, body: JSON.stringify({ vector: vector(seed), topK: 1 }) });
      const matches = (reply.json as { matches?: { id: string }[] } | undefined)?.matches ?? [];
      if (matches[0]?.id === id) hits++;
    }
    return hits / sample.length;
  }

  /** Ids missing on a node (fetched directly with the internal credential, after the highest acknowledged sequence). */
  async function missingOn(store: StoreChild): Promise<number> {
    const ids = [...acknowledged.keys()];
    let missing = 0;
    for (let i = 0; i < ids.length; i += 100) {
      const batch = ids.slice(i, i + 100);
      const query = batch.map((id) => `ids=${encodeURIComponent(id)}`).join('&');
      const reply = await call(`${store.url}/internal/indexes/${indexId}/vectors/fetch?${query}`, {
        headers: { 'x-conifer-internal-token': cluster.internalToken, 'x-conifer-min-seq': String(highestSeq) },
        timeoutMs: 30_000,
      });
      if (reply.status !== 200) throw new Error(`fetch on ${store.name}: ${reply.status} ${reply.text}`);
      const found = (reply.json as { vectors: Record<string, unknown> }).vectors;
      missing += batch.filter((id) => found[id] === undefined).length;
    }
    return missing;
  }

  /** The stores' warning and error log lines (pino levels 40 and up), for a failure's message. */
  const storeWarnings = () =>
    cluster.stores
      .flatMap((store) => store.output().split('\n').filter((line) => /"level":(4|5|6)\d/.test(line)).map((line) => `${store.name}: ${line.slice(0, 600)}`))
      .join('\n');

  beforeAll(async () => {
    cluster = await startCluster({
      stores: 3,
      gateways: 2,
      env: {
        CONIFER_INDEX_REPLICAS: String(REPLICAS),
        CONIFER_NODE_POLL_MS: '250',
        CONIFER_NODE_DOWN_AFTER_MS: String(DOWN_AFTER_MS),
        CONIFER_UPSTREAM_TIMEOUT_MS: '5000',
      },
    });
    key = await cluster.mintKey(['ProjectEditor']);
    // The gateways learn each node's log from their first polls.
    await sleep(1_000);
    // A 503 asks the caller to retry (a replica's log not yet answering); retried as a client would. A retry is
    // printed with the stores' warnings, so that its cause is on record (CI once got a 503 here, 1 s after the
    // nodes were ready, that could not be reproduced).
    const createBody = JSON.stringify({ name: 'replicated', dimension: DIMENSION, metric: 'cosine', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } });
    let created = await call(`${cluster.gatewayUrls[0]}/indexes`, { method: 'POST', headers: jsonHeaders(key), body: createBody });
    for (let retry = 1; created.status === 503 && retry <= 5; retry++) {
      figures.create_retries = retry;
      console.warn(`create answered 503 (${created.text}); retry ${retry}\n${storeWarnings()}`);
      await sleep(1_000);
      created = await call(`${cluster.gatewayUrls[0]}/indexes`, { method: 'POST', headers: jsonHeaders(key), body: createBody });
    }
    if (created.status !== 201) throw new Error(`create: ${created.status} ${created.text}\n${storeWarnings()}`);
    path = new URL((created.json as { host: string }).host).pathname;
    for (const store of cluster.stores) {
      const status = await storeStatus(store);
      if (status?.indexes[0]) indexId = status.indexes[0].id;
    }
  }, 180_000);

  afterAll(async () => {
    printFigures('cluster / replicated index', {
      ...figures,
      writes_by_status: writeStatuses.toJSON(),
      reads_by_status: readStatuses.toJSON(),
      vectors_acknowledged: acknowledged.size,
      highest_log_seq: highestSeq,
      worst_gap_between_answered_reads_ms: worstReadGapMs,
      read_p50_ms: percentile(readLatencies, 50),
      read_p99_ms: percentile(readLatencies, 99),
      read_max_ms: Math.max(0, ...readLatencies),
    });
    if (process.env.CONIFER_CLUSTER_LOGS) console.log(cluster?.logs());
    await cluster?.stop();
  });

  it('places the index on two JetStream nodes', async () => {
    expect(indexId).toBeDefined();
    expect(await holders()).toHaveLength(REPLICAS);
  });

  it('loses no acknowledged write and no read when a replica\'s node is killed, replaced, and comes back wiped', async () => {
    const phase = soakSeconds(6) * 1000;
    const load = startLoad({ writers: 2, readers: 2, readsMustSucceed: true });
    await sleep(phase / 2);
    const sample = [...acknowledged.entries()].slice(0, 40);
    figures.recall_before = await recall(cluster.gatewayUrls[0] + path, jsonHeaders(key), sample);

    const [victim, survivor] = await holders();
    const spare = cluster.stores.find((store) => store !== victim && store !== survivor)!;
    const killedAt = Date.now();
    await victim!.kill('SIGKILL');
    // Repair: the spare node gets a replica and catches up (snapshot + log), under continuing load.
    let replacedAfter = -1;
    while (Date.now() - killedAt < 60_000) {
      const status = await storeStatus(spare);
      if (status?.indexes.some((i) => i.id === indexId && i.state === 'ready')) {
        replacedAfter = Date.now() - killedAt;
        break;
      }
      await sleep(200);
    }
    figures.replacement_ready_after_kill_ms = replacedAfter;
    expect(replacedAfter).toBeGreaterThan(0);
    await sleep(phase / 2);
    await victim!.start({ wipe: true });
    await sleep(Math.min(phase / 2, 3_000));
    await load.stop();

    expect(readStatuses.toJSON()).toEqual({ 200: readStatuses.get(200) });
    expect(writeStatuses.get(200)).toBeGreaterThan(0);
    expect(Object.keys(writeStatuses.toJSON()).filter((s) => s.startsWith('unclean'))).toEqual([]);
    for (const store of [survivor!, spare]) {
      figures[`missing_on_${store.name}`] = await missingOn(store);
      expect(figures[`missing_on_${store.name}`]).toBe(0);
    }
    // The wiped node holds no replica the catalog does not place on it.
    expect((await holders()).map((s) => s.name).sort()).toEqual([survivor!.name, spare.name].sort());
    const internal = { 'content-type': 'application/json', 'x-conifer-internal-token': cluster.internalToken };
    figures.recall_after_on_replacement = await recall(`${spare.url}/internal/indexes/${indexId}`, internal, sample);
    figures.recall_after_on_survivor = await recall(`${survivor!.url}/internal/indexes/${indexId}`, internal, sample);
    // The replacement, rebuilt from snapshot + log, answers like the replica that never died; the index grew
    // meanwhile, so against the earlier figure only a small tolerance.
    expect(figures.recall_after_on_replacement).toBe(figures.recall_after_on_survivor);
    expect(figures.recall_after_on_replacement).toBeGreaterThanOrEqual((figures.recall_before as number) - 0.05);
  });

  it('answers writes a clean 503 while NATS is down, succeeds once it is back, and loses nothing acknowledged', async () => {
    const phase = soakSeconds(4) * 1000;
    const before = writeStatuses.get(200);
    const load = startLoad({ writers: 2, readers: 1, readsMustSucceed: false });
    await sleep(phase / 2);
    await cluster.nats.kill('SIGKILL');
    const downAt = Date.now();
    const unavailableBefore = writeStatuses.get(503);
    // Longer than the store's publish time-out (5 s): writes sent meanwhile must end as 503, not hang.
    await sleep(8_000);
    const okBefore = writeStatuses.get(200);
    await cluster.nats.start();
    figures.nats_down_ms = Date.now() - downAt;
    let recoveredAfter = -1;
    while (Date.now() - downAt < 90_000) {
      if (writeStatuses.get(200) > okBefore) {
        recoveredAfter = Date.now() - downAt;
        break;
      }
      await sleep(100);
    }
    figures.writes_503_during_nats_outage = writeStatuses.get(503) - unavailableBefore;
    figures.writes_ok_again_after_nats_kill_ms = recoveredAfter;
    await sleep(phase / 2);
    await load.stop();
    expect(figures.writes_503_during_nats_outage).toBeGreaterThan(0);
    expect(recoveredAfter).toBeGreaterThan(0);
    expect(writeStatuses.get(200)).toBeGreaterThan(before);
    expect(Object.keys(writeStatuses.toJSON()).filter((s) => s.startsWith('unclean'))).toEqual([]);
    for (const store of await holders()) {
      const missing = await missingOn(store);
      figures[`missing_after_nats_restart_on_${store.name}`] = missing;
      expect(missing).toBe(0);
    }
  });
});
