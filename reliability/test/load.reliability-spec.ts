// Load: concurrent clients mix upserts, queries, fetches and key revocations against two gateway replicas
// sharing Postgres and Redis, for a bounded time. Proves: no request fails for a reason other than a refused
// (revoked) key, no request sent more than 1 s after its key's revocation returned is accepted, every replica
// refuses a revoked key (slowest propagation reported), and every acknowledged vector is there at the end.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSystem, type System } from '@conifer/test-utils';
import { call, createIndex, jsonHeaders, percentile, printFigures, sleep, soakSeconds, Tally, vector } from './support/harness.js';

const SECONDS = soakSeconds(20);
const CLIENTS = 8;
const REVOKE_EVERY_MS = 1_500;
const DEADLINE_MS = 1_000;
/** Clients keep trying a revoked key this long after the revoke, to catch late acceptances. */
const KEEP_TRYING_REVOKED_MS = 2_500;

interface PoolKey {
  id: string;
  value: string;
  /** Date.now() when DELETE /admin/api-keys/{id} returned; undefined while live. */
  revokedAt?: number;
  /** Set before the revoke call is sent: from then on a 401 is a legitimate race. */
  revoking?: boolean;
}

describe('load: two replicas, concurrent clients, revocations', () => {
  let system: System;
  let projectId: string;
  let hosts: string[];
  const statuses = new Tally();
  const byOperation = new Tally();
  const acknowledged = new Set<string>();
  const propagations: number[] = [];
  let acceptedAfterDeadline = 0;
  let acceptedWithinDeadline = 0;
  let revocations = 0;
  let presentAtEnd = 0;
  let unexpected: string[] = [];

  beforeAll(async () => {
    system = await startSystem({ gateways: 2 });
    projectId = await system.defaultProjectId();
    const editor = await system.mintKey(projectId, ['ProjectEditor']);
    const path = await createIndex(system, editor.value, 'load');
    hosts = system.gateways.map((g) => g.url + path);
  });

  afterAll(async () => {
    printFigures('load', {
      duration_s: SECONDS,
      clients: CLIENTS,
      replicas: hosts?.length,
      requests_served: statuses.total(),
      by_status: statuses.toJSON(),
      by_operation: byOperation.toJSON(),
      revocations,
      revocation_propagation_ms: {
        slowest: Math.max(0, ...propagations),
        p50: percentile(propagations, 50),
        p99: percentile(propagations, 99),
        samples: propagations.length,
      },
      accepted_after_revoke_within_1s: acceptedWithinDeadline,
      accepted_after_revocation_deadline: acceptedAfterDeadline,
      vectors_acknowledged: acknowledged.size,
      vectors_present: presentAtEnd,
    });
    await system?.stop();
  });

  it('serves every request, refuses every revoked key within 1 s on every replica, loses no vector', async () => {
    const pool: PoolKey[] = [];
    for (let i = 0; i < 4; i++) pool.push(await system.mintKey(projectId, ['DataPlaneEditor']));
    const end = Date.now() + SECONDS * 1000;
    let sequence = 0;

    const pickKey = (): PoolKey => {
      const now = Date.now();
      const usable = pool.filter((k) => k.revokedAt === undefined || now - k.revokedAt < KEEP_TRYING_REVOKED_MS);
      return usable[Math.floor(Math.random() * usable.length)]!;
    };

    const record = (operation: string, key: PoolKey, reply: { status: number; sentAt: number; text: string }) => {
      statuses.add(reply.status);
      byOperation.add(`${operation}:${reply.status}`);
      const accepted = reply.status >= 200 && reply.status < 300;
      if (key.revokedAt !== undefined && reply.sentAt > key.revokedAt) {
        if (accepted && reply.sentAt - key.revokedAt > DEADLINE_MS) acceptedAfterDeadline++;
        else if (accepted) acceptedWithinDeadline++;
        if (!accepted && reply.status !== 401) unexpected.push(`${operation} ${reply.status} ${reply.text.slice(0, 200)}`);
      } else if (!accepted && !(reply.status === 401 && (key.revokedAt !== undefined || key.revoking))) {
        // A 401 for a request sent before the revoke returned is a legitimate race, anything else is an error.
        unexpected.push(`${operation} ${reply.status} ${reply.text.slice(0, 200)}`);
      }
      return accepted;
    };

    const client = async (n: number) => {
      while (Date.now() < end) {
        const key = pickKey();
        const host = hosts[(n + sequence++) % hosts.length]!;
        const roll = Math.random();
        if (roll < 0.45) {
          const ids = Array.from({ length: 10 }, () => `v-${n}-${sequence++}`);
          const reply = await call(`${host}/vectors/upsert`, {
            method: 'POST',
            headers: jsonHeaders(key.value),
            body: JSON.stringify({ vectors: ids.map((id, i) => ({ id, values: vector(sequence + i), metadata: { client: n } })) }),
          });
          if (record('upsert', key, reply)) for (const id of ids) acknowledged.add(id);
        } else if (roll < 0.85) {
          const reply = await call(`${host}/query`, {
            method: 'POST',
            headers: jsonHeaders(key.value),
            body: JSON.stringify({ vector: vector(sequence), topK: 5, includeMetadata: true, filter: { client: { $in: [n, n + 1] } } }),
          });
          record('query', key, reply);
        } else {
          const reply = await call(`${host}/vectors/fetch?ids=v-${n}-1&ids=v-${n}-2`, { headers: { 'api-key': key.value } });
          record('fetch', key, reply);
        }
      }
    };

    // Revoker: mints a fresh key, revokes an old one, then probes every replica until it refuses the key.
    const revoker = async () => {
      while (Date.now() < end - KEEP_TRYING_REVOKED_MS) {
        await sleep(REVOKE_EVERY_MS);
        pool.push(await system.mintKey(projectId, ['DataPlaneEditor']));
        const victim = pool.find((k) => k.revokedAt === undefined)!;
        // Make sure every replica has the key cached (the interesting case), then revoke.
        for (const host of hosts) await call(`${host}/describe_index_stats`, { method: 'POST', headers: jsonHeaders(victim.value), body: '{}' });
        // Revoke through each replica in turn, so propagation is measured in both directions.
        const via = system.gateways[revocations % system.gateways.length]!.url;
        victim.revoking = true;
        const revoked = await call(`${via}/admin/api-keys/${victim.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${await system.adminToken()}` } });
        if (revoked.status >= 300) throw new Error(`revoke failed: ${revoked.status} ${revoked.text}`);
        victim.revokedAt = Date.now();
        revocations++;
        await Promise.all(
          hosts.map(async (host) => {
            for (;;) {
              const reply = await call(`${host}/describe_index_stats`, { method: 'POST', headers: jsonHeaders(victim.value), body: '{}' });
              record('probe', victim, reply);
              if (reply.status === 401) {
                propagations.push(reply.sentAt - victim.revokedAt!);
                return;
              }
              if (reply.sentAt - victim.revokedAt! > 10_000) throw new Error('a replica kept accepting a revoked key for 10 s');
              await sleep(5);
            }
          }),
        );
      }
    };

    await Promise.all([revoker(), ...Array.from({ length: CLIENTS }, (_, n) => client(n))]);

    // Every acknowledged vector is there, through either replica.
    const ids = [...acknowledged];
    const reader = await system.mintKey(projectId, ['DataPlaneViewer']);
    for (let i = 0; i < ids.length; i += 200) {
      const chunk = ids.slice(i, i + 200);
      const query = chunk.map((id) => `ids=${encodeURIComponent(id)}`).join('&');
      const reply = await call(`${hosts[i % hosts.length]}/vectors/fetch?${query}`, { headers: { 'api-key': reader.value } });
      expect(reply.status).toBe(200);
      presentAtEnd += Object.keys((reply.json as { vectors: object }).vectors).length;
    }

    expect(unexpected.slice(0, 10)).toEqual([]);
    expect(acceptedAfterDeadline).toBe(0);
    expect(revocations).toBeGreaterThan(0);
    expect(propagations.length).toBe(revocations * hosts.length);
    expect(presentAtEnd).toBe(acknowledged.size);
    expect(statuses.get(500) + statuses.get(502) + statuses.get(503) + statuses.get(0)).toBe(0);
    for (const p of [system.store, ...system.gateways]) expect(p.child.exitCode).toBeNull();
  });
});
