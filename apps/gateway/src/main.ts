// Gateway entry point: configuration, database (embedded by default), migrations, bootstrap credential,
// then the HTTP server; SIGTERM drains in-flight requests and closes connections before exit.
import { ConfigError, loadConfig, resolveSecrets } from '@conifer/config';
import { createGatewayApp } from './app.js';
import { ensureBootstrapAdmin } from './bootstrap/bootstrap-admin.js';
import { createLogger } from './common/logger.js';
import { openDatabase } from './database/open-database.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, 'gateway');
  const secrets = resolveSecrets(config);
  const database = await openDatabase(config, logger);
  const app = await createGatewayApp({ config, secrets, databaseUrl: database.url }, logger);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    try {
      await app.close();
      await database.close();
    } finally {
      logger.info('stopped');
      process.exit(0);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  await ensureBootstrapAdmin(app, config, logger);
  await app.listen({ port: config.gateway.port, host: config.bind });
  logger.info(
    { address: `http://${config.bind}:${config.gateway.port}`, publicUrl: config.gateway.publicUrl, embeddedDatabase: database.embedded },
    'gateway listening',
  );
}

main().catch((error) => {
  if ((error as Error).name === 'EmbeddedPostgresAccessError') {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
  process.stderr.write(`gateway failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
