// The shared Redis key cache is authenticated (issue 14, item 8): an entry edited in Redis (another project's
// rights, wider roles) or written under another pepper is a miss on a replica with a cold local cache, which then
// asks Postgres; it never grants what Postgres does not.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyCacheRedisRepository } from '../../src/auth/key-cache.redis.repository.js';
import { RedisService } from '../../src/redis/redis.service.js';
import { startGateway, TestCatalog, type TestGateway } from '../support/auth-gateway.js';

describe('shared key cache integrity', () => {
  let first: TestGateway;
  let second: TestGateway;
  let catalog: TestCatalog;

  beforeAll(async () => {
    catalog = new TestCatalog();
    first = await startGateway();
    second = await startGateway();
  });

  afterAll(async () => {
    await first?.close();
    await second?.close();
    await catalog?.close();
  });

  it('an entry edited in Redis is a miss: the cold replica answers with the rights Postgres holds', async () => {
    const projectId = await catalog.createProject();
    const victimProject = await catalog.createProject();
    const key = await catalog.createKey(projectId, { roles: ['DataPlaneViewer'] });
    const warm = await first.request(`/data/${projectId}/movies/auth-test`, key.value);
    expect(warm).toMatchObject({ status: 200, body: { projectId } });

    const redis = first.app.get(RedisService);
    const entryKey = redis.key(`auth:key:${key.keyId}`);
    const stored = (await redis.client!.get(entryKey))!;
    expect(stored).toBeTruthy();
    // Whatever the stored format, rewrite the JSON it holds to another project with every role.
    const json = stored.slice(stored.indexOf('{'));
    const entry = JSON.parse(json);
    entry.key.projectId = victimProject;
    entry.key.roles = ['ProjectEditor'];
    const ttl = await redis.client!.pttl(entryKey);
    for (const forged of [JSON.stringify(entry), `${stored.slice(0, stored.indexOf('{'))}${JSON.stringify(entry)}`]) {
      await redis.client!.set(entryKey, forged, 'PX', Math.max(ttl, 10_000));
      const rejectedBefore = second.app.get(KeyCacheRedisRepository).rejectedEntries;
      // A fresh key cache on the second replica each time (its local cache would otherwise answer).
      const cold = await startGateway();
      try {
        const answer = await cold.request(`/data/${victimProject}/movies/auth-test`, key.value);
        expect(answer).toMatchObject({ status: 200, body: { projectId } });
        expect((await cold.request('/auth-test/control-write', key.value)).status).toBe(403);
        expect(cold.app.get(KeyCacheRedisRepository).rejectedEntries).toBeGreaterThan(0);
      } finally {
        await cold.close();
      }
      expect(second.app.get(KeyCacheRedisRepository).rejectedEntries).toBe(rejectedBefore);
    }
    // The refill from Postgres is a valid entry again, read by a replica as a hit.
    const refilled = await second.request(`/data/${projectId}/movies/auth-test`, key.value);
    expect(refilled).toMatchObject({ status: 200, body: { projectId } });
    expect(second.app.get(KeyCacheRedisRepository).rejectedEntries).toBe(0);
  });
});
