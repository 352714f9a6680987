// The admin CLI against a gateway on a real port: login from environment or flags, projects, keys (create,
// list as a table, rotate, revoke), service accounts, audit; exit codes for usage and request errors.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { parseApiKey } from '@conifer/keys';
import { runCli, type CliIo } from '../../src/cli/conifer-admin.js';
import { baseUrl, createTenant, startGateway, testRuntime, type Tenant } from './admin-fixtures.js';

const runtime = testRuntime();
let app: NestFastifyApplication;
let tenant: Tenant;
let env: Record<string, string>;

beforeAll(async () => {
  app = await startGateway(runtime);
  tenant = await createTenant(app, runtime, 'cli');
  env = { CONIFER_ADMIN_URL: baseUrl(app), CONIFER_CLIENT_ID: tenant.clientId, CONIFER_CLIENT_SECRET: tenant.clientSecret };
});
afterAll(async () => {
  await app?.close();
});

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string; json: any }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), fetch: globalThis.fetch };
  const code = await runCli(argv, env, io);
  let json: unknown;
  try {
    json = JSON.parse(out.join('\n'));
  } catch {
    json = undefined;
  }
  return { code, out: out.join('\n'), err: err.join('\n'), json };
}

describe('conifer-admin', () => {
  it('manages projects and keys end to end', async () => {
    const project = await run('projects', 'create', 'cli-project', '--max-pods', '3');
    expect(project.code).toBe(0);
    expect(project.json).toMatchObject({ name: 'cli-project', max_pods: 3, organization_id: tenant.organizationId });
    const projectId = project.json.id as string;

    const created = await run('keys', 'create', projectId, '--name', 'deploy', '--roles', 'DataPlaneEditor,ControlPlaneViewer', '--indexes', 'docs', '--namespaces', 'a,b', '--rate-limit', '20', '--expires-in', '3600');
    expect(created.code).toBe(0);
    expect(parseApiKey(created.json.value)).not.toBeNull();
    expect(created.json.key).toMatchObject({ name: 'deploy', roles: ['DataPlaneEditor', 'ControlPlaneViewer'], scope: { indexes: ['docs'], namespaces: ['a', 'b'] }, rate_limit_per_second: 20 });
    const keyId = created.json.key.id as string;

    const table = await run('keys', 'list', projectId, '-o', 'table');
    expect(table.code).toBe(0);
    const [header, row] = table.out.split('\n');
    expect(header).toMatch(/^ID\s+NAME\s+ROLES\s+STATUS\s+LAST_FOUR/);
    expect(row).toContain(keyId);
    expect(row).toContain('active');
    expect(table.out).not.toContain(created.json.value);

    const updated = await run('keys', 'update', keyId, '--roles', 'ProjectViewer', '--rate-limit', 'none', '--no-expiry');
    expect(updated.json).toMatchObject({ roles: ['ProjectViewer'], rate_limit_per_second: null, expires_at: null });

    const rotated = await run('keys', 'rotate', keyId, '--grace', '60');
    expect(rotated.code).toBe(0);
    expect(rotated.json.previous_key.id).toBe(keyId);
    expect(rotated.json.key.rotated_from_id).toBe(keyId);

    expect((await run('keys', 'revoke', rotated.json.key.id)).code).toBe(0);
    const described = await run('keys', 'get', rotated.json.key.id);
    expect(described.json.status).toBe('revoked');

    // No indexes: deleted with its keys, no --force needed (as at Pinecone).
    expect((await run('projects', 'delete', projectId)).code).toBe(0);
    expect((await run('projects', 'get', projectId)).err).toContain('404 NOT_FOUND');

    const audit = await run('audit', '--limit', '2', '--all');
    expect(audit.code).toBe(0);
    // Every CLI invocation logs in (oauth.token); the rest is the trail of the commands above.
    const actions = audit.json.data.map((e: { action: string }) => e.action).filter((a: string) => !a.startsWith('oauth.'));
    expect(actions.slice(0, 3)).toEqual(['project.delete', 'api_key.revoke', 'api_key.revoke']);
    expect(actions).toContain('api_key.rotate');
    // Filters go to the API; --all pages through the filtered results with the same filters.
    const revokes = await run('audit', '--action', 'api_key.revoke', '--from', '2000-01-01', '--limit', '1', '--all');
    expect(revokes.code).toBe(0);
    expect(revokes.json.data.map((e: { action: string }) => e.action)).toEqual(['api_key.revoke', 'api_key.revoke']);
    const badTime = await run('audit', '--from', 'yesterday');
    expect(badTime.code).toBe(1);
    expect(badTime.err).toContain('400 INVALID_ARGUMENT');
  });

  it('creates a service account whose credentials work with flags instead of the environment', async () => {
    const created = await run('service-accounts', 'create', 'ops');
    expect(created.code).toBe(0);
    const { client_id: clientId, client_secret: clientSecret } = created.json;
    const saved = env;
    env = { CONIFER_ADMIN_URL: baseUrl(app) };
    try {
      const listed = await run('service-accounts', 'list', '--client-id', clientId, '--client-secret', clientSecret, '-o', 'table');
      expect(listed.code).toBe(0);
      expect(listed.out).toContain(clientId);
      expect(listed.out).not.toContain(clientSecret);
      expect((await run('login', '--client-id', clientId, '--client-secret', 'wrong')).err).toContain('401 UNAUTHENTICATED');
      expect((await run('projects', 'list')).code).toBe(2);
    } finally {
      env = saved;
    }
  });

  it('exit 2 with usage for unknown commands, flags and bad numbers', async () => {
    expect((await run('frobnicate')).code).toBe(2);
    expect((await run('projects', 'list', '--bogus')).code).toBe(2);
    expect((await run('keys', 'create', 'x', '--name', 'n', '--rate-limit', 'ten')).code).toBe(2);
    expect((await run('keys', 'create', 'x')).err).toContain('--name');
    expect((await run('--help')).code).toBe(0);
  });
});
