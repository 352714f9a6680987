// A fresh database per test run, so runs never see each other's data: on the server DATABASE_URL names,
// else on an embedded cluster started for the run. Migrations are applied as at start-up.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  applyMigrations,
  createDatabase,
  dropDatabase,
  startEmbeddedPostgres,
  withDatabaseName,
  type EmbeddedPostgresHandle,
} from '@conifer/database';
import { freePort } from './ports.js';

export const MIGRATIONS_DIR = path.resolve(import.meta.dirname, '../../../prisma/migrations');

export interface TestDatabase {
  readonly url: string;
  /** URL of the server's maintenance database, for creating more databases in a test. */
  readonly serverUrl: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  let embedded: EmbeddedPostgresHandle | undefined;
  let embeddedDir: string | undefined;
  let serverUrl: string;
  if (process.env.CONIFER_TEST_PG_SERVER_URL) {
    serverUrl = process.env.CONIFER_TEST_PG_SERVER_URL;
  } else if (process.env.DATABASE_URL) {
    serverUrl = process.env.DATABASE_URL;
  } else {
    embeddedDir = mkdtempSync(path.join(tmpdir(), 'conifer-test-pg-'));
    // mkdtemp makes it 0700; as root the cluster runs as the user postgres, which must pass through it.
    chmodSync(embeddedDir, 0o711);
    embedded = await startEmbeddedPostgres({
      directory: path.join(embeddedDir, 'cluster'),
      port: await freePort(),
      persistent: false,
    });
    serverUrl = withDatabaseName(embedded.url, 'postgres');
  }
  const name = `conifer_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const url = await createDatabase(serverUrl, name);
  if (options.migrate !== false) await applyMigrations(url, MIGRATIONS_DIR);
  return {
    url,
    serverUrl,
    drop: async () => {
      await dropDatabase(serverUrl, name).catch(() => {});
      if (embedded) await embedded.stop().catch(() => {});
      if (embeddedDir) rmSync(embeddedDir, { recursive: true, force: true });
    },
  };
}
