// Several gateways sharing one Redis and one Postgres: revocation reaches every replica (broadcast, and the
// key_revocations poll when a message is lost or sent before the commit), the negative cache absorbs floods
// of unknown keys, and per-key rate limits are shared.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mintApiKey } from '@conifer/keys';
import { ApiKeysRepository } from '../../src/auth/api-keys.repository.js';
import { KeyCache } from '../../src/auth/key-cache.js';
import { KeyCacheRedisRepository } from '../../src/auth/key-cache.redis.repository.js';
import { KeyEvents } from '../../src/auth/key-events.js';
import { revokeThrough, sleep, startGateway, TestCatalog, type TestGateway, type TestKey } from '../support/auth-gateway.js';

const ROUTE = '/auth-test/data-read';

/** Milliseconds until `gateway` refuses `key` (polling as fast as requests go), or Infinity after `limitMs`. */
async function timeUntilRefused(gateway: TestGateway, key: TestKey, since: number, limitMs = 2_000): Promise<number> {
  for (;;) {
    const response = await gateway.request(ROUTE, key.value);
    const elapsed = performance.now() - since;
    if (response.status === 401) return elapsed;
    if (elapsed > limitMs) return Infinity;
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe('revocation across replicas', () => {
  let a: TestGateway;
  let b: TestGateway;
  let catalog: TestCatalog;
  let projectId: string;

  beforeAll(async () => {
    catalog = new TestCatalog();
    projectId = await catalog.createProject();
    // One after the other: replicas starting at the same instant race in vector-store node registration.
    a = await startGateway();
    b = await startGateway();
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await catalog?.close();
  });

  async function warmKey(options = {}): Promise<TestKey> {
    const key = await catalog.createKey(projectId, { roles: ['DataPlaneViewer'], ...options });
    expect((await a.request(ROUTE, key.value)).status).toBe(200);
    expect((await b.request(ROUTE, key.value)).status).toBe(200);
    return key;
  }

  it('a key revoked through instance A is refused by instance B within 1 s (broadcast)', async () => {
    const evicted: number[] = [];
    const refused: number[] = [];
    const cacheOfB = b.app.get(KeyCache);
    for (let i = 0; i < 30; i++) {
      const key = await warmKey();
      await catalog.revoke(key.keyId);
      await a.app.get(KeyEvents).keyChanged({ keyId: key.keyId, reason: 'revoked' });
      const since = performance.now();
      while (cacheOfB.get(key.keyId) && performance.now() - since < 2_000) await new Promise((resolve) => setImmediate(resolve));
      evicted.push(performance.now() - since);
      refused.push(await timeUntilRefused(b, key, since));
      expect((await a.request(ROUTE, key.value)).status).toBe(401);
    }
    const describe = (values: number[]) =>
      `p50 ${percentile(values, 50).toFixed(2)} ms, p99 ${percentile(values, 99).toFixed(2)} ms, max ${Math.max(...values).toFixed(2)} ms`;
    console.log(
      `revocation A→B via pub/sub, 30 keys, from keyChanged returning: B's cache evicted ${describe(evicted)}; ` +
        `first 401 from B (incl. HTTP round trips) ${describe(refused)}`,
    );
    expect(Math.max(...refused)).toBeLessThan(1_000);
  });

  it('a lost broadcast still ends in refusal within 1 s (key_revocations poll)', async () => {
    const publish = jest.spyOn(a.app.get(KeyCacheRedisRepository), 'publish').mockResolvedValue(undefined);
    try {
      const samples: number[] = [];
      for (let i = 0; i < 5; i++) {
        const key = await warmKey();
        await revokeThrough(a, catalog, key);
        samples.push(await timeUntilRefused(b, key, performance.now()));
      }
      console.log(`revocation propagation A→B with pub/sub suppressed (poll every 250 ms), 5 keys: max ${Math.max(...samples).toFixed(1)} ms`);
      expect(Math.max(...samples)).toBeLessThan(1_000);
      expect(publish).toHaveBeenCalled();
    } finally {
      publish.mockRestore();
    }
  });

  it('an invalidation sent before the commit is repaired by the poll', async () => {
    const key = await warmKey();
    // The change is announced first; B refills its caches from the still-uncommitted (old) row.
    await a.app.get(KeyEvents).keyChanged({ keyId: key.keyId, reason: 'revoked' });
    expect((await b.request(ROUTE, key.value)).status).toBe(200);
    expect((await a.request(ROUTE, key.value)).status).toBe(200);
    await catalog.revoke(key.keyId);
    const since = performance.now();
    const [onA, onB] = await Promise.all([timeUntilRefused(a, key, since), timeUntilRefused(b, key, since)]);
    console.log(`invalidation before commit, refused after commit by A in ${onA.toFixed(1)} ms, by B in ${onB.toFixed(1)} ms`);
    expect(Math.max(onA, onB)).toBeLessThan(1_000);
  });

  it('a change announced by catalog id (api_keys.id) evicts too', async () => {
    const key = await warmKey();
    await catalog.revoke(key.keyId);
    await a.app.get(KeyEvents).keyChanged({ keyId: key.id, reason: 'revoked' });
    expect((await a.request(ROUTE, key.value)).status).toBe(401);
    expect(await timeUntilRefused(b, key, performance.now())).toBeLessThan(1_000);
  });

  it('401 for a flood of one unknown key, served from the negative cache', async () => {
    const find = jest.spyOn(b.app.get(ApiKeysRepository), 'findByKeyId');
    const unknown = mintApiKey().value;
    const statuses = await Promise.all(Array.from({ length: 100 }, () => b.request(ROUTE, unknown).then((r) => r.status)));
    expect(new Set(statuses)).toEqual(new Set([401]));
    expect(find).toHaveBeenCalledTimes(1);
    find.mockRestore();
  });

  it('429 with Retry-After once the per-second limit is used up, shared by both instances', async () => {
    const key = await warmKey({ rateLimitPerSecond: 5 });
    for (let attempt = 0; attempt < 5; attempt++) {
      // Start right after a second boundary so that the requests fall in one window.
      await sleep(1000 - (Date.now() % 1000) + 5);
      const window = Math.floor(Date.now() / 1000);
      const responses = [];
      for (let i = 0; i < 10; i++) responses.push(await (i % 2 === 0 ? a : b).request(ROUTE, key.value));
      if (Math.floor(Date.now() / 1000) !== window) continue;
      expect(responses.filter((r) => r.status === 200)).toHaveLength(5);
      const limited = responses.filter((r) => r.status === 429);
      expect(limited).toHaveLength(5);
      expect(limited[0]!.headers['retry-after']).toBe('1');
      expect(limited[0]!.body.error.code).toBe('RESOURCE_EXHAUSTED');
      return;
    }
    throw new Error('could not fit 10 requests into one second');
  });

  it('exposes auth outcomes and cache layers as metrics', async () => {
    const response = await fetch(`${a.baseUrl}/metrics`);
    const text = await response.text();
    expect(text).toMatch(/conifer_auth_results_total\{outcome="valid"\} [1-9]/);
    expect(text).toMatch(/conifer_auth_results_total\{outcome="revoked"\} [1-9]/);
    expect(text).toMatch(/conifer_auth_cache_hits_total\{layer="local"\} [1-9]/);
    expect(text).toMatch(/conifer_auth_cache_hits_total\{layer="postgres"\} [1-9]/);
    const onB = await (await fetch(`${b.baseUrl}/metrics`)).text();
    expect(onB).toMatch(/conifer_auth_cache_hits_total\{layer="redis"\} [1-9]/);
    expect(onB).toMatch(/conifer_auth_results_total\{outcome="rate_limited"\} [1-9]/);
    expect(onB).toMatch(/conifer_auth_key_evictions_total\{source="broadcast"\} [1-9]/);
    expect(onB).toMatch(/conifer_auth_key_evictions_total\{source="poll"\} [1-9]/);
    expect(text).toMatch(/conifer_auth_key_evictions_total\{source="event"\} [1-9]/);
    expect(onB).toMatch(/conifer_auth_revocation_poll_age_seconds 0(\.\d+)?\n/);
  });
});
