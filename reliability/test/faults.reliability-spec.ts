// Faults: the vector store killed with SIGKILL during ingest, frozen (SIGSTOP) and down; Redis killed and
// restarted (with its data) during traffic; Postgres cut mid-traffic through a TCP proxy. Each against a real
// system, never touching the machine's shared Postgres or Redis servers.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mintApiKey } from '@conifer/keys';
import { startSystem, type System } from '@conifer/test-utils';
import {
  call,
  createIndex,
  isGrpcError,
  isRestError,
  jsonHeaders,
  printFigures,
  sleep,
  soakSeconds,
  Tally,
  vector,
  type Reply,
} from './support/harness.js';
import { startPrivateRedis, type PrivateRedis } from './support/redis-server.js';

const UPSTREAM_TIMEOUT_MS = 1_500;
const DEADLINE_MS = 1_000;

async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs = 30_000): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await predicate()) return Date.now() - start;
    await sleep(50);
  }
  throw new Error(`timed out waiting for: ${what}`);
}

const readyStatus = async (url: string) => (await call(`${url}/readyz`, { timeoutMs: 10_000 })).status;
const stats = (host: string, key: string) => call(`${host}/describe_index_stats`, { method: 'POST', headers: jsonHeaders(key), body: '{}' });

describe('vector store: kill -9 during ingest, frozen, down', () => {
  let system: System;
  let host: string;
  let editor: { id: string; value: string };
  const ingestStatuses = new Tally();
  const acknowledged = new Map<string, number[]>();
  let present = 0;
  let kills = 0;
  const downLatencies: number[] = [];
  const frozenLatencies: number[] = [];
  const downStatuses = new Tally();

  beforeAll(async () => {
    system = await startSystem({ env: { CONIFER_UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS) } });
    editor = await system.mintKey(await system.defaultProjectId(), ['ProjectEditor']);
    host = system.gatewayUrl + (await createIndex(system, editor.value, 'crash'));
  });

  afterAll(async () => {
    printFigures('faults / vector store', {
      kill9_cycles: kills,
      ingest_by_status: ingestStatuses.toJSON(),
      vectors_acknowledged: acknowledged.size,
      vectors_present_after_restart: present,
      store_down_by_status: downStatuses.toJSON(),
      store_down_slowest_answer_ms: Math.max(0, ...downLatencies),
      store_frozen_slowest_answer_ms: Math.max(0, ...frozenLatencies),
      upstream_timeout_ms: UPSTREAM_TIMEOUT_MS,
    });
    await system?.stop();
  });

  it('keeps every acknowledged vector across kill -9 of the store mid-ingest', async () => {
    const cycles = Math.max(1, Math.round(soakSeconds(0) / 30));
    let sequence = 0;
    for (let cycle = 0; cycle < cycles; cycle++) {
      let writing = true;
      const writer = async (n: number) => {
        while (writing) {
          const batch = Array.from({ length: 50 }, () => {
            const seed = sequence++;
            return { id: `c${cycle}-w${n}-${seed}`, values: vector(seed), metadata: { seed } };
          });
          const reply = await call(`${host}/vectors/upsert`, { method: 'POST', headers: jsonHeaders(editor.value), body: JSON.stringify({ vectors: batch }) });
          ingestStatuses.add(reply.status);
          if (reply.status === 200) {
            expect(reply.json).toEqual({ upsertedCount: 50 });
            for (const v of batch) acknowledged.set(v.id, v.values);
          } else {
            // Only the store's absence may refuse a write, as a clean 503 in the data plane's shape.
            expect(reply.status).toBe(503);
            expect(isGrpcError(reply.json) && (reply.json as { code: number }).code === 14).toBe(true);
            await sleep(20);
          }
        }
      };
      const writers = Array.from({ length: 4 }, (_, n) => writer(n));
      const before = acknowledged.size;
      await waitFor('some acknowledged writes', async () => acknowledged.size - before >= 1_500, 60_000);
      await system.killStore();
      kills++;
      await sleep(700);
      writing = false;
      await Promise.all(writers);
      await system.startStore();
    }

    const ids = [...acknowledged.keys()];
    for (let i = 0; i < ids.length; i += 200) {
      const chunk = ids.slice(i, i + 200);
      const reply = await call(`${host}/vectors/fetch?${chunk.map((id) => `ids=${id}`).join('&')}`, { headers: { 'api-key': editor.value } });
      expect(reply.status).toBe(200);
      const vectors = (reply.json as { vectors: Record<string, { values: number[] }> }).vectors;
      for (const id of chunk) {
        const got = vectors[id];
        if (!got) continue;
        expect(got.values.map(Math.fround)).toEqual(acknowledged.get(id)!.map(Math.fround));
        present++;
      }
    }
    expect(present).toBe(acknowledged.size);
    // The gateway found the restarted store on its own.
    const after = await call(`${host}/vectors/upsert`, { method: 'POST', headers: jsonHeaders(editor.value), body: JSON.stringify({ vectors: [{ id: 'after', values: vector(1) }] }) });
    expect(after.status).toBe(200);
  });

  const dataPlaneCalls = (): Promise<Reply>[] => [
    call(`${host}/query`, { method: 'POST', headers: jsonHeaders(editor.value), body: JSON.stringify({ vector: vector(3), topK: 3 }) }),
    call(`${host}/vectors/fetch?ids=after`, { headers: { 'api-key': editor.value } }),
    call(`${host}/vectors/list`, { headers: { 'api-key': editor.value } }),
    stats(host, editor.value),
    call(`${host}/namespaces`, { headers: { 'api-key': editor.value } }),
    call(`${host}/vectors/upsert`, { method: 'POST', headers: jsonHeaders(editor.value), body: JSON.stringify({ vectors: [{ id: 'x', values: vector(2) }] }) }),
  ];

  it('503 {"code":14} within the upstream timeout while the store is frozen (SIGSTOP), no hung request', async () => {
    system.store.child.kill('SIGSTOP');
    try {
      const replies = await Promise.all([...dataPlaneCalls(), ...dataPlaneCalls()]);
      for (const reply of replies) {
        frozenLatencies.push(reply.doneAt - reply.sentAt);
        downStatuses.add(`frozen:${reply.status}`);
        expect(reply.status).toBe(503);
        expect(reply.json).toMatchObject({ code: 14, details: [] });
      }
      expect(await readyStatus(system.gatewayUrl)).toBe(503);
    } finally {
      system.store.child.kill('SIGCONT');
    }
    await waitFor('data plane back after SIGCONT', async () => (await stats(host, editor.value)).status === 200);
  });

  it('503 {"code":14} at once while the store is down, /readyz 503, recovery without a gateway restart', async () => {
    await system.killStore();
    const replies = await Promise.all([...dataPlaneCalls(), ...dataPlaneCalls()]);
    for (const reply of replies) {
      downLatencies.push(reply.doneAt - reply.sentAt);
      downStatuses.add(`down:${reply.status}`);
      expect(reply.status).toBe(503);
      expect(reply.json).toMatchObject({ code: 14, details: [] });
    }
    expect(await readyStatus(system.gatewayUrl)).toBe(503);
    // The control plane still answers from the catalog.
    const described = await call(`${system.gatewayUrl}/indexes/crash`, { headers: jsonHeaders(editor.value) });
    expect(described.status).toBe(200);
    await system.startStore();
    await waitFor('/readyz 200 after the store is back', async () => (await readyStatus(system.gatewayUrl)) === 200);
    expect((await stats(host, editor.value)).status).toBe(200);
  });
});

interface Victim {
  id: string;
  value: string;
  revokedAt?: number;
}

/** Traffic against every replica with live keys and revoked ones; counts acceptances after the deadline. */
function startTraffic(hosts: string[], live: { value: string }[], victims: Victim[]) {
  const statuses = new Tally();
  const liveFailures: string[] = [];
  let acceptedAfterDeadline = 0;
  let acceptedWithinDeadline = 0;
  let running = true;
  const loop = async (n: number) => {
    let i = 0;
    while (running) {
      const host = hosts[(n + i++) % hosts.length]!;
      const liveKey = live[i % live.length]!;
      const reply = await stats(host, liveKey.value);
      statuses.add(`live:${reply.status}`);
      if (reply.status !== 200) liveFailures.push(`${reply.status} ${reply.text.slice(0, 120)}`);
      for (const victim of victims) {
        if (victim.revokedAt === undefined) continue;
        const probe = await stats(host, victim.value);
        statuses.add(`revoked:${probe.status}`);
        if (probe.status === 200 && probe.sentAt - victim.revokedAt > DEADLINE_MS) acceptedAfterDeadline++;
        else if (probe.status === 200) acceptedWithinDeadline++;
      }
      await sleep(10);
    }
  };
  const loops = [0, 1, 2].map(loop);
  return {
    statuses,
    liveFailures,
    acceptedAfterDeadline: () => acceptedAfterDeadline,
    acceptedWithinDeadline: () => acceptedWithinDeadline,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Revokes through the admin API, then waits until every replica refuses the key; returns the slowest ms. */
async function revokeAndWait(system: System, hosts: string[], victim: Victim): Promise<number> {
  const revoked = await system.admin('DELETE', `/admin/api-keys/${victim.id}`);
  expect(revoked.status).toBe(202);
  victim.revokedAt = Date.now();
  const times = await Promise.all(
    hosts.map(async (host) => {
      for (;;) {
        const reply = await stats(host, victim.value);
        if (reply.status === 401) return reply.sentAt - victim.revokedAt!;
        if (Date.now() - victim.revokedAt! > 15_000) throw new Error(`${host} accepts a revoked key after 15 s`);
        await sleep(5);
      }
    }),
  );
  return Math.max(...times);
}

describe('Redis killed (-9) and restarted with its data during traffic', () => {
  let redis: PrivateRedis;
  let system: System;
  let hosts: string[];
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    redis = await startPrivateRedis();
    system = await startSystem({ gateways: 2, redisUrl: redis.url });
  });

  afterAll(async () => {
    printFigures('faults / redis', figures);
    await system?.stop();
    await redis?.stop();
  });

  it('never accepts a revoked key, keeps serving, readiness reflects the outage, recovers on its own', async () => {
    const projectId = await system.defaultProjectId();
    const editor = await system.mintKey(projectId, ['ProjectEditor']);
    hosts = system.gateways.map((g) => g.url);
    const path = await createIndex(system, editor.value, 'redis-outage');
    hosts = hosts.map((h) => h + path);
    const live = [await system.mintKey(projectId, ['DataPlaneViewer']), await system.mintKey(projectId, ['DataPlaneViewer'])];
    const victims: Victim[] = [];
    for (let i = 0; i < 3; i++) victims.push(await system.mintKey(projectId, ['DataPlaneViewer']));
    // Every key verified on every replica, so Redis holds a cached entry for each (the stale-restore case).
    for (const host of hosts) for (const key of [...live, ...victims]) expect((await stats(host, key.value)).status).toBe(200);

    const traffic = startTraffic(hosts, live, victims);
    const outageSeconds = soakSeconds(3);
    try {
      figures.revoke_before_outage_ms = await revokeAndWait(system, hosts, victims[0]!);

      await redis.kill();
      const down = Date.now();
      figures.readyz_503_after_ms = await waitFor('/readyz 503 on every replica', async () =>
        (await Promise.all(system.gateways.map((g) => readyStatus(g.url)))).every((s) => s === 503),
      );
      figures.revoke_during_outage_ms = await revokeAndWait(system, hosts, victims[1]!);
      await sleep(Math.max(0, outageSeconds * 1000 - (Date.now() - down)));

      await redis.start();
      figures.redis_down_ms = Date.now() - down;
      figures.readyz_200_after_restart_ms = await waitFor('/readyz 200 on every replica', async () =>
        (await Promise.all(system.gateways.map((g) => readyStatus(g.url)))).every((s) => s === 200),
      );
      // Let the replicas use the restored (stale) Redis entries for a while.
      await sleep(1_500);
      figures.revoke_after_restart_ms = await revokeAndWait(system, hosts, victims[2]!);
      await sleep(1_000);
    } finally {
      await traffic.stop();
    }
    figures.traffic = traffic.statuses.toJSON();
    figures.accepted_after_revoke_within_1s = traffic.acceptedWithinDeadline();
    figures.accepted_after_revocation_deadline = traffic.acceptedAfterDeadline();
    figures.live_key_failures = traffic.liveFailures.length;

    expect(traffic.acceptedAfterDeadline()).toBe(0);
    expect(traffic.liveFailures.slice(0, 5)).toEqual([]);
    for (const victim of victims) for (const host of hosts) expect((await stats(host, victim.value)).status).toBe(401);
  });
});

describe('Postgres cut through a TCP proxy during traffic', () => {
  const KEY_CACHE_TTL_MS = 1_000;
  const GRACE_MS = 4_000;
  let system: System;
  const figures: Record<string, unknown> = { key_cache_ttl_ms: KEY_CACHE_TTL_MS, pg_outage_grace_ms: GRACE_MS };

  beforeAll(async () => {
    system = await startSystem({
      gateways: 2,
      postgresProxy: true,
      env: { CONIFER_KEY_CACHE_TTL_MS: String(KEY_CACHE_TTL_MS), CONIFER_PG_OUTAGE_GRACE_MS: String(GRACE_MS) },
    });
  });

  afterAll(async () => {
    printFigures('faults / postgres', figures);
    await system?.stop();
  });

  it('verified keys work for the grace period, unknown keys and admin 503, /readyz 503, no revoked key accepted, recovery on its own', async () => {
    const projectId = await system.defaultProjectId();
    const editor = await system.mintKey(projectId, ['ProjectEditor']);
    const path = await createIndex(system, editor.value, 'pg-outage');
    const hosts = system.gateways.map((g) => g.url + path);
    const warm = await system.mintKey(projectId, ['DataPlaneViewer']);
    const cold = await system.mintKey(projectId, ['DataPlaneViewer']);
    const revoked: Victim = await system.mintKey(projectId, ['DataPlaneViewer']);
    const unknown = mintApiKey().value;
    for (const host of hosts) for (const key of [warm, revoked]) expect((await stats(host, key.value)).status).toBe(200);
    await revokeAndWait(system, hosts, revoked);
    const token = await system.adminToken();

    const traffic = startTraffic(hosts, [warm], [revoked]);
    const outage = new Tally();
    try {
      system.postgresProxy!.cut();
      const cutAt = Date.now();
      // Within the grace period the verified key keeps working everywhere (past the cache TTL too).
      await sleep(KEY_CACHE_TTL_MS + 300);
      for (const host of hosts) {
        const reply = await stats(host, warm.value);
        outage.add(`warm-in-grace:${reply.status}`);
        expect(reply.status).toBe(200);
      }
      for (const host of hosts) {
        for (const [label, key] of [['cold', cold.value], ['unknown', unknown]] as const) {
          const reply = await stats(host, key);
          outage.add(`${label}:${reply.status}`);
          expect(reply.status).toBe(503);
          expect(reply.json).toMatchObject({ code: 14, details: [] });
        }
      }
      for (const gateway of system.gateways) {
        const projects = await call(`${gateway.url}/admin/projects`, { headers: { authorization: `Bearer ${token}` } });
        outage.add(`admin:${projects.status}`);
        expect(projects.status).toBe(503);
        expect(isRestError(projects.json, 503)).toBe(true);
        expect(await readyStatus(gateway.url)).toBe(503);
      }
      const login = await call(`${system.gatewayUrl}/oauth/token`, {
        method: 'POST',
        headers: jsonHeaders(),
        body: JSON.stringify({ grant_type: 'client_credentials', client_id: system.clientId, client_secret: system.clientSecret }),
      });
      outage.add(`oauth:${login.status}`);
      expect(login.status).toBe(503);
      // The grace period is bounded: the verified key is refused (503, not 401) once it is over.
      await waitFor(
        'the verified key to stop working after the grace period',
        async () => (await Promise.all(hosts.map((h) => stats(h, warm.value)))).every((r) => r.status === 503),
        KEY_CACHE_TTL_MS + GRACE_MS + 15_000,
      );
      figures.warm_key_refused_after_ms = Date.now() - cutAt;
      system.postgresProxy!.restore();
      const restoredAt = Date.now();
      await waitFor('/readyz 200 on every replica', async () =>
        (await Promise.all(system.gateways.map((g) => readyStatus(g.url)))).every((s) => s === 200),
      );
      figures.readyz_200_after_restore_ms = Date.now() - restoredAt;
      figures.postgres_down_ms = restoredAt - cutAt;
    } finally {
      system.postgresProxy!.restore();
      await traffic.stop();
    }
    figures.outage = outage.toJSON();
    figures.traffic = traffic.statuses.toJSON();
    figures.accepted_after_revoke_within_1s = traffic.acceptedWithinDeadline();
    figures.accepted_after_revocation_deadline = traffic.acceptedAfterDeadline();
    expect(traffic.acceptedAfterDeadline()).toBe(0);
    expect(Object.keys(traffic.statuses.toJSON()).filter((s) => /:5\d\d$/.test(s) && !s.endsWith(':503'))).toEqual([]);

    // Recovered without a restart: every kind of caller is answered as before the outage.
    await waitFor('keys verified again', async () =>
      (await Promise.all(hosts.map((h) => stats(h, warm.value)))).every((r) => r.status === 200),
    );
    // Keys never seen before need Postgres again. Each replica backs off Postgres for 1 s after a failed lookup,
    // and a replica may verify the never-used key from the Redis entry another replica just filled while its own
    // back-off still runs: so wait until every replica answers both a never-used key and an unknown one from
    // Postgres (recovery is allowed a few seconds).
    figures.cold_key_verified_after_restore_ms = await waitFor(
      'never-used and unknown keys answered from Postgres on every replica',
      async () =>
        (await Promise.all(hosts.map(async (h) => (await stats(h, cold.value)).status === 200 && (await stats(h, unknown)).status === 401))).every(
          Boolean,
        ),
      10_000,
    );
    for (const host of hosts) {
      expect((await stats(host, cold.value)).status).toBe(200);
      expect((await stats(host, unknown)).status).toBe(401);
      expect((await stats(host, revoked.value)).status).toBe(401);
    }
    expect((await system.admin('GET', '/admin/projects')).status).toBe(200);
    figures.revoke_after_recovery_ms = await revokeAndWait(system, hosts, warm);
  });
});
