// Shared helpers for the reliability suites: durations (short in `npm test`, long in `npm run soak`), HTTP
// calls that never throw, Pinecone error-shape checks, index setup and the figures printed at the end.
import type { System } from '@conifer/test-utils';

/** Seconds of load per phase: CONIFER_SOAK_SECONDS in `npm run soak`, else the short default. */
export function soakSeconds(shortDefault: number): number {
  const value = Number(process.env.CONIFER_SOAK_SECONDS);
  return Number.isFinite(value) && value > 0 ? value : shortDefault;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Reply {
  readonly status: number;
  readonly text: string;
  readonly json: unknown;
  readonly headers: Headers;
  /** When the request was sent / when its answer was complete (Date.now()). */
  readonly sentAt: number;
  readonly doneAt: number;
}

/** A fetch that resolves to a status; network failures and timeouts become status 0. */
export async function call(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array; timeoutMs?: number } = {},
): Promise<Reply> {
  const sentAt = Date.now();
  try {
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      headers: init.headers,
      body: init.body,
      signal: AbortSignal.timeout(init.timeoutMs ?? 20_000),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, text, json, headers: response.headers, sentAt, doneAt: Date.now() };
  } catch (error) {
    return { status: 0, text: String((error as Error).message), json: undefined, headers: new Headers(), sentAt, doneAt: Date.now() };
  }
}

export const jsonHeaders = (apiKey?: string): Record<string, string> => ({
  'content-type': 'application/json',
  ...(apiKey ? { 'api-key': apiKey } : {}),
});

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** REST error body (admin API, control plane): {"error":{"code","message"},"status","message"}. */
export function isRestError(body: unknown, status: number): boolean {
  if (!isObject(body) || !isObject(body.error)) return false;
  return (
    typeof body.error.code === 'string' &&
    /^[A-Z_]+$/.test(body.error.code) &&
    typeof body.error.message === 'string' &&
    body.status === status &&
    typeof body.message === 'string'
  );
}

/** gRPC-style data-plane error body: {"code":N,"message","details":[]}. */
export function isGrpcError(body: unknown): boolean {
  return isObject(body) && Number.isInteger(body.code) && typeof body.message === 'string' && Array.isArray(body.details);
}

export const DIMENSION = 8;

export function vector(seed: number): number[] {
  return Array.from({ length: DIMENSION }, (_, d) => Math.fround(Math.sin(seed * 12.9898 + d * 78.233)));
}

/** Creates a dense index through the control plane and waits until it is ready; returns its data-plane path. */
export async function createIndex(system: System, apiKey: string, name: string): Promise<string> {
  const created = await call(`${system.gatewayUrl}/indexes`, {
    method: 'POST',
    headers: jsonHeaders(apiKey),
    body: JSON.stringify({
      name,
      dimension: DIMENSION,
      metric: 'cosine',
      spec: { serverless: { cloud: 'aws', region: 'us-east-1' } },
      deletion_protection: 'disabled',
    }),
  });
  if (created.status !== 201) throw new Error(`creating index ${name}: ${created.status} ${created.text}`);
  for (let i = 0; i < 100; i++) {
    const described = await call(`${system.gatewayUrl}/indexes/${name}`, { headers: jsonHeaders(apiKey) });
    const model = described.json as { status?: { ready?: boolean }; host: string };
    if (model?.status?.ready) return new URL(model.host).pathname;
    await sleep(100);
  }
  throw new Error(`index ${name} never became ready`);
}

/** Counts by label, printed sorted. */
export class Tally {
  private readonly counts = new Map<string, number>();
  add(label: string | number, n = 1): void {
    const key = String(label);
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }
  get(label: string | number): number {
    return this.counts.get(String(label)) ?? 0;
  }
  total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }
}

/** Prints one suite's figures in a compact, greppable block. */
export function printFigures(suite: string, figures: Record<string, unknown>): void {
  const lines = Object.entries(figures).map(([k, v]) => `  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  console.log(`\n=== reliability figures: ${suite} ===\n${lines.join('\n')}\n`);
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
