import { describe, expect, it } from '@jest/globals';
import { hashSecret, mintApiKey, parseApiKey, type MintedApiKey } from '@conifer/keys';
import { sameKeyString } from './api-key.strategy.js';
import { KeyCache } from './key-cache.js';
import type { SharedKeyEntry, SharedKeyRead } from './key-cache.redis.repository.js';
import {
  KeyVerifier,
  VerificationStatus,
  verificationError,
  type AuthOutcome,
  type CacheLayer,
  type KeyLookup,
  type SharedKeyCache,
  type VerifierSettings,
} from './key-verifier.js';
import { RateLimiter } from './rate-limiter.js';
import type { StoredKey } from './stored-key.js';

const PEPPER = 'unit-test-pepper-'.padEnd(40, 'x');
const SETTINGS: VerifierSettings = {
  pepper: PEPPER,
  keyCacheTtlMs: 60_000,
  fallbackTtlMs: 1_000,
  negativeCacheTtlMs: 5_000,
  pgOutageGraceMs: 300_000,
  pgRetryMs: 1_000,
};

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

class FakeKeys implements KeyLookup {
  readonly rows = new Map<string, StoredKey>();
  calls = 0;
  down = false;
  gate: Promise<void> | null = null;

  async findByKeyId(keyId: string): Promise<StoredKey | null> {
    this.calls++;
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const row = this.rows.get(keyId) ?? null;
    if (this.gate) await this.gate;
    return row;
  }
}

class FakeShared implements SharedKeyCache {
  readonly enabled = true;
  available = true;
  readonly entries = new Map<string, string>();
  readonly generations = new Map<string, number>();
  reads = 0;

  async read(keyId: string): Promise<SharedKeyRead> {
    this.reads++;
    if (!this.available) throw new Error('down');
    const value = this.entries.get(keyId);
    return { entry: value ? (JSON.parse(value) as SharedKeyEntry) : null, generation: String(this.generations.get(keyId) ?? '') };
  }

  async store(entry: SharedKeyEntry, generation: string): Promise<boolean> {
    if (String(this.generations.get(entry.key.keyId) ?? '') !== generation) return false;
    this.entries.set(entry.key.keyId, JSON.stringify(entry));
    return true;
  }

  invalidate(keyId: string): void {
    this.generations.set(keyId, (this.generations.get(keyId) ?? 0) + 1);
    this.entries.delete(keyId);
  }
}

class Observer {
  readonly outcomes: AuthOutcome[] = [];
  readonly layers: CacheLayer[] = [];
  outcome(outcome: AuthOutcome) {
    this.outcomes.push(outcome);
  }
  cacheHit(layer: CacheLayer) {
    this.layers.push(layer);
  }
}

function storedKey(minted: MintedApiKey, overrides: Partial<StoredKey> = {}): StoredKey {
  return {
    id: `catalog-${minted.keyId}`,
    keyId: minted.keyId,
    projectId: 'project-1',
    secretHash: hashSecret(PEPPER, minted.keyId, minted.secret),
    roles: ['ProjectEditor'],
    indexScope: [],
    namespaceScope: [],
    rateLimitPerSecond: null,
    expiresAt: null,
    revokedAt: null,
    ...overrides,
  };
}

function setup(options: { shared?: FakeShared | null; maxNegative?: number; settings?: Partial<VerifierSettings> } = {}) {
  let now = 1_000_000;
  const keys = new FakeKeys();
  const cache = new KeyCache({ maxEntries: 1000, maxNegativeEntries: options.maxNegative ?? 1000 });
  const shared = options.shared === undefined ? null : options.shared;
  const observer = new Observer();
  const used: string[] = [];
  const verifier = new KeyVerifier({
    settings: { ...SETTINGS, ...options.settings },
    cache,
    keys,
    shared,
    limiter: new RateLimiter(null),
    observer,
    lastUsed: { record: (keyId: string) => void used.push(keyId) },
    clock: () => now,
  });
  const add = (overrides: Partial<StoredKey> = {}) => {
    const minted = mintApiKey();
    keys.rows.set(minted.keyId, storedKey(minted, overrides));
    return minted;
  };
  return {
    keys,
    cache,
    observer,
    used,
    verifier,
    add,
    advance: (ms: number) => (now += ms),
    now: () => now,
  };
}

describe('KeyVerifier statuses', () => {
  it('MISSING without a header', async () => {
    const { verifier, keys } = setup();
    expect((await verifier.verify(undefined)).status).toBe(VerificationStatus.Missing);
    expect((await verifier.verify('')).status).toBe(VerificationStatus.Missing);
    expect(keys.calls).toBe(0);
  });

  it('MALFORMED before any lookup (format, checksum, repeated header)', async () => {
    const shared = new FakeShared();
    const { verifier, keys } = setup({ shared });
    const good = mintApiKey().value;
    const typo = good.slice(0, 20) + (good[20] === 'A' ? 'B' : 'A') + good.slice(21);
    for (const value of ['x', 'pcsk_short', typo, [good, good]]) {
      expect((await verifier.verify(value)).status).toBe(VerificationStatus.Malformed);
    }
    expect(keys.calls).toBe(0);
    expect(shared.reads).toBe(0);
  });

  it('VALID with the principal; last use recorded', async () => {
    const { verifier, add, used } = setup();
    const minted = add({ roles: ['DataPlaneViewer'], indexScope: ['movies'], expiresAt: 5_000_000 });
    const result = await verifier.verify(minted.value);
    expect(result.status).toBe(VerificationStatus.Valid);
    if (result.status !== VerificationStatus.Valid) return;
    expect(result.principal).toMatchObject({
      keyId: minted.keyId,
      apiKeyId: `catalog-${minted.keyId}`,
      projectId: 'project-1',
      roles: ['DataPlaneViewer'],
      indexScope: ['movies'],
      expiresAt: new Date(5_000_000),
    });
    expect(used).toEqual([minted.keyId]);
  });

  it('NOT_FOUND for an unknown key and for a wrong secret, even from the cache', async () => {
    const { verifier, add, keys } = setup();
    expect((await verifier.verify(mintApiKey().value)).status).toBe(VerificationStatus.NotFound);
    const minted = add();
    expect((await verifier.verify(minted.value)).status).toBe(VerificationStatus.Valid);
    const calls = keys.calls;
    const impostor = mintApiKey();
    const body = `pcsk_${minted.keyId}_${impostor.secret}`;
    const { encodeUint32Base62 } = await import('@conifer/keys');
    const { crc32 } = await import('node:zlib');
    expect((await verifier.verify(body + encodeUint32Base62(crc32(body)))).status).toBe(VerificationStatus.NotFound);
    expect(keys.calls).toBe(calls);
  });

  it('a warm key skips the HMAC only for the secret the HMAC accepted, and only for that stored record', async () => {
    const { verifier, add, keys, cache } = setup();
    const minted = add();
    expect((await verifier.verify(minted.value)).status).toBe(VerificationStatus.Valid);
    expect((await verifier.verify(minted.value)).status).toBe(VerificationStatus.Valid);
    const { encodeUint32Base62 } = await import('@conifer/keys');
    const { crc32 } = await import('node:zlib');
    const withSecret = (secret: string) => {
      const body = `pcsk_${minted.keyId}_${secret}`;
      return body + encodeUint32Base62(crc32(body));
    };
    // A wrong secret for a warm key is refused (falls through to the HMAC).
    expect((await verifier.verify(withSecret(mintApiKey().secret))).status).toBe(VerificationStatus.NotFound);
    expect((await verifier.verify(minted.value)).status).toBe(VerificationStatus.Valid);
    // The key's secret changes (same public id, new hash): the remembered secret must not outlive its record.
    const rotated = mintApiKey();
    keys.rows.set(minted.keyId, { ...keys.rows.get(minted.keyId)!, secretHash: hashSecret(PEPPER, minted.keyId, rotated.secret) });
    cache.evict(minted.keyId);
    expect((await verifier.verify(minted.value)).status).toBe(VerificationStatus.NotFound);
    expect((await verifier.verify(withSecret(rotated.secret))).status).toBe(VerificationStatus.Valid);
    expect((await verifier.verify(withSecret(rotated.secret))).status).toBe(VerificationStatus.Valid);
    expect((await verifier.verify(minted.value)).status).toBe(VerificationStatus.NotFound);
  });

  it('the synchronous warm path answers only what verify would answer VALID from the local cache, with the same records', async () => {
    const { verifier, add, keys, cache, observer, used, advance } = setup();
    const minted = add();
    const parsed = parseApiKey(minted.value)!;
    // Cold: nothing cached, nothing recorded; the full pipeline fills the cache and remembers the secret.
    expect(verifier.verifyWarm(parsed)).toBeUndefined();
    expect([observer.outcomes.length, used.length]).toEqual([0, 0]);
    const full = await verifier.verify(minted.value);
    expect(full.status).toBe(VerificationStatus.Valid);
    const warm = verifier.verifyWarm(parsed);
    expect(warm).toEqual((full as { principal: unknown }).principal);
    expect(observer.outcomes.slice(-2)).toEqual(['valid', 'valid']);
    expect(observer.layers.at(-1)).toBe('local');
    expect(used).toEqual([minted.keyId, minted.keyId]);
    // A wrong secret for the warm key: not answered here (verify refuses it, with the HMAC).
    const wrong = { keyId: minted.keyId, secret: mintApiKey().secret };
    expect(verifier.verifyWarm(wrong)).toBeUndefined();
    // Revoked (the record changes: the cache is evicted and refilled), expired, rate-limited, stale: not answered here.
    keys.rows.set(minted.keyId, { ...keys.rows.get(minted.keyId)!, revokedAt: 1 });
    cache.evict(minted.keyId);
    expect(verifier.verifyWarm(parsed)).toBeUndefined();
    expect((await verifier.verify(minted.value)).status).toBe(VerificationStatus.Revoked);
    expect(verifier.verifyWarm(parsed)).toBeUndefined();
    const expiring = add({ expiresAt: 1_000_500 });
    expect((await verifier.verify(expiring.value)).status).toBe(VerificationStatus.Valid);
    expect(verifier.verifyWarm(parseApiKey(expiring.value)!)).toBeDefined();
    const limited = add({ rateLimitPerSecond: 1000 });
    expect((await verifier.verify(limited.value)).status).toBe(VerificationStatus.Valid);
    expect(verifier.verifyWarm(parseApiKey(limited.value)!)).toBeUndefined();
    const stale = add();
    expect((await verifier.verify(stale.value)).status).toBe(VerificationStatus.Valid);
    advance(500);
    expect(verifier.verifyWarm(parseApiKey(expiring.value)!)).toBeUndefined();
    expect(verifier.verifyWarm(parseApiKey(stale.value)!)).toBeDefined();
    advance(SETTINGS.keyCacheTtlMs);
    expect(verifier.verifyWarm(parseApiKey(stale.value)!)).toBeUndefined();
  });

  it('the repeat of a warm key (same string, same connection) answers only while its record is the cached one, with the same records', async () => {
    const { verifier, add, keys, cache, observer, used, advance } = setup();
    const minted = add();
    const parsed = parseApiKey(minted.value)!;
    expect((await verifier.verify(minted.value)).status).toBe(VerificationStatus.Valid);
    const principal = verifier.verifyWarm(parsed)!;
    const [outcomes, uses] = [observer.outcomes.length, used.length];
    expect(verifier.verifyWarmRepeat(minted.keyId, principal)).toBe(principal);
    expect(observer.outcomes.slice(outcomes)).toEqual(['valid']);
    expect(observer.layers.at(-1)).toBe('local');
    expect(used.slice(uses)).toEqual([minted.keyId]);
    // Another key's principal, or a key id it was not accepted under: nothing answered, nothing recorded.
    const other = add();
    expect((await verifier.verify(other.value)).status).toBe(VerificationStatus.Valid);
    const counted = observer.outcomes.length;
    expect(verifier.verifyWarmRepeat(other.keyId, principal)).toBeUndefined();
    expect(verifier.verifyWarmRepeat(minted.keyId, verifier.verifyWarm(parseApiKey(other.value)!)!)).toBeUndefined();
    expect(observer.outcomes.length).toBe(counted + 1);
    // Revoked: the record is evicted (and refilled revoked): the repeat is refused at once, as verifyWarm is.
    keys.rows.set(minted.keyId, { ...keys.rows.get(minted.keyId)!, revokedAt: 1 });
    cache.evict(minted.keyId);
    expect(verifier.verifyWarmRepeat(minted.keyId, principal)).toBeUndefined();
    expect((await verifier.verify(minted.value)).status).toBe(VerificationStatus.Revoked);
    expect(verifier.verifyWarmRepeat(minted.keyId, principal)).toBeUndefined();
    // Stale (past the cache TTL): refused here too; the full path decides.
    const stale = add();
    expect((await verifier.verify(stale.value)).status).toBe(VerificationStatus.Valid);
    const stalePrincipal = verifier.verifyWarm(parseApiKey(stale.value)!)!;
    expect(verifier.verifyWarmRepeat(stale.keyId, stalePrincipal)).toBe(stalePrincipal);
    advance(SETTINGS.keyCacheTtlMs);
    expect(verifier.verifyWarmRepeat(stale.keyId, stalePrincipal)).toBeUndefined();
    // Expired while cached, and keys with a per-key rate limit: never on the warm path.
    const expiring = add({ expiresAt: 1_000_000 + SETTINGS.keyCacheTtlMs + 100 });
    expect((await verifier.verify(expiring.value)).status).toBe(VerificationStatus.Valid);
    const expiringPrincipal = verifier.verifyWarm(parseApiKey(expiring.value)!)!;
    advance(100);
    expect(verifier.verifyWarmRepeat(expiring.keyId, expiringPrincipal)).toBeUndefined();
  });

  it('sameKeyString: equal strings only', () => {
    const minted = mintApiKey();
    expect(sameKeyString(minted.value, `${minted.value}`)).toBe(true);
    expect(sameKeyString(minted.value, minted.value.slice(0, -1) + (minted.value.endsWith('a') ? 'b' : 'a'))).toBe(false);
    expect(sameKeyString(minted.value, minted.value.slice(1))).toBe(false);
    expect(sameKeyString('', '')).toBe(true);
  });

  it('REVOKED and EXPIRED (only after the secret matched)', async () => {
    const { verifier, add, advance } = setup();
    expect((await verifier.verify(add({ revokedAt: 1 }).value)).status).toBe(VerificationStatus.Revoked);
    const rotating = add({ expiresAt: 1_000_500 });
    expect((await verifier.verify(rotating.value)).status).toBe(VerificationStatus.Valid);
    advance(500);
    expect((await verifier.verify(rotating.value)).status).toBe(VerificationStatus.Expired);
  });

  it('RATE_LIMITED past the per-second limit, with the time to the next window', async () => {
    const { verifier, add, advance } = setup();
    const minted = add({ rateLimitPerSecond: 2 });
    expect((await verifier.verify(minted.value)).status).toBe(VerificationStatus.Valid);
    expect((await verifier.verify(minted.value)).status).toBe(VerificationStatus.Valid);
    const limited = await verifier.verify(minted.value);
    expect(limited).toEqual({ status: VerificationStatus.RateLimited, retryAfterMs: 1000 });
    expect(verificationError(limited)!.headers()).toEqual({ 'retry-after': '1' });
    advance(1000);
    expect((await verifier.verify(minted.value)).status).toBe(VerificationStatus.Valid);
  });

  it('UNAVAILABLE for a key Postgres cannot check; errors map to 401/429/503', async () => {
    const { verifier, keys } = setup();
    keys.down = true;
    const result = await verifier.verify(mintApiKey().value);
    expect(result.status).toBe(VerificationStatus.Unavailable);
    expect(verificationError(result)!.httpStatus).toBe(503);
    expect(verificationError({ status: VerificationStatus.NotFound })!.httpStatus).toBe(401);
    expect(verificationError({ status: VerificationStatus.Revoked })!.httpStatus).toBe(401);
    expect(verificationError({ status: VerificationStatus.RateLimited, retryAfterMs: 10 })!.httpStatus).toBe(429);
  });

  it('counts outcomes and cache layers', async () => {
    const { verifier, add, observer } = setup();
    const minted = add();
    await verifier.verify(minted.value);
    await verifier.verify(minted.value);
    const unknown = mintApiKey().value;
    await verifier.verify(unknown);
    await verifier.verify(unknown);
    expect(observer.outcomes).toEqual(['valid', 'valid', 'unauthenticated', 'unauthenticated']);
    expect(observer.layers).toEqual(['postgres', 'local', 'postgres', 'negative']);
  });
});

describe('KeyVerifier caches', () => {
  it('serves repeated unknown keys from the negative cache until its TTL', async () => {
    const { verifier, keys, advance } = setup();
    const unknown = mintApiKey().value;
    for (let i = 0; i < 100; i++) await verifier.verify(unknown);
    expect(keys.calls).toBe(1);
    advance(5_001);
    await verifier.verify(unknown);
    expect(keys.calls).toBe(2);
  });

  it('bounds the negative cache', async () => {
    const { verifier, cache } = setup({ maxNegative: 3 });
    for (let i = 0; i < 10; i++) await verifier.verify(mintApiKey().value);
    expect(cache.negativeSize).toBe(3);
  });

  it('one lookup for concurrent requests of the same key', async () => {
    const { verifier, add, keys } = setup();
    const minted = add();
    const gate = deferred<void>();
    keys.gate = gate.promise;
    const pending = Promise.all(Array.from({ length: 20 }, () => verifier.verify(minted.value)));
    gate.resolve();
    const results = await pending;
    expect(results.every((r) => r.status === VerificationStatus.Valid)).toBe(true);
    expect(keys.calls).toBe(1);
  });

  it('stale fill: a lookup that started before an eviction is neither stored nor joined', async () => {
    const { verifier, add, keys, cache } = setup();
    const minted = add();
    const gate = deferred<void>();
    keys.gate = gate.promise;
    const before = verifier.verify(minted.value); // reads the row while it is still valid
    await Promise.resolve();
    // The key service revokes: row updated, then the eviction.
    keys.rows.set(minted.keyId, { ...keys.rows.get(minted.keyId)!, revokedAt: 1 });
    cache.evict(minted.keyId);
    const after = verifier.verify(minted.value); // must not join the earlier lookup
    gate.resolve();
    expect((await before).status).toBe(VerificationStatus.Valid); // was concurrent with the revocation
    expect((await after).status).toBe(VerificationStatus.Revoked);
    keys.gate = null;
    expect((await verifier.verify(minted.value)).status).toBe(VerificationStatus.Revoked);
  });

  it('stale fill into Redis: a fill whose generation changed is not stored', async () => {
    const shared = new FakeShared();
    const { verifier, add, keys, cache } = setup({ shared });
    const minted = add();
    const gate = deferred<void>();
    keys.gate = gate.promise;
    const before = verifier.verify(minted.value);
    await new Promise((resolve) => setImmediate(resolve));
    keys.rows.set(minted.keyId, { ...keys.rows.get(minted.keyId)!, revokedAt: 1 });
    shared.invalidate(minted.keyId);
    cache.evict(minted.keyId);
    gate.resolve();
    await before;
    await new Promise((resolve) => setImmediate(resolve));
    expect(shared.entries.has(minted.keyId)).toBe(false);
    keys.gate = null;
    expect((await verifier.verify(minted.value)).status).toBe(VerificationStatus.Revoked);
  });

  it('Redis: fills the shared cache; another replica is served from it', async () => {
    const shared = new FakeShared();
    const first = setup({ shared });
    const minted = first.add();
    expect((await first.verifier.verify(minted.value)).status).toBe(VerificationStatus.Valid);
    await new Promise((resolve) => setImmediate(resolve));
    const second = setup({ shared });
    expect((await second.verifier.verify(minted.value)).status).toBe(VerificationStatus.Valid);
    expect(second.keys.calls).toBe(0);
    expect(second.observer.layers).toEqual(['redis']);
  });

  it('Redis down: verified against Postgres with the short local TTL', async () => {
    const shared = new FakeShared();
    shared.available = false;
    const { verifier, add, keys, advance } = setup({ shared });
    const minted = add();
    expect((await verifier.verify(minted.value)).status).toBe(VerificationStatus.Valid);
    advance(500);
    await verifier.verify(minted.value);
    expect(keys.calls).toBe(1);
    advance(600);
    await verifier.verify(minted.value);
    expect(keys.calls).toBe(2);
  });

  it('Postgres down: confirmed keys keep working within the grace period, unknown keys are UNAVAILABLE', async () => {
    const { verifier, add, keys, advance } = setup({ settings: { keyCacheTtlMs: 1_000, pgOutageGraceMs: 10_000 } });
    const minted = add();
    expect((await verifier.verify(minted.value)).status).toBe(VerificationStatus.Valid);
    keys.down = true;
    advance(2_000); // past the cache TTL
    expect((await verifier.verify(minted.value)).status).toBe(VerificationStatus.Valid);
    expect((await verifier.verify(mintApiKey().value)).status).toBe(VerificationStatus.Unavailable);
    advance(9_000); // past the grace period
    expect((await verifier.verify(minted.value)).status).toBe(VerificationStatus.Unavailable);
    keys.down = false;
    advance(1_000); // past the retry pause
    expect((await verifier.verify(minted.value)).status).toBe(VerificationStatus.Valid);
  });

  it('Postgres down: after a failure, lookups pause instead of piling up', async () => {
    const { verifier, keys, advance } = setup();
    keys.down = true;
    for (let i = 0; i < 10; i++) await verifier.verify(mintApiKey().value);
    expect(keys.calls).toBe(1);
    advance(1_000);
    await verifier.verify(mintApiKey().value);
    expect(keys.calls).toBe(2);
  });

  it('caps concurrent Postgres lookups; beyond the queue a lookup is UNAVAILABLE', async () => {
    const { verifier, keys } = setup({ settings: { maxConcurrentLookups: 2, maxQueuedLookups: 3 } });
    const gate = deferred<void>();
    keys.gate = gate.promise;
    const pending = Array.from({ length: 8 }, () => verifier.verify(mintApiKey().value));
    await new Promise((resolve) => setImmediate(resolve));
    expect(keys.calls).toBe(2);
    gate.resolve();
    const statuses = (await Promise.all(pending)).map((r) => r.status);
    expect(statuses.filter((s) => s === VerificationStatus.NotFound)).toHaveLength(5);
    expect(statuses.filter((s) => s === VerificationStatus.Unavailable)).toHaveLength(3);
    expect(keys.calls).toBe(5);
  });
});
