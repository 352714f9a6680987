import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildServer } from '../../src/api/server.js';
import { IndexRegistry, type RegistryOptions } from '../../src/storage/index-registry.js';

export const TOKEN = 'test-internal-token-0123456789abcdef';

export interface TestApp {
  app: FastifyInstance;
  registry: IndexRegistry;
  dataDir: string;
  url: string;
  close(): Promise<void>;
  call(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; raw: string }>;
}

export async function startTestApp(options: Partial<RegistryOptions> = {}, parseWorkers = 0): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'conifer-api-'));
  const logger = pino({ level: 'silent' });
  const registry = await IndexRegistry.open(dataDir, logger, options);
  const app = buildServer({ registry, internalToken: TOKEN, maxBodyBytes: 4 * 1024 * 1024, logger, parseWorkers });
  // Real sockets: the suites also reach the server with plain fetch (t.url), as the gateway does.
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: address,
    app,
    registry,
    dataDir,
    async close() {
      await app.close();
      await registry.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
    async call(method, url, body, headers = {}) {
      const res = await fetch(`${address}${url}`, {
        method,
        headers: { 'x-conifer-internal-token': TOKEN, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      const raw = await res.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        parsed = undefined;
      }
      return { status: res.status, body: parsed, raw };
    },
  };
}
