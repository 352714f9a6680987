// First start: the bootstrap service account's printed curl lines must work, as printed, against the admin API.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { freePort } from '@conifer/test-utils';
import { parseApiKey } from '@conifer/keys';
import { ensureBootstrapAdmin } from '../../src/bootstrap/bootstrap-admin.js';
import { createGatewayApp } from '../../src/app.js';
import { PrismaService } from '../../src/database/prisma.service.js';
import { call, logger, login, startGateway, testRuntime } from './admin-fixtures.js';

describe('bootstrap admin', () => {
  let app: NestFastifyApplication;
  let port: number;
  const runtime = (async () => {
    port = await freePort();
    return testRuntime({ CONIFER_GATEWAY_PORT: String(port), CONIFER_PUBLIC_URL: `http://127.0.0.1:${port}` });
  })();

  beforeAll(async () => {
    const resolved = await runtime;
    app = await createGatewayApp(resolved, logger);
    await app.listen({ port, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('prints credentials once and curl lines that mint a first key', async () => {
    const resolved = await runtime;
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    let result;
    try {
      result = await ensureBootstrapAdmin(app, resolved.config, logger);
    } finally {
      spy.mockRestore();
    }
    expect(result.created).toBe(true);
    const banner = written.join('');
    expect(banner).toContain(result.clientSecret!);
    expect(banner).toMatch(/Operator console: http\S+\/console\/ /);
    const lines = banner.split('\n').map((line) => line.trim());
    const tokenLine = lines.find((line) => line.startsWith('TOKEN=$(curl'))!;
    const mintLine = lines.find((line) => line.startsWith('curl ') && line.includes('/api-keys'))!;
    expect(tokenLine).toBeDefined();
    expect(mintLine).toContain(`/admin/projects/${result.projectId}/api-keys`);

    // Asynchronously: the gateway answering curl runs in this process.
    const { stdout: output } = await promisify(execFile)('bash', ['-c', `set -e\n${tokenLine}\n${mintLine}`], { encoding: 'utf8', timeout: 20_000 });
    const minted = JSON.parse(output) as { key: { project_id: string; roles: string[] }; value: string };
    expect(minted.key.project_id).toBe(result.projectId);
    expect(minted.key.roles).toEqual(['ProjectEditor']);
    expect(parseApiKey(minted.value)).not.toBeNull();
    const events = await app.get(PrismaService).auditEvent.findMany({ where: { organizationId: result.organizationId }, orderBy: { id: 'asc' } });
    expect(events.map((e) => e.action)).toEqual(['service_account.bootstrap', 'oauth.token', 'api_key.create']);

    // A second start finds the account and prints nothing.
    const again: string[] = [];
    const spy2 = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      again.push(String(chunk));
      return true;
    });
    try {
      expect((await ensureBootstrapAdmin(app, resolved.config, logger)).created).toBe(false);
    } finally {
      spy2.mockRestore();
    }
    expect(again.join('')).not.toContain(result.clientSecret!);
  });

  it('configured credentials: created without printing, then kept in sync with a changed secret', async () => {
    const clientId = `sa-configured-${Date.now()}`;
    const first = testRuntime({ CONIFER_BOOTSTRAP_CLIENT_ID: clientId, CONIFER_BOOTSTRAP_CLIENT_SECRET: 'first-secret-0123456789' });
    const gateway = await startGateway(first);
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const created = await ensureBootstrapAdmin(gateway, first.config, logger);
      expect(created).toMatchObject({ created: true, clientId, clientSecret: undefined });
      const second = testRuntime({ CONIFER_BOOTSTRAP_CLIENT_ID: clientId, CONIFER_BOOTSTRAP_CLIENT_SECRET: 'second-secret-0123456789' });
      expect((await ensureBootstrapAdmin(gateway, second.config, logger)).created).toBe(false);
    } finally {
      spy.mockRestore();
      await gateway.close();
    }
    expect(written.join('')).not.toContain('secret-0123456789');
    const bad = await call(app, 'POST', '/oauth/token', { body: { grant_type: 'client_credentials', client_id: clientId, client_secret: 'first-secret-0123456789' } });
    expect(bad.status).toBe(401);
    const token = await login(app, { clientId, clientSecret: 'second-secret-0123456789' });
    expect((await call(app, 'GET', '/admin/projects', { token })).body.data.map((p: { name: string }) => p.name)).toContain('default');
  });
  it('a deleted bootstrap account stays deleted when a gateway starts again with the same environment', async () => {
    const clientId = `sa-deleted-${Date.now()}`;
    const clientSecret = 'deleted-secret-0123456789';
    const env = testRuntime({ CONIFER_BOOTSTRAP_CLIENT_ID: clientId, CONIFER_BOOTSTRAP_CLIENT_SECRET: clientSecret });
    const created = await ensureBootstrapAdmin(app, env.config, logger);
    expect(created.created).toBe(true);
    const token = await login(app, { clientId, clientSecret });
    // A second administrator, then the bootstrap account is deleted.
    const other = await call(app, 'POST', '/admin/service-accounts', { token, body: { name: 'ops' } });
    expect(other.status).toBe(201);
    const otherToken = await login(app, { clientId: other.body.client_id, clientSecret: other.body.client_secret });
    const accounts = await call(app, 'GET', '/admin/service-accounts', { token: otherToken });
    const bootstrap = accounts.body.data.find((a: { client_id: string }) => a.client_id === clientId);
    expect((await call(app, 'DELETE', `/admin/service-accounts/${bootstrap.id}`, { token: otherToken })).status).toBe(202);
    const prisma = app.get(PrismaService);
    const eventsBefore = await prisma.auditEvent.count({ where: { organizationId: created.organizationId } });

    const again = await ensureBootstrapAdmin(app, env.config, logger);
    expect(again).toMatchObject({ created: false, deleted: true, clientId });
    const refused = await call(app, 'POST', '/oauth/token', { body: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret } });
    expect(refused.status).toBe(401);
    expect((await prisma.serviceAccount.findUnique({ where: { clientId } }))?.revokedAt).not.toBeNull();
    // Only the refused login was recorded; nothing was re-enabled behind the operator's back.
    const actions = (await prisma.auditEvent.findMany({ where: { organizationId: created.organizationId }, orderBy: { id: 'asc' }, skip: eventsBefore })).map((e) => e.action);
    expect(actions).not.toContain('service_account.bootstrap');
  });
});
