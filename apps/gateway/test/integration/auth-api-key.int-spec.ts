// Api-Key authentication on a single gateway: status per case, the role matrix, scope helpers, error bodies
// per surface, and no lookup for malformed keys.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { API_KEY_ROLES, rolesAllow, type Permission } from '@conifer/contracts';
import { mintApiKey } from '@conifer/keys';
import { ApiKeysRepository } from '../../src/auth/api-keys.repository.js';
import { KeyEvents } from '../../src/auth/key-events.js';
import {
  PERMISSION_ROUTES,
  RecordingLastUsedSink,
  revokeThrough,
  sleep,
  startGateway,
  TestCatalog,
  type TestGateway,
} from '../support/auth-gateway.js';

describe('Api-Key authentication', () => {
  let gateway: TestGateway;
  let catalog: TestCatalog;
  let projectId: string;
  const lastUsed = new RecordingLastUsedSink();

  beforeAll(async () => {
    catalog = new TestCatalog();
    projectId = await catalog.createProject();
    gateway = await startGateway({ lastUsed });
  });

  afterAll(async () => {
    await gateway?.close();
    await catalog?.close();
  });

  it('401 without Api-Key', async () => {
    const response = await gateway.request('/auth-test/control-read');
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: { code: 'UNAUTHENTICATED' }, status: 401 });
  });

  it('401 with a malformed key, without any lookup', async () => {
    const repository = gateway.app.get(ApiKeysRepository);
    const find = jest.spyOn(repository, 'findByKeyId');
    const good = mintApiKey().value;
    const typo = good.slice(0, -8) + (good.at(-8) === 'a' ? 'b' : 'a') + good.slice(-7);
    for (const value of ['nope', 'pcsk_abc_def', typo, good + 'x']) {
      const response = await gateway.request('/auth-test/control-read', value);
      expect(response.status).toBe(401);
    }
    expect(find).not.toHaveBeenCalled();
    find.mockRestore();
  });

  it('401 with an unknown key and with a wrong secret', async () => {
    expect((await gateway.request('/auth-test/control-read', mintApiKey().value)).status).toBe(401);
    const key = await catalog.createKey(projectId);
    const other = mintApiKey();
    // Same key id, another secret with a valid checksum.
    const forged = (await import('@conifer/keys')).parseApiKey(key.value)!;
    const body = `pcsk_${forged.keyId}_${other.secret}`;
    const { encodeUint32Base62 } = await import('@conifer/keys');
    const { crc32 } = await import('node:zlib');
    const wrongSecret = body + encodeUint32Base62(crc32(body));
    expect((await gateway.request('/auth-test/control-read', wrongSecret)).status).toBe(401);
    expect((await gateway.request('/auth-test/control-read', key.value)).status).toBe(200);
  });

  it('200 with a valid key, principal attached, last use reported to the sink', async () => {
    const key = await catalog.createKey(projectId, { roles: ['ProjectEditor'] });
    const before = Date.now();
    const response = await gateway.request('/auth-test/control-write', key.value);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ projectId, permission: 'control:write' });
    const reported = lastUsed.records.filter((r) => r.keyId === key.keyId);
    expect(reported).toHaveLength(1);
    expect(reported[0]!.at.getTime()).toBeGreaterThanOrEqual(before);
  });

  it('401 for revoked and expired keys', async () => {
    const revoked = await catalog.createKey(projectId, { revokedAt: new Date() });
    const expired = await catalog.createKey(projectId, { expiresAt: new Date(Date.now() - 1000) });
    const revokedResponse = await gateway.request('/auth-test/control-read', revoked.value);
    expect(revokedResponse.status).toBe(401);
    expect(revokedResponse.body.error.message).toMatch(/revoked/);
    expect((await gateway.request('/auth-test/control-read', expired.value)).status).toBe(401);
  });

  it('a key in its rotation grace period works until expiresAt, then 401', async () => {
    const key = await catalog.createKey(projectId, { expiresAt: new Date(Date.now() + 600) });
    expect((await gateway.request('/auth-test/control-read', key.value)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect((await gateway.request('/auth-test/control-read', key.value)).status).toBe(401);
  });

  describe('role matrix', () => {
    const permissions = Object.keys(PERMISSION_ROUTES) as Permission[];
    for (const role of API_KEY_ROLES) {
      it(`${role}: ${permissions.map((p) => `${p} ${rolesAllow([role], p) ? 200 : 403}`).join(', ')}`, async () => {
        const key = await catalog.createKey(projectId, { roles: [role] });
        for (const permission of permissions) {
          const response = await gateway.request(PERMISSION_ROUTES[permission], key.value);
          const expected = rolesAllow([role], permission) ? 200 : 403;
          expect({ permission, status: response.status }).toEqual({ permission, status: expected });
          if (expected === 403) expect(response.body.error.code).toBe('PERMISSION_DENIED');
        }
      });
    }
  });

  it('scope helpers: 200 in scope, 403 outside; "" and __default__ are the same namespace', async () => {
    const key = await catalog.createKey(projectId, { roles: ['DataPlaneViewer'], indexScope: ['movies'], namespaceScope: ['', 'en'] });
    const unscoped = await catalog.createKey(projectId, { roles: ['DataPlaneViewer'] });
    expect((await gateway.request('/auth-test/scope?index=movies&namespace=en', key.value)).status).toBe(200);
    expect((await gateway.request('/auth-test/scope?index=movies', key.value)).status).toBe(200);
    expect((await gateway.request('/auth-test/scope?index=movies&namespace=__default__', key.value)).status).toBe(200);
    const otherIndex = await gateway.request('/auth-test/scope?index=books&namespace=en', key.value);
    expect(otherIndex.status).toBe(403);
    expect(otherIndex.body.error.code).toBe('PERMISSION_DENIED');
    expect((await gateway.request('/auth-test/scope?index=movies&namespace=fr', key.value)).status).toBe(403);
    expect((await gateway.request('/auth-test/scope?index=books&namespace=fr', unscoped.value)).status).toBe(200);
  });

  it('data-plane refusals use the gRPC-style body', async () => {
    const response = await gateway.request(`/data/${projectId}/movies/auth-test`, 'not-a-key');
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ code: 16, message: expect.any(String), details: [] });
    const viewer = await catalog.createKey(projectId, { roles: ['ControlPlaneViewer'] });
    const denied = await gateway.request(`/data/${projectId}/movies/auth-test`, viewer.value);
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe(7);
  });

  it('never logs the Api-Key', async () => {
    const key = await catalog.createKey(projectId);
    await gateway.request('/auth-test/control-read', key.value);
    await gateway.request('/auth-test/control-read', key.value.slice(0, -1) + 'x');
    const secretPart = key.value.slice(5 + 13);
    expect(gateway.logs.length).toBeGreaterThan(0);
    expect(gateway.logs.join('\n')).not.toContain(secretPart);
  });
});

describe('single-node mode (no Redis)', () => {
  let gateway: TestGateway;
  let catalog: TestCatalog;
  let projectId: string;

  beforeAll(async () => {
    catalog = new TestCatalog();
    projectId = await catalog.createProject();
    gateway = await startGateway({ redisUrl: null });
  });

  afterAll(async () => {
    await gateway?.close();
    await catalog?.close();
  });

  it('401 at once after a revocation announced in-process; 401 within 1 s through the poll without one', async () => {
    const announced = await catalog.createKey(projectId);
    const silent = await catalog.createKey(projectId);
    expect((await gateway.request('/auth-test/control-read', announced.value)).status).toBe(200);
    expect((await gateway.request('/auth-test/control-read', silent.value)).status).toBe(200);
    await revokeThrough(gateway, catalog, announced);
    expect((await gateway.request('/auth-test/control-read', announced.value)).status).toBe(401);
    await catalog.revoke(silent.keyId);
    const since = Date.now();
    while ((await gateway.request('/auth-test/control-read', silent.value)).status === 200) {
      expect(Date.now() - since).toBeLessThan(1_000);
      await sleep(10);
    }
    expect((await gateway.request('/auth-test/control-read', silent.value)).status).toBe(401);
  });

  it('429 with Retry-After from the local limiter', async () => {
    const key = await catalog.createKey(projectId, { rateLimitPerSecond: 1 });
    await sleep(1000 - (Date.now() % 1000) + 5);
    const first = await gateway.request('/auth-test/control-read', key.value);
    const second = await gateway.request('/auth-test/control-read', key.value);
    expect(first.status).toBe(200);
    expect(second.status).toBe(429);
    expect(second.headers['retry-after']).toBe('1');
  });

  it('other listeners of KeyEvents hear about changes', async () => {
    const heard: string[] = [];
    gateway.app.get(KeyEvents).subscribe((change) => void heard.push(change.keyId));
    await gateway.app.get(KeyEvents).keyChanged({ keyId: 'abcdefghijkl', reason: 'updated' });
    expect(heard).toEqual(['abcdefghijkl']);
  });
});
