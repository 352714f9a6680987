// Outages: Redis stopped or cut off mid-test (revoked keys stay refused, valid keys keep working through
// Postgres, recovery without restart), and Postgres unreachable (verified keys work within the grace period,
// unknown keys get 503, recovery without restart).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mintApiKey } from '@conifer/keys';
import { startTcpProxy, startTestRedis, type TcpProxy, type TestRedis } from '@conifer/test-utils';
import { spawn } from 'node:child_process';
import { KeyEvents } from '../../src/auth/key-events.js';
import { RedisService } from '../../src/redis/redis.service.js';
import { revokeThrough, sleep, startGateway, TestCatalog, type TestGateway, type TestKey } from '../support/auth-gateway.js';

const ROUTE = '/auth-test/data-read';

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

async function statusWithin(gateway: TestGateway, key: TestKey | string, expected: number, timeoutMs = 1_000): Promise<number> {
  const value = typeof key === 'string' ? key : key.value;
  const since = performance.now();
  for (;;) {
    const { status } = await gateway.request(ROUTE, value);
    if (status === expected) return performance.now() - since;
    if (performance.now() - since > timeoutMs) return Infinity;
    await sleep(5);
  }
}

const redisReady = (gateway: TestGateway) => gateway.app.get(RedisService).client?.status === 'ready';

/** Two gateways (A and B) that reach Redis through a TCP proxy the test can stop or freeze, and a project. */
async function twoGatewaysBehindRedisProxy(): Promise<{ proxy: TcpProxy; a: TestGateway; b: TestGateway; catalog: TestCatalog; projectId: string }> {
  const target = new URL(process.env.REDIS_URL!);
  const proxy = await startTcpProxy(target.hostname, Number(target.port || 6379));
  const catalog = new TestCatalog();
  const projectId = await catalog.createProject();
  const redisUrl = `redis://127.0.0.1:${proxy.port}`;
  // One after the other: replicas starting at the same instant race in vector-store node registration.
  const a = await startGateway({ redisUrl });
  const b = await startGateway({ redisUrl });
  return { proxy, a, b, catalog, projectId };
}

describe('Redis stopped mid-test', () => {
  let redis: TestRedis;
  let a: TestGateway;
  let b: TestGateway;
  let catalog: TestCatalog;
  let projectId: string;
  const savedRedisUrl = process.env.REDIS_URL;

  beforeAll(async () => {
    delete process.env.REDIS_URL;
    try {
      redis = await startTestRedis();
    } finally {
      process.env.REDIS_URL = savedRedisUrl;
    }
    catalog = new TestCatalog();
    projectId = await catalog.createProject();
    // One after the other: replicas starting at the same instant race in vector-store node registration.
    a = await startGateway({ redisUrl: redis.url });
    b = await startGateway({ redisUrl: redis.url });
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await catalog?.close();
    await redis?.stop();
  });

  it('valid keys keep working through Postgres, revoked keys are refused, and Redis comes back without a restart', async () => {
    const valid = await catalog.createKey(projectId, { roles: ['DataPlaneViewer'] });
    const doomed = await catalog.createKey(projectId, { roles: ['DataPlaneViewer'] });
    for (const gateway of [a, b]) {
      expect((await gateway.request(ROUTE, valid.value)).status).toBe(200);
      expect((await gateway.request(ROUTE, doomed.value)).status).toBe(200);
    }

    const port = new URL(redis.url).port;
    redis.process!.kill('SIGKILL');
    await waitFor(() => !redisReady(a) && !redisReady(b));

    // Revoked through A while Redis is down: no broadcast, B refuses through the poll.
    await revokeThrough(a, catalog, doomed);
    expect((await a.request(ROUTE, doomed.value)).status).toBe(401);
    const refusedAfter = await statusWithin(b, doomed, 401);
    console.log(`Redis down: revoked key refused by B after ${refusedAfter.toFixed(1)} ms (poll)`);
    expect(refusedAfter).toBeLessThan(1_000);

    // Valid and new keys work, checked against Postgres; unknown keys are 401, not 503.
    const fresh = await catalog.createKey(projectId, { roles: ['DataPlaneViewer'] });
    for (const gateway of [a, b]) {
      expect((await gateway.request(ROUTE, valid.value)).status).toBe(200);
      expect((await gateway.request(ROUTE, fresh.value)).status).toBe(200);
      expect((await gateway.request(ROUTE, mintApiKey().value)).status).toBe(401);
    }
    // A rate-limited key falls back to a local limiter: never refused for Redis being down.
    const limited = await catalog.createKey(projectId, { roles: ['DataPlaneViewer'], rateLimitPerSecond: 100 });
    expect((await b.request(ROUTE, limited.value)).status).toBe(200);

    // Redis back on the same port: the gateways reconnect by themselves.
    const restarted = spawn('redis-server', ['--port', port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    try {
      await waitFor(() => redisReady(a) && redisReady(b), 10_000);
      for (const gateway of [a, b]) {
        expect((await gateway.request(ROUTE, valid.value)).status).toBe(200);
        expect((await gateway.request(ROUTE, doomed.value)).status).toBe(401);
      }
      // Broadcast works again: a revocation through B reaches A at once.
      await revokeThrough(b, catalog, fresh);
      expect(await statusWithin(a, fresh, 401)).toBeLessThan(1_000);
    } finally {
      restarted.kill('SIGTERM');
    }
  });
});

describe('Redis cut off (data kept) mid-test', () => {
  let proxy: TcpProxy;
  let a: TestGateway;
  let b: TestGateway;
  let catalog: TestCatalog;
  let projectId: string;

  beforeAll(async () => {
    ({ proxy, a, b, catalog, projectId } = await twoGatewaysBehindRedisProxy());
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await proxy?.stop();
    await catalog?.close();
  });

  it('a key revoked while Redis was unreachable is not served from the stale shared entry afterwards', async () => {
    const doomed = await catalog.createKey(projectId, { roles: ['DataPlaneViewer'] });
    expect((await a.request(ROUTE, doomed.value)).status).toBe(200); // fills Redis
    await sleep(50);
    await proxy.stop();
    await waitFor(() => !redisReady(a) && !redisReady(b));
    await revokeThrough(a, catalog, doomed); // cannot reach Redis: the shared entry stays, stale
    expect(await statusWithin(b, doomed, 401)).toBeLessThan(1_000);
    await proxy.start();
    await waitFor(() => redisReady(a) && redisReady(b), 10_000);
    // B's local entry expires quickly; whatever the order, no replica may accept the key again.
    for (let i = 0; i < 20; i++) {
      expect((await a.request(ROUTE, doomed.value)).status).toBe(401);
      expect((await b.request(ROUTE, doomed.value)).status).toBe(401);
      await sleep(100);
    }
  });
});

describe('Redis hung (connections open, no answers)', () => {
  let proxy: TcpProxy;
  let a: TestGateway;
  let b: TestGateway;
  let catalog: TestCatalog;
  let projectId: string;

  beforeAll(async () => {
    ({ proxy, a, b, catalog, projectId } = await twoGatewaysBehindRedisProxy());
  });

  afterAll(async () => {
    proxy?.thaw();
    await Promise.all([a?.close(), b?.close()]);
    await proxy?.stop();
    await catalog?.close();
  });

  it('requests do not hang: keys are checked against Postgres, limits counted locally, revocations still reach B', async () => {
    const doomed = await catalog.createKey(projectId, { roles: ['DataPlaneViewer'] });
    expect((await b.request(ROUTE, doomed.value)).status).toBe(200);
    proxy.freeze();
    const fresh = await catalog.createKey(projectId, { roles: ['DataPlaneViewer'], rateLimitPerSecond: 100 });
    const started = performance.now();
    expect((await a.request(ROUTE, fresh.value)).status).toBe(200);
    expect((await a.request(ROUTE, mintApiKey().value)).status).toBe(401);
    const elapsed = performance.now() - started;
    console.log(`Redis hung: new key + unknown key answered in ${elapsed.toFixed(0)} ms (Redis timeouts, then Postgres)`);
    expect(elapsed).toBeLessThan(2_000);

    const revokeStarted = performance.now();
    await revokeThrough(a, catalog, doomed);
    const keyChangedMs = performance.now() - revokeStarted;
    expect((await a.request(ROUTE, doomed.value)).status).toBe(401);
    const onB = await statusWithin(b, doomed, 401, 2_000);
    console.log(`Redis hung: keyChanged returned after ${keyChangedMs.toFixed(0)} ms; B refused after ${onB.toFixed(0)} ms more (poll)`);
    expect(onB).toBeLessThan(1_000);

    proxy.thaw();
    await sleep(300);
    for (let i = 0; i < 5; i++) expect((await b.request(ROUTE, doomed.value)).status).toBe(401);
  });
});

describe('Postgres unreachable', () => {
  let proxy: TcpProxy;
  let gateway: TestGateway;
  let catalog: TestCatalog;
  let projectId: string;

  beforeAll(async () => {
    const database = new URL(process.env.DATABASE_URL!);
    proxy = await startTcpProxy(database.hostname, Number(database.port || 5432));
    const viaProxy = new URL(database);
    viaProxy.port = String(proxy.port);
    catalog = new TestCatalog();
    projectId = await catalog.createProject();
    gateway = await startGateway({
      redisUrl: null,
      databaseUrl: viaProxy.toString(),
      env: { CONIFER_KEY_CACHE_TTL_MS: '300', CONIFER_PG_OUTAGE_GRACE_MS: '2000' },
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await proxy?.stop();
    await catalog?.close();
  });

  it('verified keys keep working within the grace period, unknown keys get 503, recovery without restart', async () => {
    const known = await catalog.createKey(projectId, { roles: ['DataPlaneViewer'] });
    const later = await catalog.createKey(projectId, { roles: ['DataPlaneViewer'] });
    const unknown = mintApiKey().value;
    expect((await gateway.request(ROUTE, known.value)).status).toBe(200);
    const confirmedAt = Date.now();
    await proxy.stop();
    await sleep(400); // past the cache TTL: Postgres would be asked now

    expect((await gateway.request(ROUTE, known.value)).status).toBe(200);
    const refused = await gateway.request(ROUTE, later.value);
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('UNAVAILABLE');
    const dataPlane = await gateway.request(`/data/${projectId}/movies/auth-test`, unknown);
    expect(dataPlane.status).toBe(503);
    expect(dataPlane.body.code).toBe(14);
    expect((await gateway.request(ROUTE, 'malformed')).status).toBe(401);

    // The grace period is bounded.
    await sleep(Math.max(0, confirmedAt + 2_100 - Date.now()));
    expect((await gateway.request(ROUTE, known.value)).status).toBe(503);

    await proxy.start();
    expect(await statusWithin(gateway, known, 200, 5_000)).toBeLessThan(5_000);
    expect((await gateway.request(ROUTE, later.value)).status).toBe(200);
    expect((await gateway.request(ROUTE, unknown)).status).toBe(401);
    // The revocation poll is back too.
    await catalog.revoke(known.keyId);
    expect(await statusWithin(gateway, known, 401, 2_000)).toBeLessThan(1_000);
  });

  it('KeyEvents still evicts while Postgres is down', async () => {
    const key = await catalog.createKey(projectId, { roles: ['DataPlaneViewer'] });
    expect((await gateway.request(ROUTE, key.value)).status).toBe(200);
    await proxy.stop();
    try {
      await gateway.app.get(KeyEvents).keyChanged({ keyId: key.keyId, reason: 'revoked' });
      // Evicted and cannot be re-checked: refused (503), never accepted.
      expect((await gateway.request(ROUTE, key.value)).status).toBe(503);
    } finally {
      await proxy.start();
    }
  });
});
