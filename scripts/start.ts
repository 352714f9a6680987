#!/usr/bin/env -S node --experimental-strip-types
// `npm start`: builds what changed, then runs one vector-store node and the gateway together on the
// embedded defaults (or whatever the environment configures). Ctrl-C / SIGTERM stops both gracefully.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ConiferConfig } from '@conifer/config';

const repoRoot = path.resolve(import.meta.dirname, '..');
const require = createRequire(path.join(repoRoot, 'package.json'));
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' };

const build = spawnSync(process.execPath, [require.resolve('turbo/bin/turbo'), 'run', 'build', '--output-logs=errors-only'], {
  stdio: 'inherit',
  cwd: repoRoot,
  env,
});
if (build.status !== 0) process.exit(build.status ?? 1);

// Resolve (and on first start generate) the embedded secrets once, before both apps read them.
const { loadConfig, resolveSecrets, ConfigError } = await import('@conifer/config');
let config: ConiferConfig;
try {
  config = loadConfig(env);
  resolveSecrets(config);
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : error}\n`);
  process.exit(2);
}

// Without DATABASE_URL the gateway runs an embedded Postgres; as root it runs as the user "postgres", which
// must be able to reach its directory and binaries: say what to do now rather than fail inside initdb.
if (!config.database.url) {
  const { embeddedClusterDirectory, embeddedPostgresAccessProblem } = await import('@conifer/database');
  const problem = embeddedPostgresAccessProblem(embeddedClusterDirectory(config.dataDir));
  if (problem !== undefined) {
    process.stderr.write(`${problem}\n`);
    process.exit(2);
  }
}

const children = new Map<string, ChildProcess>();
let stopping = false;

function start(name: string, script: string): ChildProcess {
  const child = spawn(process.execPath, [script], { stdio: 'inherit', cwd: repoRoot, env });
  children.set(name, child);
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      process.stderr.write(`${name} exited (${signal ?? code}); stopping the rest\n`);
      stop(code || 1);
    } else if (children.size === 0) {
      process.exit(process.exitCode ?? 0);
    }
  });
  return child;
}

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  if (children.size === 0) process.exit(code);
  for (const child of children.values()) child.kill('SIGTERM');
  setTimeout(() => process.exit(code || 1), config.shutdownTimeoutMs + 2_000).unref();
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

async function waitForHealth(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      if ((await fetch(url)).ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

start('vector-store', path.join(repoRoot, 'apps/vector-store/dist/main.js'));
const storeHost = config.bind === '0.0.0.0' || config.bind === '::' ? '127.0.0.1' : config.bind;
if (!(await waitForHealth(`http://${storeHost}:${config.vectorStore.port}/healthz`, 60_000))) {
  if (!stopping) process.stderr.write('vector store did not become healthy\n');
  stop(1);
} else {
  start('gateway', path.join(repoRoot, 'apps/gateway/dist/main.js'));
  const gatewayHost = config.bind === '0.0.0.0' || config.bind === '::' ? '127.0.0.1' : config.bind;
  if (await waitForHealth(`http://${gatewayHost}:${config.gateway.port}/healthz`, 120_000)) {
    process.stdout.write(`\n  Conifer is up: API ${config.gateway.publicUrl}  ·  operator console ${config.gateway.publicUrl}/console/\n\n`);
  }
}
