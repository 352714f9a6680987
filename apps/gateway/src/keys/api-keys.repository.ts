// API keys in Postgres. Every change that affects validation (revoke, update of rights, rotation) writes a
// key_revocations row in the same transaction (the durable backstop replicas poll); the service announces the
// change through KeyEvents only after the transaction has committed.
import { Inject, Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service.js';
import { insertAuditEvent, type AuditEntry, type Tx } from '../admin/audit.repository.js';

/** What minting writes: the key's rights and identity, never the key itself (only its HMAC). */
export interface NewApiKey {
  /** Admin API id (UUID). */
  readonly id: string;
  /** Public id embedded in the key string; the per-request lookup key. */
  readonly keyId: string;
  readonly projectId: string;
  readonly name: string;
  readonly secretHash: string;
  readonly lastFour: string;
  readonly roles: readonly string[];
  readonly indexScope: readonly string[];
  readonly namespaceScope: readonly string[];
  readonly rateLimitPerSecond: number | null;
  readonly createdBy: string | null;
  readonly expiresAt: Date | null;
  readonly rotatedFromId: string | null;
}

export interface StoredApiKey extends NewApiKey {
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly revokedAt: Date | null;
  readonly lastUsedAt: Date | null;
}

export interface ApiKeyChanges {
  readonly name?: string;
  readonly roles?: readonly string[];
  readonly indexScope?: readonly string[];
  readonly namespaceScope?: readonly string[];
  readonly rateLimitPerSecond?: number | null;
  readonly expiresAt?: Date | null;
}

type Row = {
  id: string;
  keyId: string;
  projectId: string;
  name: string;
  secretHash: string;
  lastFour: string;
  roles: string[];
  indexScope: string[];
  namespaceScope: string[];
  rateLimitPerSecond: number | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  rotatedFromId: string | null;
};

function toStoredApiKey(row: Row): StoredApiKey {
  return {
    id: row.id,
    keyId: row.keyId,
    projectId: row.projectId,
    name: row.name,
    secretHash: row.secretHash,
    lastFour: row.lastFour,
    roles: row.roles ?? [],
    indexScope: row.indexScope ?? [],
    namespaceScope: row.namespaceScope ?? [],
    rateLimitPerSecond: row.rateLimitPerSecond,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    lastUsedAt: row.lastUsedAt,
    rotatedFromId: row.rotatedFromId,
  };
}

function createData(key: NewApiKey) {
  return {
    ...key,
    roles: [...key.roles],
    indexScope: [...key.indexScope],
    namespaceScope: [...key.namespaceScope],
  };
}

/** Records that a key's validity changed, effective at `effectiveAt` (now, or the end of a rotation's grace). */
export async function insertKeyRevocation(tx: Tx, keyId: string, effectiveAt: Date): Promise<void> {
  await tx.keyRevocation.create({ data: { keyId, effectiveAt } });
}

@Injectable()
export class ApiKeysRepository {
  constructor(@Inject(PrismaService) private readonly prisma: PrismaService) {}

  /** The key if its project belongs to the organization (revoked keys included). */
  async findInOrganization(organizationId: string, id: string): Promise<StoredApiKey | null> {
    const row = await this.prisma.apiKey.findFirst({ where: { id, project: { organizationId } } });
    return row ? toStoredApiKey(row) : null;
  }

  /** Per-request lookup by public key id (for the verification path). */
  async findByKeyId(keyId: string): Promise<StoredApiKey | null> {
    const row = await this.prisma.apiKey.findUnique({ where: { keyId } });
    return row ? toStoredApiKey(row) : null;
  }

  async listForProject(projectId: string, includeRevoked: boolean): Promise<StoredApiKey[]> {
    const rows = await this.prisma.apiKey.findMany({
      where: { projectId, ...(includeRevoked ? {} : { revokedAt: null }) },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    return rows.map(toStoredApiKey);
  }

  async create(key: NewApiKey, audit: AuditEntry): Promise<StoredApiKey> {
    return this.prisma.$transaction(async (tx) => {
      const row = await tx.apiKey.create({ data: createData(key) });
      await insertAuditEvent(tx, audit);
      return toStoredApiKey(row);
    });
  }

  /**
   * Applies changes to a key that is not revoked; null when it is revoked or gone. `check` sees the row (locked,
   * so a rotation cannot slip in between) and whether it was rotated, and may refuse by throwing.
   */
  async update(
    id: string,
    changes: ApiKeyChanges,
    affectsValidation: boolean,
    at: Date,
    audit: AuditEntry,
    check?: (current: StoredApiKey, rotated: boolean) => void,
  ): Promise<StoredApiKey | null> {
    return this.prisma.$transaction(async (tx) => {
      if (check) {
        await tx.$executeRaw`SELECT 1 FROM api_keys WHERE id = ${id}::uuid FOR UPDATE`;
        const current = await tx.apiKey.findUnique({ where: { id } });
        if (current) check(toStoredApiKey(current), (await tx.apiKey.count({ where: { rotatedFromId: id } })) > 0);
      }
      const data = {
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        ...(changes.roles !== undefined ? { roles: [...changes.roles] } : {}),
        ...(changes.indexScope !== undefined ? { indexScope: [...changes.indexScope] } : {}),
        ...(changes.namespaceScope !== undefined ? { namespaceScope: [...changes.namespaceScope] } : {}),
        ...(changes.rateLimitPerSecond !== undefined ? { rateLimitPerSecond: changes.rateLimitPerSecond } : {}),
        ...(changes.expiresAt !== undefined ? { expiresAt: changes.expiresAt } : {}),
      };
      const { count } = await tx.apiKey.updateMany({ where: { id, revokedAt: null }, data });
      if (count === 0) return null;
      const row = await tx.apiKey.findUniqueOrThrow({ where: { id } });
      if (affectsValidation) await insertKeyRevocation(tx, row.keyId, at);
      await insertAuditEvent(tx, audit);
      return toStoredApiKey(row);
    });
  }

  /** Sets revokedAt (the row stays for the audit trail); null when already revoked or gone. */
  async revoke(id: string, at: Date, audit: AuditEntry): Promise<StoredApiKey | null> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: at } });
      if (count === 0) return null;
      const row = await tx.apiKey.findUniqueOrThrow({ where: { id } });
      await insertKeyRevocation(tx, row.keyId, at);
      await insertAuditEvent(tx, audit);
      return toStoredApiKey(row);
    });
  }

  /**
   * Mints the successor and sets the old key's expiry to the end of the grace period (never later than it
   * already was), if the old key is still valid at `now`. Null when it is not (revoked, expired or gone).
   */
  async rotate(
    oldId: string,
    successor: NewApiKey,
    oldExpiresAt: Date,
    now: Date,
    audit: AuditEntry,
  ): Promise<{ previous: StoredApiKey; successor: StoredApiKey } | null> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.apiKey.updateMany({
        where: { id: oldId, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
        data: { expiresAt: oldExpiresAt },
      });
      if (count === 0) return null;
      const previous = await tx.apiKey.findUniqueOrThrow({ where: { id: oldId } });
      const created = await tx.apiKey.create({ data: createData(successor) });
      await insertKeyRevocation(tx, previous.keyId, oldExpiresAt);
      await insertAuditEvent(tx, audit);
      return { previous: toStoredApiKey(previous), successor: toStoredApiKey(created) };
    });
  }
}
