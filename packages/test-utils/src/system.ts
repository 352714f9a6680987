// Starts the real system for end-to-end tests: a vector-store node and one or more gateway processes from
// the built apps, on free ports, against the run's Postgres database and Redis, with a known bootstrap
// service account. Logs are captured so tests can assert that no secret ever reaches them.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';
import { createTestDatabase } from './postgres.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const GATEWAY_MAIN = path.join(repoRoot, 'apps/gateway/dist/main.js');
/** The vector store's built service entry, as the system (and the memory bench) start it. */
export const STORE_MAIN = path.join(repoRoot, 'apps/vector-store/dist/main.js');

export interface RunningProcess {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
}

export interface System {
  readonly gatewayUrl: string;
  readonly gateways: RunningProcess[];
  /** The current vector-store process (a new one after restartStore()). */
  readonly store: RunningProcess;
  /** The TCP proxy between the gateways and Postgres, when started with `postgresProxy: true`. */
  readonly postgresProxy?: TcpProxy;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly dataDir: string;
  readonly env: NodeJS.ProcessEnv;
  /** Everything every process wrote so far. */
  logs(): string;
  adminToken(): Promise<string>;
  /** Kills the vector store with SIGKILL (no flush, no goodbye) and waits for it to be gone. */
  killStore(): Promise<void>;
  /** Starts the vector store again on the same port and data directory and waits until it is healthy. */
  startStore(): Promise<void>;
  admin<T = unknown>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }>;
  defaultProjectId(): Promise<string>;
  mintKey(projectId: string, roles: string[], extra?: Record<string, unknown>): Promise<{ id: string; value: string }>;
  stop(): Promise<void>;
}

export interface SystemOptions {
  readonly gateways?: number;
  readonly redis?: boolean;
  readonly env?: Record<string, string>;
  /** Reuse an existing database (e.g. to restart on the same data) instead of a fresh one. */
  readonly databaseUrl?: string;
  /** Point the processes at this Redis instead of REDIS_URL (e.g. a redis-server the test stops and restarts). */
  readonly redisUrl?: string;
  /** Route the gateways' Postgres connections through a TCP proxy the test can cut (system.postgresProxy). */
  readonly postgresProxy?: boolean;
  /** The gateways reach the store through a Unix socket in the data directory (CONIFER_VECTOR_STORE_SOCKET[S]). */
  readonly unixSocket?: boolean;
  /** Per gateway (by position), another build's dist/main.js to run instead of this tree's (benches: before/after). */
  readonly gatewayMains?: readonly (string | undefined)[];
  /** Another build's vector-store dist/main.js to run instead of this tree's (benches: before/after). */
  readonly storeMain?: string;
  /** Node flags for the gateway processes that NODE_OPTIONS does not take (benches: --trace-gc). */
  readonly gatewayNodeArgs?: readonly string[];
}

function launch(script: string, env: NodeJS.ProcessEnv, url: string, nodeArgs: readonly string[] = []): RunningProcess {
  const child = spawn(process.execPath, [...nodeArgs, script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return { child, url, output: () => output };
}

async function waitReady(processHandle: RunningProcess, pathName: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (processHandle.child.exitCode !== null) {
      throw new Error(`process exited early (${processHandle.child.exitCode}):\n${processHandle.output()}`);
    }
    try {
      if ((await fetch(processHandle.url + pathName)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`not ready after ${timeoutMs} ms:\n${processHandle.output()}`);
}

/** Those of `names` set in this process's environment, with their values. */
function setVariables(...names: string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]])));
}

export async function startSystem(options: SystemOptions = {}): Promise<System> {
  // Each system gets its own database, so suites never see each other's tenants or indexes.
  const database = options.databaseUrl
    ? { url: options.databaseUrl, drop: async () => {} }
    : await createTestDatabase();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'conifer-e2e-'));
  const storePort = await freePort();
  let postgresProxy: TcpProxy | undefined;
  let gatewayDatabaseUrl = database.url;
  if (options.postgresProxy) {
    const target = new URL(database.url);
    postgresProxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    target.hostname = '127.0.0.1';
    target.port = String(postgresProxy.port);
    gatewayDatabaseUrl = target.toString();
  }
  const clientId = `sa-e2e-${randomBytes(4).toString('hex')}`;
  const clientSecret = randomBytes(24).toString('hex');
  const baseEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    DATABASE_URL: gatewayDatabaseUrl,
    CONIFER_DATA_DIR: dataDir,
    CONIFER_BIND: '127.0.0.1',
    CONIFER_VECTOR_STORE_PORT: String(storePort),
    CONIFER_VECTOR_STORE_URLS: `http://127.0.0.1:${storePort}`,
    ...(options.unixSocket
      ? {
          CONIFER_VECTOR_STORE_SOCKET: path.join(dataDir, 'store.sock'),
          CONIFER_VECTOR_STORE_SOCKETS: `http://127.0.0.1:${storePort}=${path.join(dataDir, 'store.sock')}`,
        }
      : {}),
    CONIFER_KEY_PEPPER: randomBytes(32).toString('hex'),
    CONIFER_INTERNAL_TOKEN: randomBytes(32).toString('hex'),
    CONIFER_TOKEN_SECRET: randomBytes(32).toString('hex'),
    CONIFER_BOOTSTRAP_CLIENT_ID: clientId,
    CONIFER_BOOTSTRAP_CLIENT_SECRET: clientSecret,
    CONIFER_LOG_LEVEL: 'info',
    ...(options.redis === false
      ? {}
      : { REDIS_URL: options.redisUrl ?? process.env.REDIS_URL, CONIFER_REDIS_KEY_PREFIX: `${process.env.CONIFER_REDIS_KEY_PREFIX ?? 'conifer-e2e:'}${randomBytes(3).toString('hex')}:` }),
    // Passed on where set: the gateway → store protocol under test (the suites and benches run with either:
    // `CONIFER_VECTOR_STORE_PROTOCOL=http npm test`), the usearch binding (`CONIFER_ANN_BINDING=prebuilt npm run bench`
    // measures usearch's own binary), the graph builder's threads (`CONIFER_ANN_BUILD_THREADS=1`: one core).
    ...setVariables('CONIFER_VECTOR_STORE_PROTOCOL', 'CONIFER_ANN_BINDING', 'CONIFER_ANN_BUILD_THREADS'),
    ...options.env,
  };
  const storeMain = options.storeMain ?? STORE_MAIN;
  let store = launch(storeMain, baseEnv, `http://127.0.0.1:${storePort}`);
  const formerStores: RunningProcess[] = [];
  const gateways: RunningProcess[] = [];
  try {
    await waitReady(store, '/healthz');
    for (let i = 0; i < (options.gateways ?? 1); i++) {
      const port = await freePort();
      const env = { ...baseEnv, CONIFER_GATEWAY_PORT: String(port), CONIFER_PUBLIC_URL: `http://127.0.0.1:${port}` };
      const gateway = launch(options.gatewayMains?.[i] ?? GATEWAY_MAIN, env, `http://127.0.0.1:${port}`, options.gatewayNodeArgs);
      gateways.push(gateway);
      // Start replicas one after the other: the first one migrates and bootstraps.
      await waitReady(gateway, '/readyz');
    }
  } catch (error) {
    for (const p of [store, ...gateways]) p.child.kill('SIGKILL');
    await postgresProxy?.close();
    await database.drop();
    throw error;
  }
  const gatewayUrl = gateways[0]!.url;
  let token: { value: string; expires: number } | undefined;

  const system: System = {
    gatewayUrl,
    gateways,
    get store() {
      return store;
    },
    postgresProxy,
    clientId,
    clientSecret,
    dataDir,
    env: baseEnv,
    logs: () => [...formerStores, store, ...gateways].map((p) => p.output()).join('\n'),
    async adminToken() {
      if (token && token.expires > Date.now()) return token.value;
      const response = await fetch(`${gatewayUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
      });
      const body = (await response.json()) as { access_token: string; expires_in: number };
      if (response.status !== 200) throw new Error(`token request failed: ${response.status} ${JSON.stringify(body)}`);
      token = { value: body.access_token, expires: Date.now() + (body.expires_in - 30) * 1000 };
      return token.value;
    },
    async killStore() {
      const child = store.child;
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    },
    async startStore() {
      if (store.child.exitCode === null && store.child.signalCode === null) throw new Error('the vector store is still running');
      formerStores.push(store);
      store = launch(storeMain, baseEnv, `http://127.0.0.1:${storePort}`);
      await waitReady(store, '/readyz');
    },
    async admin(method, url, body) {
      const response = await fetch(`${gatewayUrl}${url}`, {
        method,
        headers: {
          authorization: `Bearer ${await system.adminToken()}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as never };
    },
    async defaultProjectId() {
      const { status, body } = await system.admin<{ data: { id: string; name: string }[] }>('GET', '/admin/projects');
      if (status !== 200) throw new Error(`listing projects failed: ${status}`);
      const project = body.data.find((p) => p.name === 'default');
      if (!project) throw new Error('no default project');
      return project.id;
    },
    async mintKey(projectId, roles, extra = {}) {
      const { status, body } = await system.admin<{ key: { id: string }; value: string }>(
        'POST',
        `/admin/projects/${projectId}/api-keys`,
        { name: `e2e-${roles.join('-') || 'none'}-${randomBytes(3).toString('hex')}`, roles, ...extra },
      );
      if (status !== 201) throw new Error(`minting a key failed: ${status} ${JSON.stringify(body)}`);
      return { id: body.key.id, value: body.value };
    },
    async stop() {
      await Promise.all(
        [...gateways, store].map(
          (p) =>
            new Promise<void>((resolve) => {
              if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
              const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
              p.child.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              p.child.kill('SIGTERM');
            }),
        ),
      );
      rmSync(dataDir, { recursive: true, force: true });
      await postgresProxy?.close();
      await database.drop();
    },
  };
  return system;
}
