import { describe, expect, it } from '@jest/globals';
import type { ConiferConfig } from '@conifer/config';
import { pino } from 'pino';
import type { ApiKeysRepository } from './api-keys.repository.js';
import { KeyCache } from './key-cache.js';
import type { KeyCacheRedisRepository } from './key-cache.redis.repository.js';
import { RevocationListener } from './revocation.listener.js';
import type { RevocationRow, StoredKey } from './stored-key.js';

class FakeRevocations {
  latest = 0n;
  rows: RevocationRow[] = [];
  readonly asked: { afterSeq: bigint; gaps: readonly bigint[] }[] = [];
  async latestRevocationSeq() {
    return this.latest;
  }
  async revocationsAfter(afterSeq: bigint, gaps: readonly bigint[] = []) {
    this.asked.push({ afterSeq, gaps: [...gaps] });
    return this.rows.filter((row) => row.seq > afterSeq || gaps.includes(row.seq));
  }
}

const config = { gateway: { revocationPollMs: 60_000, keyCacheTtlMs: 60_000 } } as unknown as ConiferConfig;
const noRedis = { enabled: false } as unknown as KeyCacheRedisRepository;

function cached(cache: KeyCache, keyId: string) {
  const key = { id: `c-${keyId}`, keyId } as StoredKey;
  cache.set({ key, freshUntil: Number.MAX_SAFE_INTEGER, confirmedAt: 0 }, cache.fillToken());
}

async function listener() {
  const cache = new KeyCache({ maxEntries: 100, maxNegativeEntries: 100 });
  const revocations = new FakeRevocations();
  revocations.latest = 10n;
  const subject = new RevocationListener(cache, revocations as unknown as ApiKeysRepository, noRedis, config, pino({ level: 'silent' }));
  await subject.onModuleInit();
  return { cache, revocations, subject };
}

describe('RevocationListener poll', () => {
  it('starts after the newest recorded change and evicts keys of new rows', async () => {
    const { cache, revocations, subject } = await listener();
    cached(cache, 'old');
    cached(cache, 'new');
    revocations.rows = [
      { seq: 9n, keyId: 'old' },
      { seq: 11n, keyId: 'new' },
    ];
    await subject.poll();
    expect(revocations.asked.at(-1)).toEqual({ afterSeq: 10n, gaps: [] });
    expect(cache.get('new')).toBeUndefined();
    expect(cache.get('old')).toBeDefined();
    await subject.onModuleDestroy();
  });

  it('asks again for numbers skipped by a poll (a transaction committing late) and evicts them', async () => {
    const { cache, revocations, subject } = await listener();
    cached(cache, 'late');
    revocations.rows = [
      { seq: 11n, keyId: 'a' },
      { seq: 13n, keyId: 'b' },
    ];
    await subject.poll();
    expect(cache.get('late')).toBeDefined();
    revocations.rows.push({ seq: 12n, keyId: 'late' });
    await subject.poll();
    expect(revocations.asked.at(-1)).toEqual({ afterSeq: 13n, gaps: [12n] });
    expect(cache.get('late')).toBeUndefined();
    await subject.poll();
    expect(revocations.asked.at(-1)).toEqual({ afterSeq: 13n, gaps: [] });
    await subject.onModuleDestroy();
  });

  it('keyChanged evicts at once and tells subscribers', async () => {
    const { cache, subject } = await listener();
    cached(cache, 'k');
    const heard: string[] = [];
    subject.subscribe((change) => void heard.push(`${change.keyId}:${change.reason}`));
    await subject.keyChanged({ keyId: 'c-k', reason: 'revoked' }); // by catalog id
    expect(cache.get('k')).toBeUndefined();
    expect(heard).toEqual(['k:revoked']);
    await subject.onModuleDestroy();
  });
});
