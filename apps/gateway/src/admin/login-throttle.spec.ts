import { describe, expect, it } from '@jest/globals';
import type { ConiferConfig } from '@conifer/config';
import { pino } from 'pino';
import { LoginThrottle } from './login-throttle.js';
import type { SharedAttempt } from './login-failures.repository.js';

const config = { gateway: { adminLoginMaxFailures: 3, adminLoginWindowSeconds: 60 } } as unknown as ConiferConfig;
const logger = pino({ level: 'silent' });
const noShared = { enabled: false, attempt: async (): Promise<SharedAttempt> => ({ counted: true, member: 'm' }), forget: async () => {} };

describe('LoginThrottle', () => {
  it('blocks an address after the limit within the window, per address, and forgets old failures', async () => {
    const throttle = new LoginThrottle(config, noShared, logger);
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) expect((await throttle.attempt('a', t0 + i)).retryAfterSeconds).toBe(0);
    expect((await throttle.attempt('a', t0 + 10)).retryAfterSeconds).toBe(60);
    expect((await throttle.attempt('b', t0 + 10)).retryAfterSeconds).toBe(0);
    expect((await throttle.attempt('a', t0 + 30_000)).retryAfterSeconds).toBe(30);
    expect((await throttle.attempt('a', t0 + 60_001)).retryAfterSeconds).toBe(0);
  });

  it('counts before checking: concurrent attempts beyond the limit are refused; a success is un-counted', async () => {
    const throttle = new LoginThrottle(config, noShared, logger);
    const results = await Promise.all(Array.from({ length: 10 }, () => throttle.attempt('a', 5_000)));
    expect(results.filter((r) => r.retryAfterSeconds === 0)).toHaveLength(3);
    const other = new LoginThrottle(config, noShared, logger);
    for (let i = 0; i < 5; i++) {
      const attempt = await other.attempt('a', 5_000 + i);
      expect(attempt.retryAfterSeconds).toBe(0);
      if ('succeeded' in attempt) await attempt.succeeded();
    }
  });

  it('uses the shared count when there is one, and the local one while it fails', async () => {
    const full = { enabled: true, attempt: async (): Promise<SharedAttempt> => ({ counted: false, oldest: 10 }), forget: async () => {} };
    expect((await new LoginThrottle(config, full, logger).attempt('a', 10)).retryAfterSeconds).toBe(60);
    const failing = {
      enabled: true,
      attempt: async (): Promise<SharedAttempt> => {
        throw new Error('down');
      },
      forget: async () => {
        throw new Error('down');
      },
    };
    const throttle = new LoginThrottle(config, failing, logger);
    for (let i = 0; i < 3; i++) expect((await throttle.attempt('a', 100 + i)).retryAfterSeconds).toBe(0);
    expect((await throttle.attempt('a', 200)).retryAfterSeconds).toBe(60);
  });
});
