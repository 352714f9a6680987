// Shared by the admin API integration suites: a gateway built in-process on the run's database, organizations
// with service accounts written straight into the database, and small HTTP helpers over app.inject.
import { randomUUID } from 'node:crypto';
import { Global, Module, type Provider } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig, type ConiferConfig, type ResolvedSecrets } from '@conifer/config';
import { hashSecret, mintClientCredentials } from '@conifer/keys';
import { pino } from 'pino';
import { createGatewayApp } from '../../src/app.js';
import type { GatewayRuntime } from '../../src/config/runtime.js';
import { PrismaService } from '../../src/database/prisma.service.js';

export const logger = pino({ level: 'silent' });

/** The run's Redis (from jest globalSetup), for suites that share state between gateways through it. */
export function redisEnv(): Record<string, string> {
  if (!process.env.REDIS_URL || process.env.CONIFER_TEST_REDIS_UNAVAILABLE) throw new Error('these tests need Redis (REDIS_URL)');
  return { REDIS_URL: process.env.REDIS_URL, CONIFER_REDIS_KEY_PREFIX: process.env.CONIFER_REDIS_KEY_PREFIX ?? 'conifer-test:' };
}

export function testRuntime(env: Record<string, string> = {}): GatewayRuntime {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is not set (jest globalSetup provides it)');
  const config: ConiferConfig = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    CONIFER_KEY_PEPPER: 'test-pepper-'.padEnd(40, 'p'),
    CONIFER_INTERNAL_TOKEN: 'test-internal-'.padEnd(40, 'i'),
    CONIFER_TOKEN_SECRET: 'test-token-secret-'.padEnd(40, 't'),
    CONIFER_LOG_LEVEL: 'silent',
    CONIFER_ADMIN_LOGIN_MAX_FAILURES: '1000',
    ...env,
  });
  const secrets: ResolvedSecrets = {
    keyPepper: config.secrets.keyPepper!,
    internalToken: config.secrets.internalToken!,
    tokenSecret: config.secrets.tokenSecret!,
  };
  return { config, secrets, databaseUrl };
}

export async function startGateway(runtime = testRuntime()): Promise<NestFastifyApplication> {
  const app = await createGatewayApp(runtime, logger);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}

/** A gateway with extra global providers (e.g. a fake ProjectIndexRemover), which replace the application's. */
export async function startGatewayWith(providers: Provider[], runtime = testRuntime()): Promise<NestFastifyApplication> {
  @Global()
  @Module({ providers, exports: providers.map((p) => (typeof p === 'function' ? p : (p as unknown as { provide: never }).provide)) })
  class ExtraProvidersModule {}
  const app = await createGatewayApp(runtime, logger, { imports: [ExtraProvidersModule], abortOnError: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}

export interface Tenant {
  readonly organizationId: string;
  readonly serviceAccountId: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

/** An organization and an active service account, written directly (as an operator's provisioning would). */
export async function createTenant(app: NestFastifyApplication, runtime: GatewayRuntime, name = 'org'): Promise<Tenant> {
  const prisma = app.get(PrismaService);
  const organizationId = randomUUID();
  const serviceAccountId = randomUUID();
  const { clientId, clientSecret } = mintClientCredentials();
  await prisma.organization.create({ data: { id: organizationId, name: `${name}-${organizationId.slice(0, 8)}` } });
  await prisma.serviceAccount.create({
    data: {
      id: serviceAccountId,
      organizationId,
      name: 'admin',
      clientId,
      secretHash: hashSecret(runtime.secrets.keyPepper, clientId, clientSecret),
    },
  });
  return { organizationId, serviceAccountId, clientId, clientSecret };
}

export function baseUrl(app: NestFastifyApplication): string {
  const address = app.getHttpServer().address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}

export interface Reply {
  readonly status: number;
  readonly body: any;
  readonly headers: Record<string, unknown>;
}

export async function call(
  app: NestFastifyApplication,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT',
  url: string,
  options: { token?: string; body?: unknown; rawBody?: string; contentType?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let payload: string | undefined;
  if (options.rawBody !== undefined) payload = options.rawBody;
  else if (options.body !== undefined) payload = JSON.stringify(options.body);
  if (payload !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const response = await fetch(`${baseUrl(app)}${url}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: response.status, body, headers: Object.fromEntries(response.headers.entries()) };
}

export async function login(app: NestFastifyApplication, tenant: Pick<Tenant, 'clientId' | 'clientSecret'>): Promise<string> {
  const reply = await call(app, 'POST', '/oauth/token', {
    body: { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret },
  });
  if (reply.status !== 200) throw new Error(`login failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body.access_token as string;
}

/** Pinecone's REST error shape. */
export function expectErrorShape(reply: Reply, status: number, code: string): void {
  const ok =
    reply.status === status &&
    reply.body?.status === status &&
    reply.body?.error?.code === code &&
    typeof reply.body?.error?.message === 'string' &&
    reply.body?.message === reply.body?.error?.message;
  if (!ok) throw new Error(`expected ${status} ${code}, got ${reply.status} ${JSON.stringify(reply.body)}`);
}
