import { describe, expect, it } from '@jest/globals';
import type { ConiferConfig } from '@conifer/config';
import { pino } from 'pino';
import { LoginThrottle } from './login-throttle.js';

const config = { gateway: { adminLoginMaxFailures: 3, adminLoginWindowSeconds: 60 } } as unknown as ConiferConfig;
const logger = pino({ level: 'silent' });
const noShared = { enabled: false, recent: async () => [], add: async () => {} };

describe('LoginThrottle', () => {
  it('blocks an address after the limit within the window, per address, and forgets old failures', async () => {
    const throttle = new LoginThrottle(config, noShared, logger);
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) {
      expect(await throttle.retryAfterSeconds('a', t0 + i)).toBe(0);
      await throttle.recordFailure('a', t0 + i);
    }
    expect(await throttle.retryAfterSeconds('a', t0 + 10)).toBe(60);
    expect(await throttle.retryAfterSeconds('b', t0 + 10)).toBe(0);
    expect(await throttle.retryAfterSeconds('a', t0 + 30_000)).toBe(30);
    expect(await throttle.retryAfterSeconds('a', t0 + 60_001)).toBe(0);
  });

  it('uses the shared count when there is one, and the local one while it fails', async () => {
    const shared = { enabled: true, recent: async () => [1, 2, 3], add: async () => {} };
    expect(await new LoginThrottle(config, shared, logger).retryAfterSeconds('a', 10)).toBe(60);
    const failing = {
      enabled: true,
      recent: async (): Promise<number[]> => {
        throw new Error('down');
      },
      add: async () => {
        throw new Error('down');
      },
    };
    const throttle = new LoginThrottle(config, failing, logger);
    for (let i = 0; i < 3; i++) await throttle.recordFailure('a', 100 + i);
    expect(await throttle.retryAfterSeconds('a', 200)).toBe(60);
  });
});
