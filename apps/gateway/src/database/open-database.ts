// Start-up: the database the gateway uses (DATABASE_URL, else an embedded cluster under the data directory),
// migrated to the current schema before the app accepts requests.
import path from 'node:path';
import type { ConiferConfig } from '@conifer/config';
import { applyMigrations, embeddedClusterDirectory, startEmbeddedPostgres } from '@conifer/database';
import type { Logger } from 'pino';

const MIGRATIONS_DIR = path.resolve(import.meta.dirname, '../../../../prisma/migrations');

export interface OpenDatabase {
  readonly url: string;
  readonly embedded: boolean;
  close(): Promise<void>;
}

export async function openDatabase(config: ConiferConfig, logger: Logger): Promise<OpenDatabase> {
  let url = config.database.url;
  let close = async () => {};
  if (!url) {
    const directory = embeddedClusterDirectory(config.dataDir);
    logger.info({ directory, port: config.database.embeddedPort }, 'DATABASE_URL is not set: starting embedded Postgres');
    const embedded = await startEmbeddedPostgres({
      directory,
      port: config.database.embeddedPort,
      log: (message) => logger.debug({ component: 'embedded-postgres' }, message),
    });
    url = embedded.url;
    close = () => embedded.stop();
  }
  const applied = await applyMigrations(url, MIGRATIONS_DIR);
  if (applied.length > 0) logger.info({ migrations: applied }, 'applied database migrations');
  return { url, embedded: !config.database.url, close };
}
