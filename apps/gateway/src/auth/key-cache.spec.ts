import { describe, expect, it } from '@jest/globals';
import { KeyCache } from './key-cache.js';
import type { StoredKey } from './stored-key.js';

function entry(keyId: string) {
  const key: StoredKey = {
    id: `catalog-${keyId}`,
    keyId,
    projectId: 'p',
    secretHash: 'h',
    roles: [],
    indexScope: [],
    namespaceScope: [],
    rateLimitPerSecond: null,
    expiresAt: null,
    revokedAt: null,
  };
  return { key, freshUntil: 10, confirmedAt: 0 };
}

describe('KeyCache', () => {
  it('refuses a fill of a key evicted after the fill started', () => {
    const cache = new KeyCache({ maxEntries: 10, maxNegativeEntries: 10 });
    const token = cache.fillToken();
    cache.evict('a');
    expect(cache.set(entry('a'), token)).toBe(false);
    expect(cache.setMissing('a', 10, token)).toBe(false);
    expect(cache.set(entry('a'), cache.fillToken())).toBe(true);
  });

  it('an eviction of another key does not spoil a fill', () => {
    const cache = new KeyCache({ maxEntries: 10, maxNegativeEntries: 10 });
    const token = cache.fillToken();
    cache.evict('b');
    expect(cache.set(entry('a'), token)).toBe(true);
  });

  it('evicts by catalog id', () => {
    const cache = new KeyCache({ maxEntries: 10, maxNegativeEntries: 10 });
    cache.set(entry('a'), cache.fillToken());
    cache.evict('catalog-a');
    expect(cache.get('a')).toBeUndefined();
  });

  it('keeps a bounded eviction history and refuses fills older than it', () => {
    const cache = new KeyCache({ maxEntries: 10, maxNegativeEntries: 10 });
    const token = cache.fillToken();
    for (let i = 0; i < 10_001; i++) cache.evict(`k${i}`);
    expect(cache.set(entry('unrelated'), token)).toBe(false);
    expect(cache.set(entry('unrelated'), cache.fillToken())).toBe(true);
  });

  it('bounds both caches', () => {
    const cache = new KeyCache({ maxEntries: 3, maxNegativeEntries: 2 });
    for (let i = 0; i < 10; i++) {
      cache.set(entry(`k${i}`), cache.fillToken());
      cache.setMissing(`m${i}`, 100, cache.fillToken());
    }
    expect(cache.size).toBe(3);
    expect(cache.negativeSize).toBe(2);
    expect(cache.get('k9')).toBeDefined();
    expect(cache.isKnownMissing('m9', 0)).toBe(true);
    expect(cache.isKnownMissing('m0', 0)).toBe(false);
  });

  it('a clear refuses every fill in flight', () => {
    const cache = new KeyCache({ maxEntries: 10, maxNegativeEntries: 10 });
    const token = cache.fillToken();
    cache.clear();
    expect(cache.set(entry('a'), token)).toBe(false);
  });
});
