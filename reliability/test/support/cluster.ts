// A replicated Conifer cluster for the reliability suites (issue 17): a nats-server child with JetStream (own
// port and store directory, so the test may kill and restart it), N vector-store nodes in JetStream mode
// (each its own port and data directory, killable and restartable, optionally with the directory wiped) and M
// gateway processes over all of them, on the run's own Postgres database and Redis key prefix.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, freePort } from '@conifer/test-utils';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const GATEWAY_MAIN = path.join(repoRoot, 'apps/gateway/dist/main.js');
const STORE_MAIN = path.join(repoRoot, 'apps/vector-store/dist/main.js');
const NATS_SERVER = process.env.CONIFER_TEST_NATS_SERVER ?? '/usr/sbin/nats-server';

interface Proc {
  child: ChildProcess;
  output: string;
}

function launch(command: string, args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc: Proc = { child, output: '' };
  child.stdout!.on('data', (chunk) => (proc.output = (proc.output + chunk).slice(-200_000)));
  child.stderr!.on('data', (chunk) => (proc.output = (proc.output + chunk).slice(-200_000)));
  return proc;
}

const running = (proc: Proc | undefined) => proc !== undefined && proc.child.exitCode === null && proc.child.signalCode === null;

async function kill(proc: Proc | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!proc || !running(proc)) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 15_000);
    proc.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.child.kill(signal);
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, proc: Proc | undefined, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && !running(proc)) throw new Error(`${what}: process exited early (${proc.child.exitCode}):\n${proc.output.slice(-5_000)}`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms\n${proc?.output.slice(-5_000) ?? ''}`);
}

const httpOk = (url: string) => async () => (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;
const portOpen = (port: number) => () =>
  new Promise<boolean>((resolve) => {
    const socket = netConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

class NatsChild {
  private proc: Proc | undefined;
  constructor(
    readonly port: number,
    readonly storeDir: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.proc = launch(NATS_SERVER, ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir], { PATH: process.env.PATH });
    await waitFor('nats-server', portOpen(this.port), this.proc, 20_000);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await kill(this.proc, signal);
  }
}

export class StoreChild {
  private proc: Proc | undefined;
  constructor(
    readonly name: string,
    readonly port: number,
    readonly dataDir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return running(this.proc);
  }

  output(): string {
    return this.proc?.output ?? '';
  }

  async start(options: { wipe?: boolean } = {}): Promise<void> {
    if (options.wipe) rmSync(this.dataDir, { recursive: true, force: true });
    this.proc = launch(process.execPath, [STORE_MAIN], {
      ...this.env,
      CONIFER_VECTOR_STORE_PORT: String(this.port),
      CONIFER_VECTOR_STORE_DATA_DIR: this.dataDir,
      CONIFER_NODE_ID: this.name,
    });
    await waitFor(`store ${this.name}`, httpOk(`${this.url}/readyz`), this.proc);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await kill(this.proc, signal);
  }
}

export interface Cluster {
  readonly nats: NatsChild;
  readonly stores: StoreChild[];
  readonly gatewayUrls: string[];
  readonly databaseUrl: string;
  readonly internalToken: string;
  mintKey(roles: string[]): Promise<string>;
  logs(): string;
  stop(): Promise<void>;
}

export async function startCluster(options: { stores: number; gateways: number; env?: Record<string, string> }): Promise<Cluster> {
  const database = await createTestDatabase();
  const root = mkdtempSync(path.join(tmpdir(), 'conifer-cluster-'));
  const nats = new NatsChild(await freePort(), path.join(root, 'nats'));
  const clientId = `sa-cluster-${randomBytes(4).toString('hex')}`;
  const clientSecret = randomBytes(24).toString('hex');
  const internalToken = randomBytes(32).toString('hex');
  const storePorts: number[] = [];
  for (let i = 0; i < options.stores; i++) storePorts.push(await freePort());
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    REDIS_URL: process.env.REDIS_URL,
    CONIFER_REDIS_KEY_PREFIX: `conifer-cluster:${randomBytes(3).toString('hex')}:`,
    CONIFER_DATA_DIR: root,
    CONIFER_BIND: '127.0.0.1',
    CONIFER_NATS_URL: nats.url,
    // Unique names per run: a leftover stream of an earlier run can never be mistaken for this one's.
    CONIFER_NATS_PREFIX: `C${randomBytes(4).toString('hex')}`,
    CONIFER_VECTOR_STORE_URLS: storePorts.map((port) => `http://127.0.0.1:${port}`).join(','),
    CONIFER_KEY_PEPPER: randomBytes(32).toString('hex'),
    CONIFER_INTERNAL_TOKEN: internalToken,
    CONIFER_TOKEN_SECRET: randomBytes(32).toString('hex'),
    CONIFER_BOOTSTRAP_CLIENT_ID: clientId,
    CONIFER_BOOTSTRAP_CLIENT_SECRET: clientSecret,
    CONIFER_LOG_LEVEL: 'info',
    ...options.env,
  };
  const stores = storePorts.map((port, i) => new StoreChild(`node${i + 1}`, port, path.join(root, `store${i + 1}`), env));
  const gateways: Proc[] = [];
  const gatewayUrls: string[] = [];
  const stop = async () => {
    await Promise.all([...gateways.map((g) => kill(g, 'SIGTERM')), ...stores.map((s) => s.kill('SIGTERM'))]);
    await nats.kill('SIGTERM');
    rmSync(root, { recursive: true, force: true });
    await database.drop();
  };
  try {
    await nats.start();
    for (const store of stores) await store.start();
    for (let i = 0; i < options.gateways; i++) {
      const port = await freePort();
      const gateway = launch(process.execPath, [GATEWAY_MAIN], { ...env, CONIFER_GATEWAY_PORT: String(port), CONIFER_PUBLIC_URL: `http://127.0.0.1:${port}` });
      gateways.push(gateway);
      gatewayUrls.push(`http://127.0.0.1:${port}`);
      // One after the other: the first one migrates and bootstraps.
      await waitFor(`gateway ${i + 1}`, httpOk(`http://127.0.0.1:${port}/readyz`), gateway);
    }
  } catch (error) {
    await stop();
    throw error;
  }

  const admin = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const tokenResponse = await fetch(`${gatewayUrls[0]}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
    });
    const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
    const response = await fetch(`${gatewayUrls[0]}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };

  return {
    nats,
    stores,
    gatewayUrls,
    databaseUrl: database.url,
    internalToken,
    async mintKey(roles) {
      const projects = await admin<{ data: { id: string; name: string }[] }>('GET', '/admin/projects');
      const project = projects.data.find((p) => p.name === 'default')!;
      const minted = await admin<{ value: string }>('POST', `/admin/projects/${project.id}/api-keys`, { name: `cluster-${randomBytes(3).toString('hex')}`, roles });
      return minted.value;
    },
    logs: () => [...stores.map((s) => s.output()), ...gateways.map((g) => g.output)].join('\n'),
    stop,
  };
}
