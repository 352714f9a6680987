// HTTP over keep-alive sockets, percentiles, progress lines and process probes used by the bench.
import http from 'node:http';
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import type { VectorSegment } from '@conifer/engine';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

export interface HttpResponse {
  status: number;
  text: string;
  /** From send to the last byte. */
  ms: number;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

type RequestError = NodeJS.ErrnoException & { reusedSocket?: boolean };

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * One request; resolves to { status, text, ms } (ms: from send to the last byte). A kept-alive socket the
 * server closed while it sat idle (e.g. during the ground-truth computation) is retried once on a new one.
 */
export async function request(url: string, options: RequestOptions = {}): Promise<HttpResponse> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await requestOnce(url, options);
    } catch (error) {
      if (!(error as RequestError).reusedSocket || attempt >= 3) throw error;
      // Every idle socket of the pool is likely just as stale: drop them all.
      for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
    }
  }
}

function requestOnce(url: string, { method = 'GET', headers = {}, body }: RequestOptions = {}): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request(url, { method, agent, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), ms: Number(process.hrtime.bigint() - started) / 1e6 }),
      );
      res.on('error', reject);
    });
    req.on('error', (error: RequestError) => {
      error.reusedSocket = req.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
      reject(error);
    });
    req.end(body);
  });
}

/** The parsed JSON answer of a 2xx response (untyped: the bench reads what it needs). */
export async function json(url: string, options?: RequestOptions): Promise<any> {
  const response = await request(url, options);
  if (response.status >= 300) throw new Error(`${options?.method ?? 'GET'} ${url} → ${response.status} ${response.text.slice(0, 300)}`);
  return response.text ? JSON.parse(response.text) : undefined;
}

export function percentile(xs: ArrayLike<number>, p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = Float64Array.from(xs).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** The median as the tools report it: the middle element, the upper one of an even count. */
export const median = (xs: ArrayLike<number>): number => percentile(xs, 50);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A single self-overwriting progress line on stderr (plain lines when stderr is not a terminal). */
export function progress(label: string): { update(text: string, force?: boolean): void; done(text: string): void } {
  let last = 0;
  const tty = process.stderr.isTTY;
  return {
    update(text, force = false) {
      const now = Date.now();
      if (!force && now - last < (tty ? 250 : 5000)) return;
      last = now;
      process.stderr.write(tty ? `\r\x1b[K  ${label}: ${text}` : `  ${label}: ${text}\n`);
    },
    done(text) {
      process.stderr.write(tty ? `\r\x1b[K  ${label}: ${text}\n` : `  ${label}: ${text}\n`);
    },
  };
}

/**
 * CPU time a process (all its threads) or one of its threads has used so far, in seconds: user and system apart
 * (Linux /proc; USER_HZ 100, so 10 ms steps). What a process costs however busy the machine is.
 */
export function cpuTime(pid: number, tid?: number): { user: number; system: number } {
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count the fields after its closing one.
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

/** CPU seconds (user + system) each live thread of `pid` has used so far, by thread id, with the thread's name. */
export function threadCpu(pid: number): Map<number, { name: string; cpu: number }> {
  const out = new Map<number, { name: string; cpu: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`).map(Number)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const { user, system } = cpuTime(pid, tid);
      out.set(tid, { name, cpu: user + system });
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/**
 * A vector store's CPU seconds by thread group, by the names the store gives its threads: the event loop (`loop`),
 * the parse workers (`parse`), the ANN builder (`ann`), other workers (`workers`), the rest (`other`: V8's helpers,
 * libuv's pool).
 */
export function storeThreadCpu(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [tid, { name, cpu }] of threadCpu(pid)) {
    const group = tid === pid ? 'loop' : name === 'conifer-parse' ? 'parse' : name === 'conifer-ann' ? 'ann' : name === 'WorkerThread' ? 'workers' : 'other';
    out[group] = (out[group] ?? 0) + cpu;
  }
  return out;
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const { user, system } = cpuTime(pid);
  return user + system;
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb * 1024;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Runs `worker(i)` for i in 0..count-1 with at most `concurrency` in flight. */
export async function pool(count: number, concurrency: number, worker: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++;
      await worker(i);
    }
  });
  await Promise.all(lanes);
}

/**
 * A lean keep-alive client for the overhead section's second latency figure: one socket, one request of
 * pre-built bytes (request line, headers and body written at once), the answer read by its Content-Length.
 * No user has it (clients go through an HTTP library such as `request` above's node:http); it shows how much of
 * a loopback round trip is the client's own, so both figures are reported.
 */
export class RawHttpClient {
  private socket: Socket | undefined;
  private readonly url: URL;
  private readonly bytes: Buffer;
  private pending: { chunks: Buffer[]; size: number; resolve: (r: HttpResponse) => void; reject: (e: Error) => void; started: bigint } | undefined;

  constructor(url: URL, method: string, headers: Record<string, string>, body: string) {
    this.url = url;
    const payload = Buffer.from(body);
    let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\nconnection: keep-alive\r\ncontent-type: application/json\r\ncontent-length: ${payload.length}\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    this.bytes = Buffer.concat([Buffer.from(`${head}\r\n`), payload]);
  }

  send(): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      this.pending = { chunks: [], size: 0, resolve, reject, started: process.hrtime.bigint() };
      if (this.socket === undefined || this.socket.destroyed) this.socket = this.open();
      this.socket.write(this.bytes);
    });
  }

  close(): void {
    this.socket?.destroy();
  }

  private open(): Socket {
    const socket = connect(Number(this.url.port), this.url.hostname);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    const failed = (error: Error) => {
      const pending = this.pending;
      this.pending = undefined;
      pending?.reject(error);
    };
    socket.on('error', failed);
    socket.on('close', () => failed(new Error('connection closed')));
    return socket;
  }

  private receive(chunk: Buffer): void {
    const pending = this.pending;
    if (pending === undefined) return;
    pending.chunks.push(chunk);
    pending.size += chunk.length;
    const data = pending.chunks.length === 1 ? chunk : Buffer.concat(pending.chunks, pending.size);
    const headEnd = data.indexOf('\r\n\r\n');
    if (headEnd === -1) return;
    const head = data.toString('latin1', 0, headEnd);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (length === null) {
      this.pending = undefined;
      pending.reject(new Error(`RawHttpClient reads answers with a Content-Length only: ${head.slice(0, 200)}`));
      return;
    }
    const total = headEnd + 4 + Number(length[1]);
    if (data.length < total) return;
    this.pending = undefined;
    pending.resolve({ status: Number(head.slice(9, 12)), text: data.toString('utf8', headEnd + 4, total), ms: Number(process.hrtime.bigint() - pending.started) / 1e6 });
  }
}

/**
 * A bench tool's command line: its positional arguments, and its `--name=value` flags by name (a bare `--name` is
 * there with the value '').
 */
export function commandLine(argv: readonly string[] = process.argv.slice(2)): { args: string[]; flags: Record<string, string | undefined> } {
  const flags: Record<string, string | undefined> = {};
  for (const a of argv) {
    if (!a.startsWith('--')) continue;
    const at = a.indexOf('=');
    flags[at < 0 ? a.slice(2) : a.slice(2, at)] = at < 0 ? '' : a.slice(at + 1);
  }
  return { args: argv.filter((a) => !a.startsWith('--')), flags };
}

/**
 * A values segment over a file of `rows` float32 rows of `dim` (slots 0…rows−1), read with `pread` as the store's
 * values files are (page cache, not the process's memory); `close()` closes the file.
 */
export function fileSegment(file: string, rows: number, dim: number): VectorSegment & { close(): void } {
  const fd = openSync(file, 'r');
  return {
    rows,
    read(first, count, out, outOffset) {
      readSync(fd, new Uint8Array(out.buffer, out.byteOffset + outOffset * 4, count * dim * 4), 0, count * dim * 4, first * dim * 4);
    },
    close: () => closeSync(fd),
  };
}
