// Tests use the Redis that REDIS_URL names, else a redis-server found on PATH, started on a free port.
// Each run gets its own key prefix so that runs sharing a server never see each other's keys.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';

export const REDIS_MISSING_MESSAGE =
  'These tests need Redis: set REDIS_URL (e.g. redis://127.0.0.1:6379) or install redis-server ' +
  '(Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) so the tests can start one.';

export interface TestRedis {
  readonly url: string;
  readonly keyPrefix: string;
  /** The redis-server this run started, if any (tests that stop and restart Redis need it). */
  readonly process?: ChildProcess;
  stop(): Promise<void>;
}

export async function startTestRedis(): Promise<TestRedis> {
  const keyPrefix = `conifer-test-${randomBytes(4).toString('hex')}:`;
  if (process.env.REDIS_URL) {
    await ping(process.env.REDIS_URL);
    return { url: process.env.REDIS_URL, keyPrefix, stop: async () => {} };
  }
  if (spawnSync('redis-server', ['--version']).error) throw new Error(REDIS_MISSING_MESSAGE);
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    try {
      await ping(url);
      break;
    } catch (error) {
      if (attempt > 50) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    keyPrefix,
    process: child,
    stop: async () => {
      child.kill('SIGTERM');
    },
  };
}

async function ping(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  try {
    await client.connect();
    await client.ping();
  } finally {
    client.disconnect();
  }
}
