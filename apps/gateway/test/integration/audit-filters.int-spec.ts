// GET /admin/audit-events filtered on the server (action, actor, target, from/to) against real Postgres: filters
// combined with keyset paging, tokens bound to their filters, organization scoping kept, bad input 400.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { PrismaService } from '../../src/database/prisma.service.js';
import { call, createTenant, expectErrorShape, login, startGateway, testRuntime, type Tenant } from './admin-fixtures.js';

const runtime = testRuntime();
let app: NestFastifyApplication;
let prisma: PrismaService;
let acme: Tenant;
let globex: Tenant;
let acmeToken: string;
let globexToken: string;
const projects: string[] = [];
let keyId: string;

interface Event {
  id: string;
  action: string;
  actor_type: string;
  actor_id: string | null;
  target_type: string;
  target_id: string | null;
  created_at: string;
}

/** Every page of a query, following pagination.next with the same filters. */
async function allPages(token: string, query: Record<string, string>, limit = 2): Promise<{ events: Event[]; pages: number }> {
  const events: Event[] = [];
  let next: string | undefined;
  let pages = 0;
  do {
    const params = new URLSearchParams({ ...query, limit: String(limit), ...(next ? { pagination_token: next } : {}) });
    const reply = await call(app, 'GET', `/admin/audit-events?${params}`, { token });
    if (reply.status !== 200) throw new Error(`${reply.status} ${JSON.stringify(reply.body)}`);
    expect(reply.body.data.length).toBeLessThanOrEqual(limit);
    events.push(...reply.body.data);
    next = reply.body.pagination?.next;
    pages++;
  } while (next && pages < 50);
  return { events, pages };
}

function newestFirst(events: Event[]): boolean {
  return events.every((e, i) => i === 0 || BigInt(events[i - 1]!.id) > BigInt(e.id));
}

beforeAll(async () => {
  app = await startGateway(runtime);
  prisma = app.get(PrismaService);
  acme = await createTenant(app, runtime, 'acme-audit');
  globex = await createTenant(app, runtime, 'globex-audit');
  acmeToken = await login(app, acme);
  globexToken = await login(app, globex);
  // Interleave matching and non-matching events: 5 project.create, 3 project.update, key events in between.
  for (let i = 0; i < 5; i++) {
    const project = (await call(app, 'POST', '/admin/projects', { token: acmeToken, body: { name: `p${i}` } })).body;
    projects.push(project.id);
    if (i < 3) await call(app, 'PATCH', `/admin/projects/${project.id}`, { token: acmeToken, body: { name: `renamed${i}` } });
  }
  const minted = (await call(app, 'POST', `/admin/projects/${projects[0]}/api-keys`, { token: acmeToken, body: { name: 'k' } })).body;
  keyId = minted.key.id;
  await call(app, 'PATCH', `/admin/api-keys/${keyId}`, { token: acmeToken, body: { roles: ['ProjectViewer'] } });
  await call(app, 'DELETE', `/admin/api-keys/${keyId}`, { token: acmeToken });
  // globex has project.create events of its own.
  await call(app, 'POST', '/admin/projects', { token: globexToken, body: { name: 'g' } });
  // Events of another actor at known times (a system job), written as the gateway's own jobs would write them.
  for (const [hour, action] of [[1, 'system.cleanup'], [2, 'system.cleanup'], [3, 'system.cleanup'], [4, 'system.other']] as const) {
    await prisma.auditEvent.create({
      data: {
        organizationId: acme.organizationId,
        actorType: 'system',
        actorId: 'janitor',
        action,
        targetType: 'organization',
        targetId: acme.organizationId,
        createdAt: new Date(Date.UTC(2020, 0, 1, hour)),
      },
    });
  }
});

afterAll(async () => {
  await app?.close();
});

describe('GET /admin/audit-events filters', () => {
  it('action (exact) pages through only the matching events, newest first, all of the organization', async () => {
    const { events, pages } = await allPages(acmeToken, { action: 'project.create' });
    expect(events.map((e) => e.target_id)).toEqual([...projects].reverse());
    expect(events.every((e) => e.action === 'project.create')).toBe(true);
    expect(newestFirst(events)).toBe(true);
    expect(pages).toBe(3);
    // A prefix is not a match.
    expect((await allPages(acmeToken, { action: 'project' })).events).toEqual([]);
  });

  it('target_type and target_id', async () => {
    const byKey = await allPages(acmeToken, { target_type: 'api_key', target_id: keyId });
    expect(byKey.events.map((e) => e.action)).toEqual(['api_key.revoke', 'api_key.update', 'api_key.create']);
    const byProject = await allPages(acmeToken, { target_id: projects[1]! });
    expect(byProject.events.map((e) => e.action)).toEqual(['project.update', 'project.create']);
    const updates = await allPages(acmeToken, { target_type: 'project', action: 'project.update' }, 1);
    expect(updates.events.map((e) => e.target_id)).toEqual([projects[2], projects[1], projects[0]]);
  });

  it('actor_id and actor_type', async () => {
    const mine = await allPages(acmeToken, { actor_id: acme.serviceAccountId }, 100);
    expect(mine.events.length).toBe(1 + 5 + 3 + 3); // oauth.token, 5 creates, 3 renames, 3 key events
    expect(mine.events.every((e) => e.actor_id === acme.serviceAccountId && e.actor_type === 'service_account')).toBe(true);
    const system = await allPages(acmeToken, { actor_type: 'system', actor_id: 'janitor' });
    expect(system.events.map((e) => e.action)).toEqual(['system.other', 'system.cleanup', 'system.cleanup', 'system.cleanup']);
    // Another organization's actor id finds nothing here.
    expect((await allPages(acmeToken, { actor_id: globex.serviceAccountId })).events).toEqual([]);
  });

  it('from (inclusive) and to (exclusive), ISO 8601 with zones, combined with action and paging', async () => {
    const range = await allPages(acmeToken, { from: '2020-01-01T02:00:00Z', to: '2020-01-01T04:00:00Z' }, 1);
    expect(range.events.map((e) => e.created_at)).toEqual(['2020-01-01T03:00:00.000Z', '2020-01-01T02:00:00.000Z']);
    const offset = await allPages(acmeToken, { from: '2020-01-01T03:00:00+02:00', action: 'system.cleanup' });
    expect(offset.events.map((e) => e.created_at)).toEqual(['2020-01-01T03:00:00.000Z', '2020-01-01T02:00:00.000Z', '2020-01-01T01:00:00.000Z']);
    const day = await allPages(acmeToken, { from: '2020-01-01', to: '2020-01-02' }, 100);
    expect(day.events.length).toBe(4);
    // Everything today's API calls wrote is after 2021; nothing from 2020 comes back with from=2021.
    const recent = await allPages(acmeToken, { from: '2021-01-01' }, 100);
    expect(recent.events.some((e) => e.actor_id === 'janitor')).toBe(false);
    expect(recent.events.length).toBe(12);
  });

  it('a token is only accepted with the filters it was issued for (400 otherwise)', async () => {
    const first = await call(app, 'GET', '/admin/audit-events?action=project.create&limit=2', { token: acmeToken });
    const next = first.body.pagination.next as string;
    const same = await call(app, 'GET', `/admin/audit-events?action=project.create&limit=2&pagination_token=${encodeURIComponent(next)}`, { token: acmeToken });
    expect(same.status).toBe(200);
    expect(same.body.data.map((e: Event) => e.target_id)).toEqual([projects[2], projects[1]]);
    for (const url of [
      `/admin/audit-events?action=project.update&limit=2&pagination_token=${encodeURIComponent(next)}`,
      `/admin/audit-events?limit=2&pagination_token=${encodeURIComponent(next)}`,
      `/admin/audit-events?action=project.create&target_type=project&pagination_token=${encodeURIComponent(next)}`,
    ]) {
      expectErrorShape(await call(app, 'GET', url, { token: acmeToken }), 400, 'INVALID_ARGUMENT');
    }
    // An unfiltered token does not open a filtered query either.
    const plain = await call(app, 'GET', '/admin/audit-events?limit=1', { token: acmeToken });
    expectErrorShape(await call(app, 'GET', `/admin/audit-events?action=project.create&pagination_token=${encodeURIComponent(plain.body.pagination.next)}`, { token: acmeToken }), 400, 'INVALID_ARGUMENT');
  });

  it("another organization's token and filters never show acme's rows", async () => {
    const first = await call(app, 'GET', '/admin/audit-events?action=project.create&limit=1', { token: acmeToken });
    const next = first.body.pagination.next as string;
    const reply = await call(app, 'GET', `/admin/audit-events?action=project.create&limit=100&pagination_token=${encodeURIComponent(next)}`, { token: globexToken });
    expect(reply.status).toBe(200);
    // Acme's cursor only moves globex's window; globex's one project.create was written after it, so nothing is left.
    expect(reply.body.data).toEqual([]);
    const own = await call(app, 'GET', '/admin/audit-events?action=project.create&limit=100', { token: globexToken });
    expect(own.body.data.map((e: Event) => e.actor_id)).toEqual([globex.serviceAccountId]);
    expect(own.body.data.some((e: Event) => projects.includes(e.target_id ?? ''))).toBe(false);
    // An acme cursor newer than every globex row (acme's system rows were written last), with the same filters:
    // globex sees its own rows below the cursor, never acme's.
    const newest = await call(app, 'GET', '/admin/audit-events?from=2000-01-01&limit=1', { token: acmeToken });
    expect(newest.body.data[0].actor_id).toBe('janitor');
    const cursor = newest.body.pagination.next as string;
    const foreign = await call(app, 'GET', `/admin/audit-events?from=2000-01-01&limit=100&pagination_token=${encodeURIComponent(cursor)}`, { token: globexToken });
    expect(foreign.status).toBe(200);
    expect(foreign.body.data.map((e: Event) => e.action).sort()).toEqual(['oauth.token', 'project.create']);
    expect(foreign.body.data.every((e: Event) => e.actor_id === globex.serviceAccountId)).toBe(true);
    const byTarget = await call(app, 'GET', `/admin/audit-events?target_id=${projects[0]}`, { token: globexToken });
    expect(byTarget.body.data).toEqual([]);
    const byActor = await call(app, 'GET', `/admin/audit-events?actor_id=${acme.serviceAccountId}`, { token: globexToken });
    expect(byActor.body.data).toEqual([]);
  });

  it('400 in Pinecone\'s shape for bad filters', async () => {
    for (const query of [
      'from=yesterday',
      'from=2026-02-30',
      'to=2026-12-05T10:00:00',
      'to=2026-12-05T24:30:00Z',
      'from=2026-12-06&to=2026-12-05',
      'from=2026-12-05&to=2026-12-05',
      'action=a&action=b',
      `target_id=${'x'.repeat(300)}`,
      'actor_id=%00',
    ]) {
      const reply = await call(app, 'GET', `/admin/audit-events?${query}`, { token: acmeToken });
      try {
        expectErrorShape(reply, 400, 'INVALID_ARGUMENT');
      } catch (err) {
        throw new Error(`${query}: ${(err as Error).message}`);
      }
    }
  });
});
