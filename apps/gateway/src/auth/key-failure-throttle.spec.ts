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
});
