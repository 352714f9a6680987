// API-key administration against real Postgres: mint (full key once), list, describe, update, revoke, rotate,
// expiry; key_revocations rows and KeyEvents after commit; audit rows; last-used batching; project deletion.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { hashSecret, parseApiKey } from '@conifer/keys';
import { randomUUID } from 'node:crypto';
import { KeyEvents, type KeyChange } from '../../src/auth/key-events.js';
import { PrismaService } from '../../src/database/prisma.service.js';
import { KeyStatus, keyStatus } from '../../src/keys/key-status.js';
import { LastUsedRecorder } from '../../src/keys/last-used.recorder.js';
import { ProjectIndexRemover } from '../../src/tenants/project-index-remover.js';
import { call, createTenant, expectErrorShape, login, startGateway, startGatewayWith, testRuntime, type Tenant } from './admin-fixtures.js';

const runtime = testRuntime();
let app: NestFastifyApplication;
let prisma: PrismaService;
let tenant: Tenant;
let token: string;
const changes: { change: KeyChange; revocationRows: number }[] = [];

beforeAll(async () => {
  app = await startGateway(runtime);
  prisma = app.get(PrismaService);
  tenant = await createTenant(app, runtime, 'keys');
  token = await login(app, tenant);
  // Each announcement must come after the change is committed: the spy reads the durable row. (It wraps the
  // announcement itself; subscribers would also hear the evictions the revocation poll makes.)
  const events = app.get(KeyEvents);
  const announce = events.keyChanged.bind(events);
  events.keyChanged = async (change: KeyChange) => {
    const revocationRows = await prisma.keyRevocation.count({ where: { keyId: change.keyId } });
    changes.push({ change, revocationRows });
    await announce(change);
  };
});

afterAll(async () => {
  await app?.close();
});

async function newProject(name = `p-${randomUUID().slice(0, 8)}`): Promise<string> {
  const reply = await call(app, 'POST', '/admin/projects', { token, body: { name } });
  expect(reply.status).toBe(201);
  return reply.body.id as string;
}

async function mint(projectId: string, body: Record<string, unknown> = { name: 'key' }) {
  const reply = await call(app, 'POST', `/admin/projects/${projectId}/api-keys`, { token, body });
  expect(reply.status).toBe(201);
  return reply.body as { key: Record<string, any>; value: string };
}

async function row(id: string) {
  return prisma.apiKey.findUniqueOrThrow({ where: { id } });
}

async function auditActions(targetId: string): Promise<string[]> {
  const rows = await prisma.auditEvent.findMany({ where: { targetId }, orderBy: { id: 'asc' } });
  return rows.map((r) => r.action);
}

describe('mint', () => {
  it('201 returns the full key once, stores only its HMAC, defaults roles to ProjectEditor', async () => {
    const projectId = await newProject();
    const { key, value } = await mint(projectId, { name: 'ci' });
    expect(value).toMatch(/^pcsk_/);
    const parsed = parseApiKey(value)!;
    expect(parsed).not.toBeNull();
    expect(key).toMatchObject({
      name: 'ci',
      project_id: projectId,
      roles: ['ProjectEditor'],
      last_four: value.slice(-4),
      status: 'active',
      expires_at: null,
      scope: { indexes: [], namespaces: [] },
      rate_limit_per_second: null,
      created_by: tenant.serviceAccountId,
    });
    const stored = await row(key.id);
    expect(stored.keyId).toBe(parsed.keyId);
    expect(stored.secretHash).toBe(hashSecret(runtime.secrets.keyPepper, parsed.keyId, parsed.secret));
    expect(JSON.stringify(stored)).not.toContain(parsed.secret);
    expect(await auditActions(key.id)).toEqual(['api_key.create']);

    // Never shown again: not in describe, not in list.
    const described = await call(app, 'GET', `/admin/api-keys/${key.id}`, { token });
    expect(described.status).toBe(200);
    const listed = await call(app, 'GET', `/admin/projects/${projectId}/api-keys`, { token });
    for (const body of [described.body, listed.body]) {
      const text = JSON.stringify(body);
      expect(text).not.toContain(parsed.secret);
      expect(text).not.toContain(value);
      expect(text).not.toContain(stored.secretHash);
    }
    expect(described.body).not.toHaveProperty('value');
    expect(listed.body.data.map((k: { id: string }) => k.id)).toEqual([key.id]);
  });

  it('201 with roles, scope, rate limit and expiry', async () => {
    const projectId = await newProject();
    const before = Date.now();
    const { key } = await mint(projectId, {
      name: 'reader',
      roles: ['DataPlaneViewer', 'ControlPlaneViewer'],
      scope: { indexes: ['docs'], namespaces: ['', 'tenant-a'] },
      rate_limit_per_second: 50,
      expires_in_seconds: 3600,
    });
    expect(key.roles).toEqual(['DataPlaneViewer', 'ControlPlaneViewer']);
    expect(key.scope).toEqual({ indexes: ['docs'], namespaces: ['', 'tenant-a'] });
    expect(key.rate_limit_per_second).toBe(50);
    const expires = Date.parse(key.expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 3600_000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 3600_000 + 1000);
    const stored = await row(key.id);
    expect(stored.indexScope).toEqual(['docs']);
    expect(stored.namespaceScope).toEqual(['', 'tenant-a']);
  });

  it('400 for an unknown role, listing the valid ones; nothing written', async () => {
    const projectId = await newProject();
    const before = await prisma.apiKey.count({ where: { projectId } });
    const audits = await prisma.auditEvent.count({ where: { organizationId: tenant.organizationId } });
    const reply = await call(app, 'POST', `/admin/projects/${projectId}/api-keys`, { token, body: { name: 'x', roles: ['Admin'] } });
    expectErrorShape(reply, 400, 'INVALID_ARGUMENT');
    expect(reply.body.error.message).toContain('ProjectEditor');
    expect(await prisma.apiKey.count({ where: { projectId } })).toBe(before);
    expect(await prisma.auditEvent.count({ where: { organizationId: tenant.organizationId } })).toBe(audits);
  });

  it('404 for a missing project and a non-UUID project id', async () => {
    expectErrorShape(await call(app, 'POST', `/admin/projects/${randomUUID()}/api-keys`, { token, body: { name: 'x' } }), 404, 'NOT_FOUND');
    expectErrorShape(await call(app, 'POST', '/admin/projects/nope/api-keys', { token, body: { name: 'x' } }), 404, 'NOT_FOUND');
    expectErrorShape(await call(app, 'GET', '/admin/api-keys/nope', { token }), 404, 'NOT_FOUND');
  });
});

describe('update', () => {
  it('200 renames without a revocation row; changing roles writes one and announces after commit', async () => {
    const projectId = await newProject();
    const { key } = await mint(projectId);
    const keyId = (await row(key.id)).keyId;

    const renamed = await call(app, 'PATCH', `/admin/api-keys/${key.id}`, { token, body: { name: 'renamed' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('renamed');
    expect(await prisma.keyRevocation.count({ where: { keyId } })).toBe(0);
    expect(changes.some((c) => c.change.keyId === keyId)).toBe(false);

    const updated = await call(app, 'PATCH', `/admin/api-keys/${key.id}`, {
      token,
      body: { roles: ['DataPlaneEditor'], scope: { indexes: ['a', 'b'] }, rate_limit_per_second: 10, expires_in_seconds: 60 },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ roles: ['DataPlaneEditor'], scope: { indexes: ['a', 'b'], namespaces: [] }, rate_limit_per_second: 10 });
    expect(updated.body.expires_at).not.toBeNull();
    expect(await prisma.keyRevocation.count({ where: { keyId } })).toBe(1);
    expect(changes.filter((c) => c.change.keyId === keyId)).toEqual([{ change: { keyId, reason: 'updated' }, revocationRows: 1 }]);

    const cleared = await call(app, 'PATCH', `/admin/api-keys/${key.id}`, { token, body: { rate_limit_per_second: null, expires_at: null } });
    expect(cleared.body).toMatchObject({ rate_limit_per_second: null, expires_at: null });
    expect(await auditActions(key.id)).toEqual(['api_key.create', 'api_key.update', 'api_key.update', 'api_key.update']);
  });

  it('400 for bad fields, nothing changed', async () => {
    const projectId = await newProject();
    const { key } = await mint(projectId, { name: 'stable' });
    for (const body of [
      {},
      { roles: ['Nope'] },
      { roles: [] },
      { name: 'x'.repeat(81) },
      { name: '' },
      { rate_limit_per_second: 0 },
      { rate_limit_per_second: 1.5 },
      { expires_at: '2001-01-01T00:00:00Z' },
      { expires_at: 'tomorrow' },
      { expires_at: '2099-01-01T00:00:00Z', expires_in_seconds: 5 },
      { scope: { indexes: 'docs' } },
      { scope: [] },
    ]) {
      const reply = await call(app, 'PATCH', `/admin/api-keys/${key.id}`, { token, body });
      expectErrorShape(reply, 400, 'INVALID_ARGUMENT');
    }
    const stored = await row(key.id);
    expect(stored.name).toBe('stable');
    expect(stored.roles).toEqual(['ProjectEditor']);
    expect(await auditActions(key.id)).toEqual(['api_key.create']);
  });
});

describe('revoke', () => {
  it('202, the key stops validating, disappears from the list, stays describable with status revoked', async () => {
    const projectId = await newProject();
    const { key } = await mint(projectId);
    const { key: other } = await mint(projectId, { name: 'other' });
    const keyId = (await row(key.id)).keyId;

    const reply = await call(app, 'DELETE', `/admin/api-keys/${key.id}`, { token });
    expect(reply.status).toBe(202);
    expect(reply.body).toBeUndefined();

    const stored = await row(key.id);
    expect(stored.revokedAt).not.toBeNull();
    expect(keyStatus(stored, new Date())).toBe(KeyStatus.REVOKED);
    const revocations = await prisma.keyRevocation.findMany({ where: { keyId } });
    expect(revocations).toHaveLength(1);
    expect(changes.filter((c) => c.change.keyId === keyId)).toEqual([{ change: { keyId, reason: 'revoked' }, revocationRows: 1 }]);

    const listed = await call(app, 'GET', `/admin/projects/${projectId}/api-keys`, { token });
    expect(listed.body.data.map((k: { id: string }) => k.id)).toEqual([other.id]);
    const all = await call(app, 'GET', `/admin/projects/${projectId}/api-keys?include_revoked=true`, { token });
    expect(all.body.data.map((k: { id: string; status: string }) => [k.id, k.status])).toEqual([
      [key.id, 'revoked'],
      [other.id, 'active'],
    ]);
    const described = await call(app, 'GET', `/admin/api-keys/${key.id}`, { token });
    expect(described.body).toMatchObject({ status: 'revoked' });

    expectErrorShape(await call(app, 'DELETE', `/admin/api-keys/${key.id}`, { token }), 404, 'NOT_FOUND');
    expectErrorShape(await call(app, 'PATCH', `/admin/api-keys/${key.id}`, { token, body: { name: 'x' } }), 412, 'FAILED_PRECONDITION');
    expectErrorShape(await call(app, 'POST', `/admin/api-keys/${key.id}/rotate`, { token }), 412, 'FAILED_PRECONDITION');
    expect(await auditActions(key.id)).toEqual(['api_key.create', 'api_key.revoke']);
  });
});

describe('expiry', () => {
  it('an expired key stops validating and is listed with status expired; it cannot be rotated', async () => {
    const projectId = await newProject();
    const { key } = await mint(projectId, { name: 'short', expires_in_seconds: 1 });
    const stored = await row(key.id);
    expect(keyStatus(stored, new Date())).toBe(KeyStatus.VALID);
    expect(keyStatus(stored, new Date(stored.expiresAt!.getTime()))).toBe(KeyStatus.EXPIRED);
    await prisma.apiKey.update({ where: { id: key.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const listed = await call(app, 'GET', `/admin/projects/${projectId}/api-keys`, { token });
    expect(listed.body.data[0]).toMatchObject({ id: key.id, status: 'expired' });
    expectErrorShape(await call(app, 'POST', `/admin/api-keys/${key.id}/rotate`, { token }), 412, 'FAILED_PRECONDITION');
  });
});

describe('expiry cannot be pushed back where it is final', () => {
  it('412 reviving an expired key with expires_at null or a later date; nothing changed, nothing audited', async () => {
    const projectId = await newProject();
    const { key } = await mint(projectId, { name: 'lapsed', expires_in_seconds: 60 });
    await prisma.apiKey.update({ where: { id: key.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const expiredAt = (await row(key.id)).expiresAt;
    for (const body of [{ expires_at: null }, { expires_in_seconds: 3600 }, { expires_at: '2031-01-01T00:00:00Z' }]) {
      expectErrorShape(await call(app, 'PATCH', `/admin/api-keys/${key.id}`, { token, body }), 412, 'FAILED_PRECONDITION');
    }
    expect((await row(key.id)).expiresAt).toEqual(expiredAt);
    expect(await auditActions(key.id)).toEqual(['api_key.create']);
    // Other fields may still change (renaming an expired key is harmless).
    expect((await call(app, 'PATCH', `/admin/api-keys/${key.id}`, { token, body: { name: 'lapsed-2' } })).status).toBe(200);
  });

  it('412 extending a rotated predecessor; bringing its end forward is allowed', async () => {
    const projectId = await newProject();
    const { key } = await mint(projectId, { name: 'rotated' });
    expect((await call(app, 'POST', `/admin/api-keys/${key.id}/rotate`, { token, body: { grace_period_seconds: 600 } })).status).toBe(201);
    const graceEnd = (await row(key.id)).expiresAt!;
    for (const body of [{ expires_at: null }, { expires_in_seconds: 86_400 }]) {
      const refused = await call(app, 'PATCH', `/admin/api-keys/${key.id}`, { token, body });
      expectErrorShape(refused, 412, 'FAILED_PRECONDITION');
      expect(refused.body.error.message).toContain('rotated');
    }
    expect((await row(key.id)).expiresAt).toEqual(graceEnd);
    const sooner = await call(app, 'PATCH', `/admin/api-keys/${key.id}`, { token, body: { expires_in_seconds: 60 } });
    expect(sooner.status).toBe(200);
    expect(Date.parse(sooner.body.expires_at)).toBeLessThan(graceEnd.getTime());
  });

  it('400 for an expires_at that is not a calendar date (2030-02-31 is not 3 March)', async () => {
    const projectId = await newProject();
    const { key } = await mint(projectId, { name: 'dated' });
    expectErrorShape(await call(app, 'PATCH', `/admin/api-keys/${key.id}`, { token, body: { expires_at: '2030-02-31T00:00:00Z' } }), 400, 'INVALID_ARGUMENT');
    const reply = await call(app, 'POST', `/admin/projects/${projectId}/api-keys`, { token, body: { name: 'k', expires_at: '2030-02-31T00:00:00Z' } });
    expectErrorShape(reply, 400, 'INVALID_ARGUMENT');
  });

  it('says so when a namespace-scoped key has roles that write the control plane', async () => {
    const projectId = await newProject();
    const { key } = await mint(projectId, { name: 'ns', roles: ['ProjectEditor'], scope: { namespaces: ['a'] } });
    expect(key.warnings).toEqual([expect.stringContaining('creating, configuring and deleting indexes is refused')]);
    const listed = await call(app, 'GET', `/admin/projects/${projectId}/api-keys`, { token });
    expect(listed.body.data[0].warnings).toEqual(key.warnings);
    expect((await mint(projectId, { name: 'plain', roles: ['DataPlaneEditor'], scope: { namespaces: ['a'] } })).key.warnings).toBeUndefined();
  });
});

describe('rotate', () => {
  it('201 mints a successor with the same rights; the old key keeps working for the grace period only', async () => {
    const projectId = await newProject();
    const { key } = await mint(projectId, {
      name: 'svc',
      roles: ['DataPlaneEditor'],
      scope: { indexes: ['docs'], namespaces: ['n1'] },
      rate_limit_per_second: 7,
    });
    const oldKeyId = (await row(key.id)).keyId;
    const before = Date.now();
    const reply = await call(app, 'POST', `/admin/api-keys/${key.id}/rotate`, { token, body: { grace_period_seconds: 120 } });
    expect(reply.status).toBe(201);
    const { key: successor, value, previous_key: previous } = reply.body;
    expect(parseApiKey(value)).not.toBeNull();
    expect(successor).toMatchObject({
      name: 'svc',
      project_id: projectId,
      roles: ['DataPlaneEditor'],
      scope: { indexes: ['docs'], namespaces: ['n1'] },
      rate_limit_per_second: 7,
      rotated_from_id: key.id,
      status: 'active',
    });
    expect(successor.id).not.toBe(key.id);
    expect(previous.id).toBe(key.id);
    const graceEnd = Date.parse(previous.expires_at);
    expect(graceEnd).toBeGreaterThanOrEqual(before + 120_000 - 1000);
    expect(graceEnd).toBeLessThanOrEqual(Date.now() + 120_000 + 1000);

    const old = await row(key.id);
    expect(keyStatus(old, new Date())).toBe(KeyStatus.VALID);
    expect(keyStatus(old, new Date(graceEnd - 1))).toBe(KeyStatus.VALID);
    expect(keyStatus(old, new Date(graceEnd))).toBe(KeyStatus.EXPIRED);
    expect(keyStatus(await row(successor.id), new Date(graceEnd + 86_400_000))).toBe(KeyStatus.VALID);

    const revocations = await prisma.keyRevocation.findMany({ where: { keyId: oldKeyId } });
    expect(revocations.map((r) => r.effectiveAt.getTime())).toEqual([graceEnd]);
    expect(changes.filter((c) => c.change.keyId === oldKeyId)).toEqual([{ change: { keyId: oldKeyId, reason: 'rotated' }, revocationRows: 1 }]);
    expect(await auditActions(key.id)).toEqual(['api_key.create', 'api_key.rotate']);
  });

  it('grace 0 ends the old key at once; the default grace is one hour; a shorter existing expiry is kept', async () => {
    const projectId = await newProject();
    const { key: a } = await mint(projectId, { name: 'a' });
    const now = Date.now();
    const immediate = await call(app, 'POST', `/admin/api-keys/${a.id}/rotate`, { token, body: { grace_period_seconds: 0 } });
    expect(keyStatus(await row(a.id), new Date(Date.parse(immediate.body.previous_key.expires_at)))).toBe(KeyStatus.EXPIRED);
    expect(Date.parse(immediate.body.previous_key.expires_at)).toBeLessThanOrEqual(Date.now());

    const { key: b } = await mint(projectId, { name: 'b' });
    const byDefault = await call(app, 'POST', `/admin/api-keys/${b.id}/rotate`, { token });
    expect(byDefault.status).toBe(201);
    expect(Date.parse(byDefault.body.previous_key.expires_at)).toBeGreaterThanOrEqual(now + 3600_000 - 1000);

    const { key: c } = await mint(projectId, { name: 'c', expires_in_seconds: 30 });
    const kept = await call(app, 'POST', `/admin/api-keys/${c.id}/rotate`, { token, body: { grace_period_seconds: 3600 } });
    expect(kept.body.previous_key.expires_at).toBe(c.expires_at);
    expect(kept.body.key.expires_at).toBe(c.expires_at);

    expectErrorShape(await call(app, 'POST', `/admin/api-keys/${b.id}/rotate`, { token, body: { grace_period_seconds: -1 } }), 400, 'INVALID_ARGUMENT');
  });
});

describe('last used', () => {
  it('records in memory and writes all keys with one flush, never moving a time backwards', async () => {
    const projectId = await newProject();
    const { key: a } = await mint(projectId, { name: 'a' });
    const { key: b } = await mint(projectId, { name: 'b' });
    const [ka, kb] = [(await row(a.id)).keyId, (await row(b.id)).keyId];
    const recorder = app.get(LastUsedRecorder);
    const t1 = new Date('2031-01-01T00:00:00.000Z');
    const t2 = new Date('2031-01-01T00:00:05.000Z');
    recorder.record(ka, t1);
    recorder.record(ka, t2);
    recorder.record(ka, t1);
    recorder.record(kb, t1);
    expect((await row(a.id)).lastUsedAt).toBeNull();
    await recorder.flush();
    expect((await row(a.id)).lastUsedAt).toEqual(t2);
    expect((await row(b.id)).lastUsedAt).toEqual(t1);
    recorder.record(ka, t1);
    await recorder.flush();
    expect((await row(a.id)).lastUsedAt).toEqual(t2);
    const described = await call(app, 'GET', `/admin/api-keys/${a.id}`, { token });
    expect(described.body.last_used_at).toBe(t2.toISOString());
  });

  it('flushes what is pending when the app shuts down', async () => {
    const other = await startGateway(runtime);
    const projectId = await newProject();
    const { key } = await mint(projectId);
    const at = new Date('2032-02-02T00:00:00.000Z');
    other.get(LastUsedRecorder).record((await row(key.id)).keyId, at);
    await other.close();
    expect((await row(key.id)).lastUsedAt).toEqual(at);
  });
});

describe('project deletion', () => {
  async function addIndex(projectId: string): Promise<void> {
    const node = await prisma.vectorStoreNode.upsert({
      where: { url: 'http://127.0.0.1:1' },
      update: {},
      create: { id: randomUUID(), url: 'http://127.0.0.1:1' },
    });
    await prisma.vectorIndex.create({
      data: { id: randomUUID(), projectId, name: `idx-${randomUUID().slice(0, 6)}`, dimension: 4, metric: 'cosine', spec: {}, replicas: { create: [{ nodeId: node.id }] } },
    });
  }

  it('202 for an empty project; with live keys but no indexes: 202 and the keys are revoked with it (as at Pinecone); force revokes every key first', async () => {
    const empty = await newProject();
    expect((await call(app, 'DELETE', `/admin/projects/${empty}`, { token })).status).toBe(202);
    expectErrorShape(await call(app, 'GET', `/admin/projects/${empty}`, { token }), 404, 'NOT_FOUND');

    const projectId = await newProject();
    const { key: k1 } = await mint(projectId, { name: 'k1' });
    const { key: k2 } = await mint(projectId, { name: 'k2' });
    const keyIds = [(await row(k1.id)).keyId, (await row(k2.id)).keyId];
    expectErrorShape(await call(app, 'DELETE', `/admin/projects/${projectId}?force=maybe`, { token }), 400, 'INVALID_ARGUMENT');

    expect((await call(app, 'DELETE', `/admin/projects/${projectId}?force=true`, { token })).status).toBe(202);
    expect(await prisma.project.findUnique({ where: { id: projectId } })).toBeNull();
    expect(await prisma.apiKey.count({ where: { projectId } })).toBe(0);
    for (const keyId of keyIds) {
      expect(await prisma.keyRevocation.count({ where: { keyId } })).toBe(1);
      expect(changes.filter((c) => c.change.keyId === keyId)).toEqual([{ change: { keyId, reason: 'revoked' }, revocationRows: 1 }]);
    }
    expect(await auditActions(k1.id)).toEqual(['api_key.create', 'api_key.revoke']);
    expect(await auditActions(projectId)).toEqual(['project.create', 'project.delete']);

    // Without force: no indexes, so the project goes and its live keys are revoked in the same call (was 412).
    const keysOnly = await newProject();
    const { key: k3 } = await mint(keysOnly, { name: 'k3' });
    const k3KeyId = (await row(k3.id)).keyId;
    expect((await call(app, 'DELETE', `/admin/projects/${keysOnly}`, { token })).status).toBe(202);
    expectErrorShape(await call(app, 'GET', `/admin/projects/${keysOnly}`, { token }), 404, 'NOT_FOUND');
    expect(await prisma.apiKey.count({ where: { projectId: keysOnly } })).toBe(0);
    expect(await prisma.keyRevocation.count({ where: { keyId: k3KeyId } })).toBe(1);
    expect(changes.filter((c) => c.change.keyId === k3KeyId)).toEqual([{ change: { keyId: k3KeyId, reason: 'revoked' }, revocationRows: 1 }]);
    expect(await auditActions(k3.id)).toEqual(['api_key.create', 'api_key.revoke']);
    expect(await auditActions(keysOnly)).toEqual(['project.create', 'project.delete']);
  });

  it('412 with indexes; forced while their vector-store node is unreachable: 503, keys already revoked, project kept for a retry', async () => {
    const projectId = await newProject();
    const { key } = await mint(projectId);
    await addIndex(projectId);
    expectErrorShape(await call(app, 'DELETE', `/admin/projects/${projectId}`, { token }), 412, 'FAILED_PRECONDITION');
    expect((await row(key.id)).revokedAt).toBeNull();
    // Keys go first so that access stops at once; the index removal fails on the dead node.
    expectErrorShape(await call(app, 'DELETE', `/admin/projects/${projectId}?force=true`, { token }), 503, 'UNAVAILABLE');
    expect((await row(key.id)).revokedAt).not.toBeNull();
    expect(await prisma.project.findUnique({ where: { id: projectId } })).not.toBeNull();
    expect(await prisma.vectorIndex.count({ where: { projectId } })).toBe(1);
    expect(await auditActions(projectId)).toEqual(['project.create']);
  });

  it('force with an index remover removes the indexes, then the project', async () => {
    const removed: string[] = [];
    class FakeRemover extends ProjectIndexRemover {
      async removeAllIndexes(projectId: string): Promise<number> {
        removed.push(projectId);
        const { count } = await prisma.vectorIndex.deleteMany({ where: { projectId } });
        return count;
      }
    }
    const withRemover = await startGatewayWith([{ provide: ProjectIndexRemover, useClass: FakeRemover }], runtime);
    try {
      const projectId = await newProject();
      const { key } = await mint(projectId);
      const keyId = (await row(key.id)).keyId;
      await addIndex(projectId);
      await addIndex(projectId);
      expect((await call(withRemover, 'DELETE', `/admin/projects/${projectId}?force=true`, { token })).status).toBe(202);
      expect(removed).toEqual([projectId]);
      expect(await prisma.project.findUnique({ where: { id: projectId } })).toBeNull();
      const events = await prisma.auditEvent.findMany({ where: { targetId: projectId, action: 'project.delete' } });
      expect(events[0]!.details).toMatchObject({ force: true, removed_indexes: 2 });
      expect(await prisma.keyRevocation.count({ where: { keyId } })).toBe(1);
    } finally {
      await withRemover.close();
    }
  });
});
