// The admin REST API against real Postgres: OAuth tokens, projects, service accounts, organizations, audit
// log paging, tenant isolation, and the bad-input matrix (4xx in Pinecone's shape, nothing written).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTcpProxy } from '@conifer/test-utils';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { signAdminToken } from '../../src/admin-auth/admin-token.js';
import { PrismaService } from '../../src/database/prisma.service.js';
import { RedisService } from '../../src/redis/redis.service.js';
import { call, createTenant, expectErrorShape, login, redisEnv, startGateway, testRuntime, type Tenant } from './admin-fixtures.js';

const runtime = testRuntime();
let app: NestFastifyApplication;
let prisma: PrismaService;
let acme: Tenant;
let globex: Tenant;
let acmeToken: string;
let globexToken: string;

beforeAll(async () => {
  app = await startGateway(runtime);
  prisma = app.get(PrismaService);
  acme = await createTenant(app, runtime, 'acme');
  globex = await createTenant(app, runtime, 'globex');
  acmeToken = await login(app, acme);
  globexToken = await login(app, globex);
});

afterAll(async () => {
  await app?.close();
});

/** What an organization has in the database (scoped, so suites running in parallel do not interfere). */
async function counts(organizationId = acme.organizationId) {
  const keyIds = (await prisma.apiKey.findMany({ where: { project: { organizationId } }, select: { keyId: true } })).map((k) => k.keyId);
  const [projects, keys, accounts, audits, revocations, organization] = await Promise.all([
    prisma.project.findMany({ where: { organizationId }, orderBy: { id: 'asc' } }),
    prisma.apiKey.findMany({ where: { project: { organizationId } }, orderBy: { id: 'asc' } }),
    prisma.serviceAccount.findMany({ where: { organizationId }, orderBy: { id: 'asc' } }),
    prisma.auditEvent.count({ where: { organizationId } }),
    prisma.keyRevocation.count({ where: { keyId: { in: keyIds } } }),
    prisma.organization.findUnique({ where: { id: organizationId } }),
  ]);
  return { projects, keys, accounts, audits, revocations, organization };
}

describe('POST /oauth/token', () => {
  it('200 with a JSON body; the token opens /admin for its organization', async () => {
    const reply = await call(app, 'POST', '/oauth/token', {
      body: { grant_type: 'client_credentials', client_id: acme.clientId, client_secret: acme.clientSecret, audience: 'https://api.pinecone.io/' },
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: runtime.config.gateway.adminTokenTtlSeconds });
    expect((await call(app, 'GET', '/admin/projects', { token: reply.body.access_token })).status).toBe(200);
  });

  it('200 with a form body', async () => {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: acme.clientId, client_secret: acme.clientSecret, audience: 'x' });
    const reply = await call(app, 'POST', '/oauth/token', { rawBody: form.toString(), contentType: 'application/x-www-form-urlencoded' });
    expect(reply.status).toBe(200);
    expect(reply.body.token_type).toBe('Bearer');
  });

  it('401 for a wrong secret or an unknown client, audited for the known account', async () => {
    const before = await prisma.auditEvent.count({ where: { organizationId: acme.organizationId, action: 'oauth.token_failed' } });
    const wrong = await call(app, 'POST', '/oauth/token', { body: { grant_type: 'client_credentials', client_id: acme.clientId, client_secret: 'nope' } });
    expectErrorShape(wrong, 401, 'UNAUTHENTICATED');
    const unknown = await call(app, 'POST', '/oauth/token', { body: { grant_type: 'client_credentials', client_id: 'sa-unknown', client_secret: 'nope' } });
    expectErrorShape(unknown, 401, 'UNAUTHENTICATED');
    expect(unknown.body.error.message).toBe(wrong.body.error.message);
    // The failed attempt on a known account is audited off the request path: wait (bounded) for its row.
    const failures = () => prisma.auditEvent.count({ where: { organizationId: acme.organizationId, action: 'oauth.token_failed' } });
    for (let waited = 0; waited < 5000 && (await failures()) < before + 1; waited += 25) await new Promise((r) => setTimeout(r, 25));
    expect(await failures()).toBe(before + 1);
  });

  it('400 for a wrong grant type or missing credentials; 415 for another content type; 400 for bad JSON', async () => {
    expectErrorShape(await call(app, 'POST', '/oauth/token', { body: { grant_type: 'password', client_id: acme.clientId, client_secret: 'x' } }), 400, 'INVALID_ARGUMENT');
    expectErrorShape(await call(app, 'POST', '/oauth/token', { body: { grant_type: 'client_credentials' } }), 400, 'INVALID_ARGUMENT');
    expectErrorShape(await call(app, 'POST', '/oauth/token', { rawBody: 'grant_type=client_credentials', contentType: 'text/plain' }), 415, 'INVALID_ARGUMENT');
    expectErrorShape(await call(app, 'POST', '/oauth/token', { rawBody: '{"grant_type":', contentType: 'application/json' }), 400, 'INVALID_ARGUMENT');
    expectErrorShape(await call(app, 'POST', '/oauth/token', { body: ['client_credentials'] }), 400, 'INVALID_ARGUMENT');
    expectErrorShape(await call(app, 'POST', '/oauth/token', { body: { grant_type: 'client_credentials', client_id: 'a\u0000', client_secret: 'x' } }), 400, 'INVALID_ARGUMENT');
    expectErrorShape(await call(app, 'POST', '/oauth/token', { body: { grant_type: 'client_credentials', client_id: 7, client_secret: 'x' } }), 400, 'INVALID_ARGUMENT');
  });

  it('429 with Retry-After once an address has failed too often, counted across replicas through Redis', async () => {
    // Two replicas sharing Redis, under a prefix of their own (other suites' failures from 127.0.0.1 stay apart).
    const env: Record<string, string> = { ...redisEnv(), CONIFER_ADMIN_LOGIN_MAX_FAILURES: '3', CONIFER_ADMIN_LOGIN_WINDOW_SECONDS: '600' };
    env.CONIFER_REDIS_KEY_PREFIX = `${env.CONIFER_REDIS_KEY_PREFIX}${randomUUID().slice(0, 8)}:`;
    const strict = await startGateway(testRuntime(env));
    const replica = await startGateway(testRuntime(env));
    try {
      for (const gateway of [strict, replica]) {
        const redis = gateway.get(RedisService);
        for (let attempt = 0; ; attempt++) {
          try {
            await redis.ping();
            break;
          } catch (error) {
            if (attempt > 50) throw error;
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
      }
      const bad = { body: { grant_type: 'client_credentials', client_id: globex.clientId, client_secret: 'wrong' } };
      expectErrorShape(await call(strict, 'POST', '/oauth/token', bad), 401, 'UNAUTHENTICATED');
      expectErrorShape(await call(replica, 'POST', '/oauth/token', bad), 401, 'UNAUTHENTICATED');
      expectErrorShape(await call(strict, 'POST', '/oauth/token', bad), 401, 'UNAUTHENTICATED');
      expectErrorShape(await call(replica, 'POST', '/oauth/token', bad), 429, 'RESOURCE_EXHAUSTED');
      const throttled = await call(strict, 'POST', '/oauth/token', bad);
      expectErrorShape(throttled, 429, 'RESOURCE_EXHAUSTED');
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
      // Even the right secret waits: the window is per address.
      const good = { body: { grant_type: 'client_credentials', client_id: globex.clientId, client_secret: globex.clientSecret } };
      expectErrorShape(await call(strict, 'POST', '/oauth/token', good), 429, 'RESOURCE_EXHAUSTED');
    } finally {
      await strict.close();
      await replica.close();
    }
  });
});

describe('admin bearer authentication', () => {
  it('401 without a token, with garbage, with another secret, expired, or of a deleted account', async () => {
    expectErrorShape(await call(app, 'GET', '/admin/projects'), 401, 'UNAUTHENTICATED');
    expectErrorShape(await call(app, 'GET', '/admin/projects', { token: 'garbage' }), 401, 'UNAUTHENTICATED');
    expectErrorShape(await call(app, 'GET', '/admin/projects', { headers: { authorization: `Basic ${acmeToken}` } }), 401, 'UNAUTHENTICATED');
    const subject = { serviceAccountId: acme.serviceAccountId, organizationId: acme.organizationId, clientId: acme.clientId };
    const foreign = signAdminToken('another-secret-'.padEnd(40, 'z'), subject, 600).token;
    expectErrorShape(await call(app, 'GET', '/admin/projects', { token: foreign }), 401, 'UNAUTHENTICATED');
    const expired = signAdminToken(runtime.secrets.tokenSecret, subject, 60, new Date(Date.now() - 120_000)).token;
    expectErrorShape(await call(app, 'GET', '/admin/projects', { token: expired }), 401, 'UNAUTHENTICATED');
    // A token claiming another organization for this account is refused.
    const crossed = signAdminToken(runtime.secrets.tokenSecret, { ...subject, organizationId: globex.organizationId }, 600).token;
    expectErrorShape(await call(app, 'GET', '/admin/projects', { token: crossed }), 401, 'UNAUTHENTICATED');
    // An API key is not an admin credential.
    expectErrorShape(await call(app, 'GET', '/admin/projects', { headers: { 'api-key': 'pcsk_x' } }), 401, 'UNAUTHENTICATED');
  });
});

describe('projects', () => {
  it('create, list, describe, update, delete', async () => {
    const created = await call(app, 'POST', '/admin/projects', { token: acmeToken, body: { name: 'search', max_pods: 2 } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'search',
      max_pods: 2,
      force_encryption_with_cmek: false,
      organization_id: acme.organizationId,
      created_at: expect.any(String),
    });
    const id = created.body.id as string;
    const listed = await call(app, 'GET', '/admin/projects', { token: acmeToken });
    expect(listed.body.data.map((p: { id: string }) => p.id)).toContain(id);
    expect((await call(app, 'GET', `/admin/projects/${id}`, { token: acmeToken })).body).toEqual(created.body);
    const updated = await call(app, 'PATCH', `/admin/projects/${id}`, { token: acmeToken, body: { name: 'search-2', force_encryption_with_cmek: true } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id, name: 'search-2', max_pods: 2, force_encryption_with_cmek: true });
    const auditsBefore = await prisma.auditEvent.count({ where: { organizationId: acme.organizationId } });
    expectErrorShape(await call(app, 'POST', '/admin/projects', { token: acmeToken, body: { name: 'search-2' } }), 409, 'ALREADY_EXISTS');
    const other = (await call(app, 'POST', '/admin/projects', { token: acmeToken, body: { name: `other-${randomUUID().slice(0, 6)}` } })).body;
    expectErrorShape(await call(app, 'PATCH', `/admin/projects/${other.id}`, { token: acmeToken, body: { name: 'search-2' } }), 409, 'ALREADY_EXISTS');
    // The failed create and rename rolled back with their audit rows: only other's creation was recorded.
    expect(await prisma.auditEvent.count({ where: { organizationId: acme.organizationId } })).toBe(auditsBefore + 1);
    expect((await call(app, 'GET', `/admin/projects/${other.id}`, { token: acmeToken })).body.name).toBe(other.name);
    // Names are unique per organization only.
    expect((await call(app, 'POST', '/admin/projects', { token: globexToken, body: { name: 'search-2' } })).status).toBe(201);
    expect((await call(app, 'DELETE', `/admin/projects/${id}`, { token: acmeToken })).status).toBe(202);
    expectErrorShape(await call(app, 'GET', `/admin/projects/${id}`, { token: acmeToken }), 404, 'NOT_FOUND');
    const actions = (await prisma.auditEvent.findMany({ where: { targetId: id }, orderBy: { id: 'asc' } })).map((e) => [e.action, e.actorId, e.clientAddress]);
    expect(actions).toEqual([
      ['project.create', acme.serviceAccountId, '127.0.0.1'],
      ['project.update', acme.serviceAccountId, '127.0.0.1'],
      ['project.delete', acme.serviceAccountId, '127.0.0.1'],
    ]);
  });
});

describe('tenant isolation', () => {
  it("another organization's project, keys, accounts and audit events are invisible and untouchable (404)", async () => {
    const project = (await call(app, 'POST', '/admin/projects', { token: acmeToken, body: { name: `iso-${randomUUID().slice(0, 6)}` } })).body;
    const minted = (await call(app, 'POST', `/admin/projects/${project.id}/api-keys`, { token: acmeToken, body: { name: 'secret-key' } })).body;
    const keyId = minted.key.id as string;
    const before = await counts();
    const g = globexToken;
    const attempts = [
      await call(app, 'GET', `/admin/projects/${project.id}`, { token: g }),
      await call(app, 'PATCH', `/admin/projects/${project.id}`, { token: g, body: { name: 'pwned' } }),
      await call(app, 'DELETE', `/admin/projects/${project.id}?force=true`, { token: g }),
      await call(app, 'GET', `/admin/projects/${project.id}/api-keys`, { token: g }),
      await call(app, 'POST', `/admin/projects/${project.id}/api-keys`, { token: g, body: { name: 'intruder' } }),
      await call(app, 'GET', `/admin/api-keys/${keyId}`, { token: g }),
      await call(app, 'PATCH', `/admin/api-keys/${keyId}`, { token: g, body: { roles: ['ProjectViewer'] } }),
      await call(app, 'DELETE', `/admin/api-keys/${keyId}`, { token: g }),
      await call(app, 'POST', `/admin/api-keys/${keyId}/rotate`, { token: g }),
      await call(app, 'GET', `/admin/service-accounts/${acme.serviceAccountId}`, { token: g }),
      await call(app, 'DELETE', `/admin/service-accounts/${acme.serviceAccountId}`, { token: g }),
      await call(app, 'GET', `/admin/organizations/${acme.organizationId}`, { token: g }),
      await call(app, 'PATCH', `/admin/organizations/${acme.organizationId}`, { token: g, body: { name: 'pwned' } }),
    ];
    const missing = await call(app, 'GET', `/admin/api-keys/${randomUUID()}`, { token: g });
    for (const reply of attempts) expectErrorShape(reply, 404, 'NOT_FOUND');
    // Indistinguishable from a missing id but for the id itself.
    expect(attempts[5]!.body.error.message.replace(keyId, 'ID')).toBe(missing.body.error.message.replace(/[0-9a-f-]{36}/, 'ID'));
    expect(await counts()).toEqual(before);

    const globexProjects = (await call(app, 'GET', '/admin/projects', { token: g })).body.data;
    expect(globexProjects.map((p: { id: string }) => p.id)).not.toContain(project.id);
    const globexAccounts = (await call(app, 'GET', '/admin/service-accounts', { token: g })).body.data;
    expect(globexAccounts.map((a: { id: string }) => a.id)).toEqual([globex.serviceAccountId]);
    const orgs = (await call(app, 'GET', '/admin/organizations', { token: g })).body.data;
    expect(orgs.map((o: { id: string }) => o.id)).toEqual([globex.organizationId]);
    const audit = (await call(app, 'GET', '/admin/audit-events?limit=100', { token: g })).body.data;
    expect(audit.some((e: { target_id: string }) => e.target_id === project.id || e.target_id === keyId)).toBe(false);
    expect((await call(app, 'GET', `/admin/api-keys/${keyId}`, { token: acmeToken })).body.status).toBe('active');
  });

  it("one project's key list never shows another project's keys", async () => {
    const p1 = (await call(app, 'POST', '/admin/projects', { token: acmeToken, body: { name: `x1-${randomUUID().slice(0, 6)}` } })).body.id;
    const p2 = (await call(app, 'POST', '/admin/projects', { token: acmeToken, body: { name: `x2-${randomUUID().slice(0, 6)}` } })).body.id;
    const k1 = (await call(app, 'POST', `/admin/projects/${p1}/api-keys`, { token: acmeToken, body: { name: 'one' } })).body.key.id;
    const k2 = (await call(app, 'POST', `/admin/projects/${p2}/api-keys`, { token: acmeToken, body: { name: 'two' } })).body.key.id;
    expect((await call(app, 'GET', `/admin/projects/${p1}/api-keys`, { token: acmeToken })).body.data.map((k: { id: string }) => k.id)).toEqual([k1]);
    expect((await call(app, 'GET', `/admin/projects/${p2}/api-keys`, { token: acmeToken })).body.data.map((k: { id: string }) => k.id)).toEqual([k2]);
  });
});

describe('bad input', () => {
  it('4xx in Pinecone shape and nothing written', async () => {
    const project = (await call(app, 'POST', '/admin/projects', { token: acmeToken, body: { name: `bad-${randomUUID().slice(0, 6)}` } })).body;
    const t = acmeToken;
    const keysUrl = `/admin/projects/${project.id}/api-keys`;
    const before = await counts();
    const cases: [string, Promise<Awaited<ReturnType<typeof call>>>, number][] = [
      ['project without name', call(app, 'POST', '/admin/projects', { token: t, body: {} }), 400],
      ['project name too long', call(app, 'POST', '/admin/projects', { token: t, body: { name: 'x'.repeat(513) } }), 400],
      ['project name not a string', call(app, 'POST', '/admin/projects', { token: t, body: { name: 7 } }), 400],
      ['negative max_pods', call(app, 'POST', '/admin/projects', { token: t, body: { name: 'a', max_pods: -1 } }), 400],
      ['cmek not boolean', call(app, 'POST', '/admin/projects', { token: t, body: { name: 'a', force_encryption_with_cmek: 'yes' } }), 400],
      ['malformed JSON', call(app, 'POST', '/admin/projects', { token: t, rawBody: '{"name":', contentType: 'application/json' }), 400],
      ['array body', call(app, 'POST', '/admin/projects', { token: t, body: [{ name: 'a' }] }), 400],
      ['string body', call(app, 'POST', '/admin/projects', { token: t, body: 'a' }), 400],
      ['null body', call(app, 'POST', '/admin/projects', { token: t, rawBody: 'null', contentType: 'application/json' }), 400],
      ['text/plain', call(app, 'POST', '/admin/projects', { token: t, rawBody: '{"name":"a"}', contentType: 'text/plain' }), 415],
      ['form body on admin', call(app, 'POST', '/admin/projects', { token: t, rawBody: 'name=a', contentType: 'application/x-www-form-urlencoded' }), 415],
      ['xml', call(app, 'POST', '/admin/projects', { token: t, rawBody: '<a/>', contentType: 'application/xml' }), 415],
      ['no body', call(app, 'POST', '/admin/projects', { token: t }), 400],
      ['empty update', call(app, 'PATCH', `/admin/projects/${project.id}`, { token: t, body: {} }), 400],
      ['key without name', call(app, 'POST', keysUrl, { token: t, body: { roles: ['ProjectEditor'] } }), 400],
      ['key name too long', call(app, 'POST', keysUrl, { token: t, body: { name: 'k'.repeat(81) } }), 400],
      ['unknown role', call(app, 'POST', keysUrl, { token: t, body: { name: 'k', roles: ['ProjectEditor', 'Root'] } }), 400],
      ['roles not an array', call(app, 'POST', keysUrl, { token: t, body: { name: 'k', roles: 'ProjectEditor' } }), 400],
      ['expiry in the past', call(app, 'POST', keysUrl, { token: t, body: { name: 'k', expires_at: '2000-01-01T00:00:00Z' } }), 400],
      ['expiry too far', call(app, 'POST', keysUrl, { token: t, body: { name: 'k', expires_in_seconds: 999_999_999_999 } }), 400],
      ['scope indexes not strings', call(app, 'POST', keysUrl, { token: t, body: { name: 'k', scope: { indexes: [1] } } }), 400],
      ['NUL in a namespace', call(app, 'POST', keysUrl, { token: t, body: { name: 'k', scope: { namespaces: ['a\u0000b'] } } }), 400],
      ['NUL in a name', call(app, 'POST', '/admin/projects', { token: t, body: { name: 'a\u0000b' } }), 400],
      ['scope index not an index name', call(app, 'POST', keysUrl, { token: t, body: { name: 'k', scope: { indexes: ['My Index'] } } }), 400],
      ['too many scope entries', call(app, 'POST', keysUrl, { token: t, body: { name: 'k', scope: { namespaces: Array.from({ length: 101 }, (_, i) => `n${i}`) } } }), 400],
      ['rate limit negative', call(app, 'POST', keysUrl, { token: t, body: { name: 'k', rate_limit_per_second: -5 } }), 400],
      ['key body text/plain', call(app, 'POST', keysUrl, { token: t, rawBody: '{"name":"k"}', contentType: 'text/plain' }), 415],
      ['service account without name', call(app, 'POST', '/admin/service-accounts', { token: t, body: {} }), 400],
      ['service account name too long', call(app, 'POST', '/admin/service-accounts', { token: t, body: { name: 's'.repeat(81) } }), 400],
      ['audit limit 0', call(app, 'GET', '/admin/audit-events?limit=0', { token: t }), 400],
      ['audit limit 101', call(app, 'GET', '/admin/audit-events?limit=101', { token: t }), 400],
      ['audit bad token', call(app, 'GET', '/admin/audit-events?pagination_token=zzz', { token: t }), 400],
      ['non-UUID project', call(app, 'PATCH', '/admin/projects/123', { token: t, body: { name: 'x' } }), 404],
      ['non-UUID key', call(app, 'DELETE', '/admin/api-keys/%27%3B--', { token: t }), 404],
      ['non-UUID account', call(app, 'DELETE', '/admin/service-accounts/abc', { token: t }), 404],
      ['unknown route', call(app, 'GET', '/admin/nothing-here', { token: t }), 404],
    ];
    for (const [name, pending, status] of cases) {
      const reply = await pending;
      const code = status === 404 ? 'NOT_FOUND' : 'INVALID_ARGUMENT';
      try {
        expectErrorShape(reply, status, code);
      } catch (error) {
        throw new Error(`${name}: ${(error as Error).message}`);
      }
    }
    expect(await counts()).toEqual(before);
  });
});

describe('service accounts', () => {
  it('create shows the secret once; the new account can log in; delete ends its tokens; the last one stays', async () => {
    const org = await createTenant(app, runtime, 'sa');
    const token = await login(app, org);
    const created = await call(app, 'POST', '/admin/service-accounts', { token, body: { name: 'ci' } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      name: 'ci',
      client_id: expect.stringMatching(/^sa-/),
      client_secret: expect.any(String),
      organization_id: org.organizationId,
      created_at: expect.any(String),
    });
    const stored = await prisma.serviceAccount.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(stored.secretHash).not.toContain(created.body.client_secret);
    const listed = await call(app, 'GET', '/admin/service-accounts', { token });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.client_secret);
    expect(listed.body.data).toHaveLength(2);
    const described = await call(app, 'GET', `/admin/service-accounts/${created.body.id}`, { token });
    expect(described.body).not.toHaveProperty('client_secret');

    const ciToken = await login(app, { clientId: created.body.client_id, clientSecret: created.body.client_secret });
    expect((await call(app, 'GET', '/admin/projects', { token: ciToken })).status).toBe(200);
    expect((await call(app, 'DELETE', `/admin/service-accounts/${created.body.id}`, { token })).status).toBe(202);
    expectErrorShape(await call(app, 'GET', '/admin/projects', { token: ciToken }), 401, 'UNAUTHENTICATED');
    expectErrorShape(
      await call(app, 'POST', '/oauth/token', { body: { grant_type: 'client_credentials', client_id: created.body.client_id, client_secret: created.body.client_secret } }),
      401,
      'UNAUTHENTICATED',
    );
    expectErrorShape(await call(app, 'DELETE', `/admin/service-accounts/${org.serviceAccountId}`, { token }), 412, 'FAILED_PRECONDITION');
    const actions = (await prisma.auditEvent.findMany({ where: { targetId: created.body.id }, orderBy: { id: 'asc' } })).map((e) => e.action);
    expect(actions).toEqual(['service_account.create', 'oauth.token', 'service_account.delete', 'oauth.token_failed']);
  });
});

describe('organizations', () => {
  it('lists and renames only its own organization', async () => {
    const org = await createTenant(app, runtime, 'rename');
    const token = await login(app, org);
    const renamed = await call(app, 'PATCH', `/admin/organizations/${org.organizationId}`, { token, body: { name: 'Renamed Inc' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id: org.organizationId, name: 'Renamed Inc' });
    expect((await call(app, 'GET', '/admin/organizations', { token })).body.data).toEqual([renamed.body]);
  });
});

describe('GET /admin/audit-events', () => {
  it('pages newest first with pagination.next, every admin action recorded with actor, target and address', async () => {
    const org = await createTenant(app, runtime, 'audit');
    const token = await login(app, org);
    const project = (await call(app, 'POST', '/admin/projects', { token, body: { name: 'p' } })).body;
    const minted = (await call(app, 'POST', `/admin/projects/${project.id}/api-keys`, { token, body: { name: 'k' } })).body;
    await call(app, 'PATCH', `/admin/api-keys/${minted.key.id}`, { token, body: { roles: ['ProjectViewer'] } });
    const rotated = (await call(app, 'POST', `/admin/api-keys/${minted.key.id}/rotate`, { token, body: { grace_period_seconds: 10 } })).body;
    await call(app, 'DELETE', `/admin/api-keys/${rotated.key.id}`, { token });

    const seen: any[] = [];
    let url = '/admin/audit-events?limit=2';
    for (let page = 0; page < 10; page++) {
      const reply = await call(app, 'GET', url, { token });
      expect(reply.status).toBe(200);
      expect(reply.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...reply.body.data);
      if (!reply.body.pagination) break;
      url = `/admin/audit-events?limit=2&pagination_token=${encodeURIComponent(reply.body.pagination.next)}`;
    }
    expect(seen.map((e) => e.action)).toEqual(['api_key.revoke', 'api_key.rotate', 'api_key.update', 'api_key.create', 'project.create', 'oauth.token']);
    const ids = seen.map((e) => BigInt(e.id));
    expect([...ids].sort((a, b) => (a < b ? 1 : -1))).toEqual(ids);
    for (const event of seen) {
      expect(event).toMatchObject({ actor_type: 'service_account', actor_id: org.serviceAccountId, client_address: '127.0.0.1' });
      expect(typeof event.created_at).toBe('string');
    }
    expect(seen[0]).toMatchObject({ target_type: 'api_key', target_id: rotated.key.id });
    const text = JSON.stringify(seen);
    expect(text).not.toContain(minted.value);
    expect(text).not.toContain(rotated.value);
    expect(text).not.toContain(org.clientSecret);
  });
});

describe('Postgres unreachable', () => {
  it('503 UNAVAILABLE for token requests and admin calls once Postgres goes away, not 401 or 500', async () => {
    // The gateway reaches Postgres through a TCP proxy that the test cuts after start-up.
    const target = new URL(runtime.databaseUrl);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const proxied = new URL(runtime.databaseUrl);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const down = await startGateway({ ...runtime, databaseUrl: proxied.toString() });
    try {
      expect((await call(down, 'POST', '/oauth/token', { body: { grant_type: 'client_credentials', client_id: acme.clientId, client_secret: acme.clientSecret } })).status).toBe(200);
      await proxy.stop();
      const token = await call(down, 'POST', '/oauth/token', { body: { grant_type: 'client_credentials', client_id: acme.clientId, client_secret: acme.clientSecret } });
      expectErrorShape(token, 503, 'UNAVAILABLE');
      const signed = signAdminToken(runtime.secrets.tokenSecret, { serviceAccountId: acme.serviceAccountId, organizationId: acme.organizationId, clientId: acme.clientId }, 600).token;
      expectErrorShape(await call(down, 'GET', '/admin/projects', { token: signed }), 503, 'UNAVAILABLE');
    } finally {
      await down.close().catch(() => {});
      await proxy.close();
    }
  });
});
