import { describe, expect, it } from '@jest/globals';
import { KeyFailureThrottle } from './key-failure-throttle.js';

describe('KeyFailureThrottle', () => {
  it('refuses an address after the limit of failures within the window, others unaffected, then forgives', () => {
    const throttle = new KeyFailureThrottle(3, 10_000);
    for (let i = 0; i < 2; i++) throttle.recordFailure('10.0.0.1', 1_000);
    expect(throttle.retryAfterSeconds('10.0.0.1', 1_000)).toBe(0);
    throttle.recordFailure('10.0.0.1', 2_000);
    expect(throttle.retryAfterSeconds('10.0.0.1', 2_000)).toBe(9);
    expect(throttle.retryAfterSeconds('10.0.0.2', 2_000)).toBe(0);
    expect(throttle.retryAfterSeconds('10.0.0.1', 11_000)).toBe(0);
    throttle.recordFailure('10.0.0.1', 11_000);
    expect(throttle.retryAfterSeconds('10.0.0.1', 11_000)).toBe(0);
  });

  it('counts attempts before they are verified: concurrent guesses cannot all pass the check', () => {
    const throttle = new KeyFailureThrottle(3, 10_000, 100);
    const started = Array.from({ length: 10 }, (_, i) => throttle.begin('10.0.0.1', null, `guess-${i}`, 1_000));
    expect(started.filter((s) => s.retryAfterSeconds === 0)).toHaveLength(3);
    for (const s of started) if (s.attempt) throttle.end(s.attempt, true);
    expect(throttle.begin('10.0.0.1', null, 'guess-x', 1_000).retryAfterSeconds).toBe(10);
  });

  it('a valid key in flight many times holds one slot and leaves no trace', () => {
    const throttle = new KeyFailureThrottle(3, 10_000, 2);
    const started = Array.from({ length: 50 }, () => throttle.begin('10.0.0.1', 'kid', 'the-valid-key', 1_000));
    expect(started.every((s) => s.retryAfterSeconds === 0)).toBe(true);
    for (const s of started) throttle.end(s.attempt!, false);
    expect(throttle.retryAfterSeconds('10.0.0.1', 1_000)).toBe(0);
  });

  it('throttles one key id after its limit of wrong secrets from any addresses; the addresses stay free for other keys', () => {
    const throttle = new KeyFailureThrottle(1_000, 10_000, 3);
    for (let i = 0; i < 3; i++) {
      const s = throttle.begin(`10.0.0.${i}`, 'kid', `pcsk_kid_wrong${i}`, 1_000);
      throttle.end(s.attempt!, true);
    }
    expect(throttle.begin('10.9.9.9', 'kid', 'pcsk_kid_right', 2_000).retryAfterSeconds).toBe(9);
    const other = throttle.begin('10.0.0.1', 'other', 'pcsk_other_x', 2_000);
    expect(other.retryAfterSeconds).toBe(0);
    expect(throttle.begin('10.9.9.9', 'kid', 'pcsk_kid_right', 11_000).retryAfterSeconds).toBe(0);
  });
});
