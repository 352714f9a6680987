// Test support for the control-plane and data-plane suites: the real gateway app (createGatewayApp) on a free
// port, configured to use fake vector-store nodes (test doubles of the internal API), and a small HTTP helper.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig, resolveSecrets, type ConiferConfig } from '@conifer/config';
import { pino } from 'pino';
import { createGatewayApp } from '../../src/app.js';
import { TEST_PEPPER } from './auth-gateway.js';

export const INTERNAL_TOKEN = 'internal-token-'.padEnd(40, 'i');

interface HttpResult {
  readonly status: number;
  readonly text: string;
  readonly body: any;
  readonly headers: Headers;
}

export interface IndexesGateway {
  readonly app: NestFastifyApplication;
  readonly config: ConiferConfig;
  readonly baseUrl: string;
  call(method: string, url: string, options?: { apiKey?: string; body?: unknown; raw?: string | Buffer; headers?: Record<string, string> }): Promise<HttpResult>;
  close(): Promise<void>;
}

export async function startIndexesGateway(env: Record<string, string>): Promise<IndexesGateway> {
  const databaseUrl = process.env.DATABASE_URL!;
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    CONIFER_REDIS_KEY_PREFIX: process.env.CONIFER_REDIS_KEY_PREFIX ?? 'conifer-test:',
    CONIFER_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'conifer-indexes-')),
    CONIFER_KEY_PEPPER: TEST_PEPPER,
    CONIFER_INTERNAL_TOKEN: INTERNAL_TOKEN,
    CONIFER_TOKEN_SECRET: 'token-secret-'.padEnd(40, 't'),
    CONIFER_LOG_LEVEL: 'silent',
    ...env,
  });
  const logger = pino({ level: 'silent' });
  const app = await createGatewayApp({ config, secrets: resolveSecrets(config), databaseUrl }, logger);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.getHttpServer().address() as { port: number };
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    app,
    config,
    baseUrl,
    async call(method, url, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.apiKey !== undefined) headers['api-key'] = options.apiKey;
      let body: string | Buffer | undefined = options.raw;
      if (options.body !== undefined) body = JSON.stringify(options.body);
      if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
      const response = await fetch(baseUrl + url, { method, headers, body });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = text;
      }
      return { status: response.status, text, body: parsed, headers: response.headers };
    },
    close: () => app.close(),
  };
}
