// Batched write of api_keys.last_used_at: one UPDATE per flush, never moving a timestamp backwards.
import { Inject, Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service.js';

@Injectable()
export class LastUsedRepository {
  constructor(@Inject(PrismaService) private readonly prisma: PrismaService) {}

  /** `entries`: public key id → last use seen. Returns the number of rows updated. */
  async write(entries: ReadonlyMap<string, Date>): Promise<number> {
    if (entries.size === 0) return 0;
    const keyIds = [...entries.keys()];
    const times = keyIds.map((keyId) => entries.get(keyId)!.toISOString());
    return this.prisma.$executeRaw`
      UPDATE api_keys AS k
         SET last_used_at = GREATEST(k.last_used_at, u.used_at)
        FROM unnest(${keyIds}::text[], ${times}::timestamptz[]) AS u(key_id, used_at)
       WHERE k.key_id = u.key_id`;
  }
}
