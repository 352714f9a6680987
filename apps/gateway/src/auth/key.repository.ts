// The only Prisma access of the auth module: one key by its public id (the per-request lookup on a cache
// miss) and the key_revocations sequence that every replica polls as the durable revocation backstop.
import { Inject, Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service.js';
import type { RevocationRow, StoredKey } from './stored-key.js';

const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

@Injectable()
export class KeyRepository {
  constructor(@Inject(PrismaService) private readonly prisma: PrismaService) {}

  /** The key with this public id, or null. Keys die with their project (FK cascade), so a row means the project exists. */
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

  /** Highest sequence number recorded so far (0 when none). */
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
}
