// Jest globalSetup/globalTeardown for suites that talk to Postgres and Redis: one fresh, migrated
// database and one Redis key prefix per run, handed to the test workers through the environment.
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { startTestRedis, type TestRedis } from './redis.js';

interface RunResources {
  database?: TestDatabase;
  redis?: TestRedis;
}

const RESOURCES = Symbol.for('conifer.test.resources');
type GlobalWithResources = typeof globalThis & { [RESOURCES]?: RunResources };

export async function globalSetup(): Promise<void> {
  const resources: RunResources = {};
  (globalThis as GlobalWithResources)[RESOURCES] = resources;
  resources.database = await createTestDatabase();
  process.env.CONIFER_TEST_PG_SERVER_URL = resources.database.serverUrl;
  process.env.DATABASE_URL = resources.database.url;
  try {
    resources.redis = await startTestRedis();
    process.env.REDIS_URL = resources.redis.url;
    process.env.CONIFER_REDIS_KEY_PREFIX = resources.redis.keyPrefix;
  } catch (error) {
    process.env.CONIFER_TEST_REDIS_UNAVAILABLE = (error as Error).message;
  }
}

export async function globalTeardown(): Promise<void> {
  const resources = (globalThis as GlobalWithResources)[RESOURCES];
  await resources?.redis?.stop();
  await resources?.database?.drop();
}
