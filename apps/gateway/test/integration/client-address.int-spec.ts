// Client addresses and throttles (issue 14, items 3, 7 and 9): X-Forwarded-For is believed only as far as
// CONIFER_TRUSTED_PROXIES says (a client cannot choose the address it is throttled and audited as), attempts are
// counted before they are checked (concurrent attempts cannot overrun a limit), invalid keys are throttled per
// key id as well as per address, and failed logins on a known client id leave one audit row, not one per try.
import { randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { encodeUint32Base62, parseApiKey } from '@conifer/keys';
import { PrismaService } from '../../src/database/prisma.service.js';
import { call, createTenant, login, redisEnv, startGateway, testRuntime, type Tenant } from './admin-fixtures.js';

const LOGIN_LIMIT = 10;
const KEY_ID_LIMIT = 10;

function tokenBody(tenant: Pick<Tenant, 'clientId'>, secret: string) {
  return { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: secret };
}

/** As nginx forwards it: whatever the client sent, then the address nginx saw. */
function forwarded(spoofed: string, seen: string): Record<string, string> {
  return { 'x-forwarded-for': `${spoofed}, ${seen}` };
}

describe('behind one trusted load balancer (CONIFER_TRUSTED_PROXIES=1, as in docker-compose.yml)', () => {
  const runtime = testRuntime({
    ...redisEnv(),
    CONIFER_REDIS_KEY_PREFIX: `conifer-addr-${randomUUID().slice(0, 8)}:`,
    CONIFER_TRUSTED_PROXIES: '1',
    CONIFER_ADMIN_LOGIN_MAX_FAILURES: String(LOGIN_LIMIT),
    CONIFER_KEY_ID_MAX_FAILURES: String(KEY_ID_LIMIT),
  });
  let app: NestFastifyApplication;
  let tenant: Tenant;

  beforeAll(async () => {
    app = await startGateway(runtime);
    tenant = await createTenant(app, runtime, 'addr');
  });
  afterAll(async () => {
    await app?.close();
  });

  it('a spoofed leftmost X-Forwarded-For entry neither escapes the login throttle nor reaches the audit log', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LOGIN_LIMIT + 3; i++) {
      const reply = await call(app, 'POST', '/oauth/token', { body: tokenBody(tenant, 'wrong-secret'), headers: forwarded(`198.51.100.${i}`, '10.9.9.9') });
      statuses.push(reply.status);
    }
    expect(statuses.slice(0, LOGIN_LIMIT).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(LOGIN_LIMIT).every((s) => s === 429)).toBe(true);
    // Another client behind the same load balancer is not locked out…
    const other = await call(app, 'POST', '/oauth/token', { body: tokenBody(tenant, tenant.clientSecret), headers: forwarded('10.9.9.9', '10.9.9.8') });
    expect(other.status).toBe(200);
    // …and the audit log names the address the load balancer saw.
    const prisma = app.get(PrismaService);
    const events = await prisma.auditEvent.findMany({ where: { organizationId: tenant.organizationId }, orderBy: { id: 'asc' } });
    const addresses = new Set(events.map((e) => e.clientAddress));
    expect(addresses).toEqual(new Set(['10.9.9.9', '10.9.9.8']));
  });

  it('40 concurrent wrong logins against a limit of 10: 10 are checked, 30 get 429', async () => {
    const replies = await Promise.all(
      Array.from({ length: 40 }, () => call(app, 'POST', '/oauth/token', { body: tokenBody(tenant, 'wrong-secret'), headers: forwarded('x', '10.7.7.7') })),
    );
    const counts = replies.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
    expect(counts).toEqual({ 401: LOGIN_LIMIT, 429: 40 - LOGIN_LIMIT });
  });

  it('successful logins are not counted as failures', async () => {
    for (let i = 0; i < LOGIN_LIMIT + 5; i++) {
      expect((await call(app, 'POST', '/oauth/token', { body: tokenBody(tenant, tenant.clientSecret), headers: forwarded('x', '10.6.6.6') })).status).toBe(200);
    }
  });

  it('failed logins on a known client id leave one audit row per window, not one per attempt', async () => {
    const prisma = app.get(PrismaService);
    const where = { organizationId: tenant.organizationId, action: 'oauth.token_failed', clientAddress: '10.5.5.5' };
    for (let i = 0; i < 5; i++) {
      expect((await call(app, 'POST', '/oauth/token', { body: tokenBody(tenant, 'wrong'), headers: forwarded('x', '10.5.5.5') })).status).toBe(401);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await prisma.auditEvent.count({ where })).toBeLessThanOrEqual(1);
    // An unknown client id gets the same answer.
    const unknown = await call(app, 'POST', '/oauth/token', { body: { ...tokenBody(tenant, 'wrong'), client_id: 'sa-unknown' }, headers: forwarded('x', '10.5.5.5') });
    expect(unknown.status).toBe(401);
  });

  it('wrong secrets for one key id from many addresses: that key id gets 429 (counted before verifying), other keys are served', async () => {
    const token = await login(app, tenant);
    const project = await call(app, 'POST', '/admin/projects', { token, body: { name: `p-${randomUUID().slice(0, 8)}` } });
    const mint = async () => (await call(app, 'POST', `/admin/projects/${project.body.id}/api-keys`, { token, body: { name: 'k' } })).body.value as string;
    const target = await mint();
    const bystander = await mint();
    const { keyId, secret } = parseApiKey(target)!;
    // The target key is warm on the data plane first (its secret accepted and remembered: the synchronous path).
    const dataPlane = () => call(app, 'POST', `/data/${project.body.id}/missing/query`, { body: { vector: [1], topK: 1 }, headers: { 'api-key': target, ...forwarded('x', '10.4.1.1') } });
    for (let i = 0; i < 2; i++) expect((await dataPlane()).status).toBe(404);
    const wrong = (i: number) => {
      const body = `pcsk_${keyId}_${secret.slice(0, -4)}${String(1000 + i).slice(-4)}`;
      return body + encodeUint32Base62(crc32(body));
    };
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) => call(app, 'GET', '/indexes', { headers: { 'api-key': wrong(i), ...forwarded('x', `10.4.0.${i}`) } })),
    );
    const counts = replies.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
    expect(counts).toEqual({ 401: KEY_ID_LIMIT, 429: 40 - KEY_ID_LIMIT });
    const locked = await call(app, 'GET', '/indexes', { headers: { 'api-key': target, ...forwarded('x', '10.4.1.1') } });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // The warm key's synchronous path on the data plane refuses it too.
    const lockedDataPlane = await dataPlane();
    expect(lockedDataPlane.status).toBe(429);
    expect(lockedDataPlane.body).toMatchObject({ code: 8 });
    expect((await call(app, 'GET', '/indexes', { headers: { 'api-key': bystander, ...forwarded('x', '10.4.0.1') } })).status).toBe(200);
  });
});

describe('with no trusted proxy (the default)', () => {
  const runtime = testRuntime();
  let app: NestFastifyApplication;
  let tenant: Tenant;

  beforeAll(async () => {
    app = await startGateway(runtime);
    tenant = await createTenant(app, runtime, 'direct');
  });
  afterAll(async () => {
    await app?.close();
  });

  it('X-Forwarded-For is ignored: the TCP peer is the client address', async () => {
    expect((await call(app, 'POST', '/oauth/token', { body: tokenBody(tenant, tenant.clientSecret), headers: { 'x-forwarded-for': '203.0.113.9' } })).status).toBe(200);
    const event = await app.get(PrismaService).auditEvent.findFirst({ where: { organizationId: tenant.organizationId, action: 'oauth.token' } });
    expect(event?.clientAddress).toBe('127.0.0.1');
  });
});
