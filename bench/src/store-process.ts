// A vector store process of its own for the store-level sections (memory, stalls): started on a data
// directory, driven over HTTP with the internal token, its /metrics and /proc figures read, stopped with
// SIGTERM and started again (the restart).
import { type ChildProcess, execSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpuSeconds, type HttpResponse, pool, request, sleep } from './util.ts';

const TOKEN = 'bench-memory-internal-token-0123456789abcdef';

export function status(pid: number): { rssAnon: number; rssFile: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(text)?.[1] ?? NaN) * 1024;
  return { rssAnon: kb('RssAnon'), rssFile: kb('RssFile') };
}

export const load = (): string => execSync('uptime').toString().trim().replace(/.*load average:\s*/, '');

export interface StoreMetrics {
  annPending: number;
  annQueries: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

/** The 'index loaded' line the store logs at info after a restart (with its timings). */
interface IndexLoaded {
  replayMs?: number;
  graphsMs?: number;
}

/** One store process on a data directory of its own; start() again after stop() is the restart. */
export class Store {
  readonly url: string;
  readonly headers = { 'x-conifer-internal-token': TOKEN };
  private readonly main: string;
  private readonly nodeArgs: readonly string[];
  private readonly env: NodeJS.ProcessEnv;
  private child: ChildProcess | undefined;
  loaded: IndexLoaded | undefined;
  /** Called with each line of the store's stdout that is not a JSON log line (e.g. --trace-gc's). */
  onOtherLine: ((line: string) => void) | undefined;

  /** `nodeArgs`: options of the node process itself (e.g. --cpu-prof), before the script. */
  constructor(main: string, dataDir: string, port: number, nodeArgs: readonly string[] = []) {
    this.main = main;
    this.nodeArgs = nodeArgs;
    this.url = `http://127.0.0.1:${port}`;
    this.env = {
      ...process.env,
      // info: the store logs only start, stop, snapshots and 'index loaded' (with its timings) at info.
      CONIFER_LOG_LEVEL: 'info',
      CONIFER_BIND: '127.0.0.1',
      CONIFER_VECTOR_STORE_PORT: String(port),
      CONIFER_DATA_DIR: dataDir,
      CONIFER_INTERNAL_TOKEN: TOKEN,
    };
  }

  get pid(): number {
    if (this.child?.pid === undefined) throw new Error('the store is not running');
    return this.child.pid;
  }

  /** Starts the process; resolves with the milliseconds until /readyz answers 200. */
  async start(): Promise<number> {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...this.nodeArgs, this.main], { env: this.env, stdio: ['ignore', 'pipe', 'inherit'] });
    this.child = child;
    this.loaded = undefined;
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.includes('"index loaded"')) this.loaded = JSON.parse(line) as IndexLoaded;
        else if (!line.startsWith('{')) this.onOtherLine?.(line);
      }
    });
    for (;;) {
      if (child.exitCode !== null) throw new Error(`store exited with ${child.exitCode}`);
      const ok = await request(`${this.url}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return performance.now() - t0;
      await sleep(25);
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  }

  /** The Prometheus text of /metrics. */
  async metricsText(): Promise<string> {
    return (await request(`${this.url}/metrics`, { headers: this.headers })).text;
  }

  /** The breadth multiplier the store's graph plans with (conifer_store_ann_breadth_scale), 'none' before one. */
  async breadthScale(): Promise<string> {
    return /^conifer_store_ann_breadth_scale\{[^}]*\} (\S+)/m.exec(await this.metricsText())?.[1] ?? 'none';
  }

  /**
   * Waits until the store has finished its background work (a restored index sketches its vectors from the values
   * file on the event loop and may calibrate its graph's breadth again on its ANN worker, for seconds at
   * 100k × 768; an ingested one calibrates after its build): until, over two seconds, its main thread used under
   * 3 % of a core (conifer_store_event_loop_busy_seconds) and the whole process (/proc: the workers too) under
   * `processShare` of one. A profiled store's sampling thread counts in the process: pass Infinity. Returns the
   * seconds waited.
   */
  async quiet(processShare = 0.03): Promise<number> {
    const t0 = performance.now();
    const busy = async (): Promise<number> => Number(/^conifer_store_event_loop_busy_seconds_sum (\S+)/m.exec(await this.metricsText())?.[1] ?? NaN);
    for (;;) {
      const loop0 = await busy();
      const process0 = cpuSeconds(this.pid);
      await sleep(2000);
      const loop = ((await busy()) - loop0) / 2;
      const process = (cpuSeconds(this.pid) - process0) / 2;
      if (loop < 0.03 && process < processShare) return (performance.now() - t0) / 1000;
    }
  }

  async metrics(): Promise<StoreMetrics> {
    const text = await this.metricsText();
    const value = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
    return {
      annPending: value(/^conifer_store_ann_pending_vectors (\d+)/m),
      annQueries: value(/^conifer_store_queries_total\{[^}]*plan="ann"[^}]*\} (\d+)/m) || 0,
      heapUsed: value(/^nodejs_heap_size_used_bytes (\d+)/m),
      heapTotal: value(/^nodejs_heap_size_total_bytes (\d+)/m),
      external: value(/^nodejs_external_memory_bytes (\d+)/m),
    };
  }

  /** Creates the bench's cosine index of `dim` dimensions and upserts `count` bodies (`body(i)`), 4 in flight. */
  async ingest(dim: number, count: number, body: (i: number) => Buffer): Promise<void> {
    const put = await request(`${this.url}/internal/indexes/bench`, { method: 'PUT', headers: this.headers, body: JSON.stringify({ dimension: dim, metric: 'cosine' }) });
    if (put.status >= 300) throw new Error(`create: ${put.status} ${put.text}`);
    await pool(count, 4, async (i) => {
      const r = await this.post('/vectors/upsert', body(i));
      if (r.status !== 200) throw new Error(`upsert: ${r.status} ${r.text.slice(0, 200)}`);
    });
  }

  post(route: string, body: string | Buffer): Promise<HttpResponse> {
    return request(`${this.url}/internal/indexes/bench${route}`, { method: 'POST', headers: this.headers, body });
  }
}

