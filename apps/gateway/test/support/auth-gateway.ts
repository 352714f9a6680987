// Test support for the auth suites: gateways built in-process with a tiny test-only controller (one route per
// permission, scope checks, a data-plane route), keys created directly in the database, captured log lines.
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Controller, Get, Module, Query, type DynamicModule } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig, resolveSecrets } from '@conifer/config';
import type { Permission } from '@conifer/contracts';
import { hashSecret, mintApiKey } from '@conifer/keys';
import pg from 'pg';
import { pino } from 'pino';
import { ApiKeyAuth, assertIndexInScope, assertNamespaceInScope } from '../../src/auth/api-key.guard.js';
import { KeyEvents } from '../../src/auth/key-events.js';
import { LastUsedSink } from '../../src/auth/last-used.sink.js';
import { CurrentPrincipal, type ApiKeyPrincipal } from '../../src/auth/principal.js';
import { createGatewayApp } from '../../src/app.js';
import { REDACTED_PATHS } from '../../src/common/logger.js';
import type { GatewayRuntime } from '../../src/config/runtime.js';
import { RedisService } from '../../src/redis/redis.service.js';

export const TEST_PEPPER = 'test-pepper-'.padEnd(48, 'p');

@Controller()
class AuthTestController {
  @Get('auth-test/control-read')
  @ApiKeyAuth('control:read')
  controlRead(@CurrentPrincipal() principal: ApiKeyPrincipal) {
    return { projectId: principal.projectId, permission: 'control:read' };
  }

  @Get('auth-test/control-write')
  @ApiKeyAuth('control:write')
  controlWrite(@CurrentPrincipal() principal: ApiKeyPrincipal) {
    return { projectId: principal.projectId, permission: 'control:write' };
  }

  @Get('auth-test/data-read')
  @ApiKeyAuth('data:read')
  dataRead(@CurrentPrincipal() principal: ApiKeyPrincipal) {
    return { projectId: principal.projectId, permission: 'data:read' };
  }

  @Get('auth-test/data-write')
  @ApiKeyAuth('data:write')
  dataWrite(@CurrentPrincipal() principal: ApiKeyPrincipal) {
    return { projectId: principal.projectId, permission: 'data:write' };
  }

  @Get('auth-test/scope')
  @ApiKeyAuth('data:read')
  scope(@CurrentPrincipal() principal: ApiKeyPrincipal, @Query('index') index: string, @Query('namespace') namespace?: string) {
    assertIndexInScope(principal, index);
    assertNamespaceInScope(principal, namespace);
    return { ok: true };
  }

  @Get('data/:project/:index/auth-test')
  @ApiKeyAuth('data:read')
  dataPlane(@CurrentPrincipal() principal: ApiKeyPrincipal) {
    return { projectId: principal.projectId };
  }
}

@Module({ controllers: [AuthTestController] })
class AuthTestRoutesModule {}

/** Records last-use reports as the key service's batched recorder would receive them. */
export class RecordingLastUsedSink extends LastUsedSink {
  readonly records: { keyId: string; at: Date }[] = [];
  record(keyId: string, at: Date): void {
    this.records.push({ keyId, at });
  }
}

/** A global module whose LastUsedSink replaces the key service's recorder. */
function lastUsedModule(lastUsed: LastUsedSink): DynamicModule {
  return { module: LastUsedTestModule, global: true, providers: [{ provide: LastUsedSink, useValue: lastUsed }], exports: [LastUsedSink] };
}

@Module({})
class LastUsedTestModule {}

export const PERMISSION_ROUTES: Record<Permission, string> = {
  'control:read': '/auth-test/control-read',
  'control:write': '/auth-test/control-write',
  'data:read': '/auth-test/data-read',
  'data:write': '/auth-test/data-write',
};

export interface TestGateway {
  readonly app: NestFastifyApplication;
  readonly baseUrl: string;
  readonly logs: string[];
  request(url: string, apiKey?: string): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  /** Overrides REDIS_URL; null: single-node mode. */
  readonly redisUrl?: string | null;
  readonly databaseUrl?: string;
  readonly env?: Record<string, string>;
  readonly lastUsed?: LastUsedSink;
}

export async function startGateway(options: GatewayOptions = {}): Promise<TestGateway> {
  const redisUrl = options.redisUrl === undefined ? process.env.REDIS_URL : (options.redisUrl ?? undefined);
  const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL!;
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    CONIFER_REDIS_KEY_PREFIX: process.env.CONIFER_REDIS_KEY_PREFIX ?? 'conifer-test:',
    CONIFER_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'conifer-auth-')),
    CONIFER_KEY_PEPPER: TEST_PEPPER,
    CONIFER_INTERNAL_TOKEN: 'internal-token-'.padEnd(40, 'i'),
    CONIFER_TOKEN_SECRET: 'token-secret-'.padEnd(40, 't'),
    CONIFER_LOG_LEVEL: 'debug',
    ...options.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = pino({ level: 'debug', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, sink);
  const runtime: GatewayRuntime = { config, secrets: resolveSecrets(config), databaseUrl };
  const app = await createGatewayApp(runtime, logger, {
    imports: [AuthTestRoutesModule, ...(options.lastUsed ? [lastUsedModule(options.lastUsed)] : [])],
    abortOnError: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onResponse', async (request, reply) => {
    logger.info({ method: request.method, url: request.url, status: reply.statusCode, headers: request.headers }, 'request');
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  // Start from a connected Redis, as a deployed gateway would be by the time it gets traffic.
  const redis = app.get(RedisService).client;
  for (let waited = 0; redis && redis.status !== 'ready' && waited < 5_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
  const address = fastify.server.address() as { port: number };
  const baseUrl = `http://127.0.0.1:${address.port}`;
  return {
    app,
    baseUrl,
    logs,
    async request(url, apiKey) {
      const response = await fetch(baseUrl + url, { headers: apiKey === undefined ? {} : { 'api-key': apiKey } });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: response.status, body, headers: Object.fromEntries(response.headers) };
    },
    close: () => app.close(),
  };
}

export interface TestKey {
  readonly id: string;
  readonly keyId: string;
  readonly value: string;
  readonly projectId: string;
}

export interface KeyOptions {
  readonly roles?: string[];
  readonly indexScope?: string[];
  readonly namespaceScope?: string[];
  readonly rateLimitPerSecond?: number | null;
  readonly expiresAt?: Date | null;
  readonly revokedAt?: Date | null;
}

/** Direct database access for the tests: organizations, projects and keys as the key service would write them. */
export class TestCatalog {
  readonly pool: pg.Pool;

  constructor(databaseUrl = process.env.DATABASE_URL!) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  }

  async createProject(): Promise<string> {
    const organizationId = randomUUID();
    const projectId = randomUUID();
    await this.pool.query('INSERT INTO organizations (id, name) VALUES ($1, $2)', [organizationId, `org-${organizationId.slice(0, 8)}`]);
    await this.pool.query('INSERT INTO projects (id, organization_id, name) VALUES ($1, $2, $3)', [projectId, organizationId, 'project']);
    return projectId;
  }

  async createKey(projectId: string, options: KeyOptions = {}): Promise<TestKey> {
    const minted = mintApiKey();
    const id = randomUUID();
    await this.pool.query(
      `INSERT INTO api_keys (id, key_id, project_id, name, secret_hash, last_four, roles, index_scope, namespace_scope,
         rate_limit_per_second, expires_at, revoked_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        id,
        minted.keyId,
        projectId,
        'test key',
        hashSecret(TEST_PEPPER, minted.keyId, minted.secret),
        minted.lastFour,
        options.roles ?? ['ProjectEditor'],
        options.indexScope ?? [],
        options.namespaceScope ?? [],
        options.rateLimitPerSecond ?? null,
        options.expiresAt ?? null,
        options.revokedAt ?? null,
      ],
    );
    return { id, keyId: minted.keyId, value: minted.value, projectId };
  }

  /** What the key service does on revoke: the row change and a key_revocations row in one transaction. */
  async revoke(keyId: string): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('UPDATE api_keys SET revoked_at = now() WHERE key_id = $1', [keyId]);
      await client.query('INSERT INTO key_revocations (key_id) VALUES ($1)', [keyId]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Revoke as the key service does: commit, then announce on the given gateway. */
export async function revokeThrough(gateway: TestGateway, catalog: TestCatalog, key: TestKey): Promise<void> {
  await catalog.revoke(key.keyId);
  await gateway.app.get(KeyEvents).keyChanged({ keyId: key.keyId, reason: 'revoked' });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
