import { describe, expect, it } from '@jest/globals';
import type { ConiferConfig } from '@conifer/config';
import { LoginThrottle } from './login-throttle.js';

const config = { gateway: { adminLoginMaxFailures: 3, adminLoginWindowSeconds: 60 } } as unknown as ConiferConfig;

describe('LoginThrottle', () => {
  it('blocks an address after the limit within the window, per address, and forgets old failures', () => {
    const throttle = new LoginThrottle(config);
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfterSeconds('a', t0 + i)).toBe(0);
      throttle.recordFailure('a', t0 + i);
    }
    expect(throttle.retryAfterSeconds('a', t0 + 10)).toBe(60);
    expect(throttle.retryAfterSeconds('b', t0 + 10)).toBe(0);
    expect(throttle.retryAfterSeconds('a', t0 + 30_000)).toBe(30);
    expect(throttle.retryAfterSeconds('a', t0 + 60_001)).toBe(0);
  });
});
