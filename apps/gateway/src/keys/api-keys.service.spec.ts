// ApiKeysService rules with an in-memory repository: announcements only after the repository call returned
// (i.e. after commit), none for a rename, rotation expiry arithmetic, 404 across organizations.
import { describe, expect, it } from '@jest/globals';
import { FailedPreconditionError, NotFoundError } from '@conifer/contracts';
import { parseApiKey, verifySecret } from '@conifer/keys';
import { pino } from 'pino';
import type { AdminContext } from '../admin-auth/admin-context.js';
import type { AuditEntry } from '../audit/audit.repository.js';
import type { ApiKeyChanges, ApiKeysRepository, NewApiKey, StoredApiKey } from '../auth/api-keys.repository.js';
import { KeyEvents, type KeyChange } from '../auth/key-events.js';
import type { ProjectsRepository } from '../tenants/projects.repository.js';
import { ApiKeysService } from './api-keys.service.js';

const ORG_A = '00000000-0000-4000-8000-00000000000a';
const ORG_B = '00000000-0000-4000-8000-00000000000b';
const PROJECT_A = '10000000-0000-4000-8000-00000000000a';
const pepper = 'unit-pepper';

class FakeKeys {
  readonly rows = new Map<string, StoredApiKey>();
  readonly revocations: { keyId: string; effectiveAt: Date }[] = [];
  readonly audits: AuditEntry[] = [];
  log: string[] = [];

  async findInOrganization(organizationId: string, id: string) {
    const row = this.rows.get(id);
    return row && organizationId === ORG_A ? row : null;
  }
  async listForProject(projectId: string, includeRevoked: boolean) {
    return [...this.rows.values()].filter((r) => r.projectId === projectId && (includeRevoked || r.revokedAt === null));
  }
  async create(key: NewApiKey, audit: AuditEntry) {
    const now = new Date();
    const row: StoredApiKey = { ...key, createdAt: now, updatedAt: now, revokedAt: null, lastUsedAt: null };
    this.rows.set(key.id, row);
    this.audits.push(audit);
    return row;
  }
  async update(id: string, changes: ApiKeyChanges, affects: boolean, at: Date, audit: AuditEntry) {
    const row = this.rows.get(id);
    if (!row || row.revokedAt) return null;
    const next = { ...row, ...changes } as StoredApiKey;
    this.rows.set(id, next);
    if (affects) this.revocations.push({ keyId: row.keyId, effectiveAt: at });
    this.audits.push(audit);
    this.log.push('commit');
    return next;
  }
  async revoke(id: string, at: Date, audit: AuditEntry) {
    const row = this.rows.get(id);
    if (!row || row.revokedAt) return null;
    const next = { ...row, revokedAt: at };
    this.rows.set(id, next);
    this.revocations.push({ keyId: row.keyId, effectiveAt: at });
    this.audits.push(audit);
    this.log.push('commit');
    return next;
  }
  async rotate(oldId: string, successor: NewApiKey, oldExpiresAt: Date, _now: Date, audit: AuditEntry) {
    const row = this.rows.get(oldId)!;
    const previous = { ...row, expiresAt: oldExpiresAt };
    this.rows.set(oldId, previous);
    const created = await this.create(successor, audit);
    this.revocations.push({ keyId: row.keyId, effectiveAt: oldExpiresAt });
    this.log.push('commit');
    return { previous, successor: created };
  }
}

class RecordingEvents extends KeyEvents {
  constructor(private readonly log: string[]) {
    super();
  }
  readonly changes: KeyChange[] = [];
  async keyChanged(change: KeyChange) {
    this.changes.push(change);
    this.log.push(`event:${change.reason}`);
  }
  subscribe() {}
}

function setup() {
  const keys = new FakeKeys();
  const events = new RecordingEvents(keys.log);
  const projects = { findInOrganization: async (org: string, id: string) => (org === ORG_A && id === PROJECT_A ? { id } : null) };
  const service = new ApiKeysService(
    keys as unknown as ApiKeysRepository,
    projects as unknown as ProjectsRepository,
    events,
    { keyPepper: pepper, internalToken: 'i', tokenSecret: 't' },
    pino({ level: 'silent' }),
  );
  const a: AdminContext = { organizationId: ORG_A, actorId: 'sa-a', clientAddress: '10.0.0.1' };
  const b: AdminContext = { organizationId: ORG_B, actorId: 'sa-b', clientAddress: '10.0.0.2' };
  return { keys, events, service, a, b };
}

const request = { name: 'k', roles: ['ProjectEditor' as const], expiresAt: null, scope: { indexes: [], namespaces: [] }, rateLimitPerSecond: null };

describe('ApiKeysService', () => {
  it('mints a key whose value verifies against the stored hash, and audits without the secret', async () => {
    const { service, keys, a } = setup();
    const { key, value } = await service.mint(a, PROJECT_A, request);
    const parsed = parseApiKey(value)!;
    expect(verifySecret(pepper, parsed.keyId, parsed.secret, key.secretHash)).toBe(true);
    expect(key.lastFour).toBe(value.slice(-4));
    expect(JSON.stringify(keys.audits)).not.toContain(parsed.secret);
    expect(keys.audits[0]).toMatchObject({ action: 'api_key.create', actorId: 'sa-a', clientAddress: '10.0.0.1', targetId: key.id });
  });

  it('404 for another organization (mint, get, update, revoke, rotate)', async () => {
    const { service, a, b } = setup();
    const { key } = await service.mint(a, PROJECT_A, request);
    await expect(service.mint(b, PROJECT_A, request)).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.get(b, key.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.update(b, key.id, { name: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.revoke(b, key.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.rotate(b, key.id, { gracePeriodSeconds: 1 })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('announces revocations and rights changes after commit, renames not at all', async () => {
    const { service, keys, events, a } = setup();
    const { key } = await service.mint(a, PROJECT_A, request);
    await service.update(a, key.id, { name: 'renamed' });
    expect(events.changes).toEqual([]);
    expect(keys.revocations).toEqual([]);
    await service.update(a, key.id, { roles: ['ProjectViewer'] });
    await service.revoke(a, key.id);
    expect(keys.log).toEqual(['commit', 'commit', 'event:updated', 'commit', 'event:revoked']);
    expect(keys.revocations.map((r) => r.keyId)).toEqual([key.keyId, key.keyId]);
    await expect(service.revoke(a, key.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.update(a, key.id, { name: 'x' })).rejects.toBeInstanceOf(FailedPreconditionError);
  });

  it('rotation: the old key ends after the grace period, or at its own earlier expiry', async () => {
    const { service, keys, events, a } = setup();
    const { key } = await service.mint(a, PROJECT_A, { ...request, roles: ['DataPlaneViewer'], scope: { indexes: ['i'], namespaces: ['n'] } });
    const before = Date.now();
    const rotated = await service.rotate(a, key.id, { gracePeriodSeconds: 300 });
    expect(rotated.previous.expiresAt!.getTime()).toBeGreaterThanOrEqual(before + 300_000);
    expect(rotated.previous.expiresAt!.getTime()).toBeLessThanOrEqual(Date.now() + 300_000);
    expect(rotated.key).toMatchObject({ roles: ['DataPlaneViewer'], indexScope: ['i'], namespaceScope: ['n'], rotatedFromId: key.id });
    expect(rotated.key.keyId).not.toBe(key.keyId);
    expect(events.changes).toEqual([{ keyId: key.keyId, reason: 'rotated' }]);
    expect(keys.revocations).toEqual([{ keyId: key.keyId, effectiveAt: rotated.previous.expiresAt }]);

    const soon = new Date(Date.now() + 10_000);
    const { key: short } = await service.mint(a, PROJECT_A, { ...request, expiresAt: soon });
    const kept = await service.rotate(a, short.id, { gracePeriodSeconds: 3600 });
    expect(kept.previous.expiresAt).toEqual(soon);
    expect(kept.key.expiresAt).toEqual(soon);
  });

  it('refuses to rotate revoked or expired keys (412)', async () => {
    const { service, keys, a } = setup();
    const { key } = await service.mint(a, PROJECT_A, request);
    keys.rows.set(key.id, { ...keys.rows.get(key.id)!, expiresAt: new Date(Date.now() - 1) });
    await expect(service.rotate(a, key.id, { gracePeriodSeconds: 1 })).rejects.toBeInstanceOf(FailedPreconditionError);
  });

  it('a failed broadcast does not fail the committed revocation', async () => {
    const { service, events, a } = setup();
    const { key } = await service.mint(a, PROJECT_A, request);
    events.keyChanged = async () => {
      throw new Error('redis down');
    };
    await expect(service.revoke(a, key.id)).resolves.toBeUndefined();
  });
});
