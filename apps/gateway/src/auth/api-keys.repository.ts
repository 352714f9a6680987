// API keys in Postgres: the only repository of api_keys and key_revocations. The verification path reads one
// key by its public id (on a cache miss) and polls key_revocations (the durable revocation backstop); key
// administration writes. Every change that affects validation (revoke, update of rights, rotation, a project's
// deletion) writes a key_revocations row in the same transaction; the caller announces the change through
// KeyEvents only after the transaction has committed.
import { Inject, Injectable } from '@nestjs/common';
import { insertAuditEvent, type AuditEntry } from '../audit/audit.repository.js';
import { PrismaService } from '../database/prisma.service.js';
import type { Tx } from '../database/tx.js';
import type { RevocationRow, StoredKey } from './stored-key.js';

const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

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
async function insertKeyRevocation(tx: Tx, keyId: string, effectiveAt: Date): Promise<void> {
  await tx.keyRevocation.create({ data: { keyId, effectiveAt } });
}

/** A key revoked as part of a project deletion (for the events sent after commit). */
export interface RevokedKey {
  readonly id: string;
  readonly keyId: string;
}

/** Keys of the project neither revoked nor expired at `now` (a project with live keys is in use). */
export async function countLiveKeys(tx: Tx, projectId: string, now: Date): Promise<number> {
  return tx.apiKey.count({ where: { projectId, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] } });
}

/** Revokes every unrevoked key of the project inside `tx`: revokedAt, key_revocations row, audit row each. */
export async function revokeProjectKeys(
  tx: Tx,
  projectId: string,
  at: Date,
  auditFor: (key: RevokedKey) => AuditEntry,
): Promise<RevokedKey[]> {
  const keys = await tx.apiKey.findMany({ where: { projectId, revokedAt: null }, select: { id: true, keyId: true } });
  if (keys.length === 0) return [];
  await tx.apiKey.updateMany({ where: { id: { in: keys.map((k) => k.id) } }, data: { revokedAt: at } });
  for (const key of keys) {
    await insertKeyRevocation(tx, key.keyId, at);
    await insertAuditEvent(tx, auditFor(key));
  }
  return keys;
}

@Injectable()
export class ApiKeysRepository {
  constructor(@Inject(PrismaService) private readonly prisma: PrismaService) {}

  /** The key if its project belongs to the organization (revoked keys included). */
  async findInOrganization(organizationId: string, id: string): Promise<StoredApiKey | null> {
    const row = await this.prisma.apiKey.findFirst({ where: { id, project: { organizationId } } });
    return row ? toStoredApiKey(row) : null;
  }

  /**
   * The verification path's lookup on a cache miss: the key with this public id, or null. Keys die with their
   * project (FK cascade), so a row means the project exists.
   */
  async findByKeyId(keyId: string): Promise<StoredKey | null> {
    const row = await this.prisma.apiKey.findUnique({
      where: { keyId },
      select: {
        id: true,
        keyId: true,
        projectId: true,
        secretHash: true,
        roles: true,
        indexScope: true,
        namespaceScope: true,
        rateLimitPerSecond: true,
        expiresAt: true,
        revokedAt: true,
      },
    });
    if (!row) return null;
    return {
      id: row.id,
      keyId: row.keyId,
      projectId: row.projectId,
      secretHash: row.secretHash,
      roles: row.roles,
      indexScope: row.indexScope,
      namespaceScope: row.namespaceScope,
      rateLimitPerSecond: row.rateLimitPerSecond,
      expiresAt: row.expiresAt ? row.expiresAt.getTime() : null,
      revokedAt: row.revokedAt ? row.revokedAt.getTime() : null,
    };
  }

  /** Highest key_revocations sequence number recorded so far (0 when none). */
  async latestRevocationSeq(): Promise<bigint> {
    const rows = await this.prisma.$queryRaw<{ seq: bigint | null }[]>`SELECT max(seq) AS seq FROM key_revocations`;
    return BigInt(rows[0]?.seq ?? 0);
  }

  /**
   * Rows after `afterSeq`, plus the rows whose numbers were still missing (gaps: a transaction that took its
   * number earlier may commit later). A catalog id in key_id is mapped to the key's public id when it exists.
   */
  async revocationsAfter(afterSeq: bigint, gaps: readonly bigint[] = []): Promise<RevocationRow[]> {
    const rows = await this.prisma.$queryRaw<{ seq: bigint; key_id: string; public_key_id: string | null }[]>`
      SELECT r.seq, r.key_id, k.key_id AS public_key_id
      FROM key_revocations r
      LEFT JOIN api_keys k ON k.id = (CASE WHEN r.key_id ~* ${UUID_PATTERN} THEN r.key_id::uuid END)
      WHERE r.seq > ${afterSeq} OR r.seq = ANY(${gaps.map(String)}::bigint[])
      ORDER BY r.seq
      LIMIT 10000`;
    return rows.map((row) => ({ seq: BigInt(row.seq), keyId: row.public_key_id ?? row.key_id }));
  }

  /**
   * The batched last-used write: `entries` maps public key id → last use seen; one UPDATE, never moving a
   * timestamp backwards. Returns the number of rows updated.
   */
  async writeLastUsed(entries: ReadonlyMap<string, Date>): Promise<number> {
    if (entries.size === 0) return 0;
    const keyIds = [...entries.keys()];
    const times = keyIds.map((keyId) => entries.get(keyId)!.toISOString());
    return this.prisma.$executeRaw`
      UPDATE api_keys AS k
         SET last_used_at = GREATEST(k.last_used_at, u.used_at)
        FROM unnest(${keyIds}::text[], ${times}::timestamptz[]) AS u(key_id, used_at)
       WHERE k.key_id = u.key_id`;
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
