import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, ENV_SCHEMA, loadConfig } from './config.js';
import { resolveSecrets } from './secrets.js';

describe('loadConfig', () => {
  it('has working defaults with nothing set', () => {
    const config = loadConfig({});
    expect(config.gateway.port).toBe(8080);
    expect(config.vectorStore.port).toBe(8081);
    expect(config.gateway.publicUrl).toBe('http://127.0.0.1:8080');
    expect(config.gateway.vectorStoreUrls).toEqual(['http://127.0.0.1:8081']);
    expect(config.database.url).toBeUndefined();
    expect(config.redis.url).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reports every problem at once', () => {
    let error: unknown;
    try {
      loadConfig({ CONIFER_GATEWAY_PORT: 'eighty', REDIS_URL: 'http://nope', CONIFER_KEY_PEPPER: 'short' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/CONIFER_GATEWAY_PORT/);
    expect(problems).toMatch(/REDIS_URL/);
    expect(problems).toMatch(/CONIFER_KEY_PEPPER/);
  });

  it('requires secrets and a database in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/CONIFER_KEY_PEPPER.*\n.*CONIFER_INTERNAL_TOKEN/s);
  });

  it('reads the store\'s replication settings (unset: the local WAL) and refuses bad ones', () => {
    expect(loadConfig({}).vectorStore).toMatchObject({ natsUrl: undefined, natsStreamReplicas: 1, natsPrefix: '', readWaitMs: 2000, parseWorkers: undefined });
    expect(loadConfig({ CONIFER_PARSE_WORKERS: '0' }).vectorStore.parseWorkers).toBe(0);
    expect(loadConfig({ CONIFER_PARSE_WORKERS: '2' }).vectorStore.parseWorkers).toBe(2);
    expect(() => loadConfig({ CONIFER_PARSE_WORKERS: '-1' })).toThrow(/CONIFER_PARSE_WORKERS/);
    expect(() => loadConfig({ CONIFER_PARSE_WORKERS: 'many' })).toThrow(/CONIFER_PARSE_WORKERS/);
    expect(loadConfig({}).vectorStore.mallocMmapThreshold).toBeUndefined();
    expect(loadConfig({}).vectorStore.annReleaseAfterMs).toBe(10_000);
    expect(loadConfig({ CONIFER_ANN_RELEASE_AFTER_MS: '0' }).vectorStore.annReleaseAfterMs).toBe(0);
    expect(() => loadConfig({ CONIFER_ANN_RELEASE_AFTER_MS: '-5' })).toThrow(/CONIFER_ANN_RELEASE_AFTER_MS/);
    expect(loadConfig({}).vectorStore.annTargetRecall).toBe(0.98);
    expect(loadConfig({ CONIFER_ANN_TARGET_RECALL: '0' }).vectorStore.annTargetRecall).toBe(0);
    expect(loadConfig({ CONIFER_ANN_TARGET_RECALL: '0.995' }).vectorStore.annTargetRecall).toBe(0.995);
    for (const bad of ['1.5', '-0.1', 'high']) expect(() => loadConfig({ CONIFER_ANN_TARGET_RECALL: bad })).toThrow(/CONIFER_ANN_TARGET_RECALL/);
    expect(loadConfig({}).vectorStore.annBuildNice).toBe(10);
    expect(loadConfig({ CONIFER_ANN_BUILD_NICE: '0' }).vectorStore.annBuildNice).toBe(0);
    expect(loadConfig({ CONIFER_ANN_BUILD_NICE: '19' }).vectorStore.annBuildNice).toBe(19);
    for (const bad of ['20', '-1', '2.5', 'low']) expect(() => loadConfig({ CONIFER_ANN_BUILD_NICE: bad })).toThrow(/CONIFER_ANN_BUILD_NICE/);
    expect(loadConfig({}).vectorStore.annBuildThreads).toBe(0);
    expect(loadConfig({ CONIFER_ANN_BUILD_THREADS: '3' }).vectorStore.annBuildThreads).toBe(3);
    for (const bad of ['-1', '1.5', 'all', '257']) expect(() => loadConfig({ CONIFER_ANN_BUILD_THREADS: bad })).toThrow(/CONIFER_ANN_BUILD_THREADS/);
    expect(loadConfig({}).vectorStore.annBinding).toBe('compiled');
    expect(loadConfig({ CONIFER_ANN_BINDING: 'prebuilt' }).vectorStore.annBinding).toBe('prebuilt');
    expect(() => loadConfig({ CONIFER_ANN_BINDING: 'native' })).toThrow(/CONIFER_ANN_BINDING/);
    expect(loadConfig({ CONIFER_MALLOC_MMAP_THRESHOLD: '0' }).vectorStore.mallocMmapThreshold).toBe(0);
    expect(() => loadConfig({ CONIFER_MALLOC_MMAP_THRESHOLD: '64M' })).toThrow(/CONIFER_MALLOC_MMAP_THRESHOLD/);
    expect(() => loadConfig({ CONIFER_MALLOC_MMAP_THRESHOLD: String(64 * 2 ** 20) })).toThrow(/CONIFER_MALLOC_MMAP_THRESHOLD/);
    const store = loadConfig({
      CONIFER_NATS_URL: 'nats://a:4222, nats://b:4222',
      CONIFER_NATS_STREAM_REPLICAS: '3',
      CONIFER_NATS_PREFIX: 'staging',
      CONIFER_READ_WAIT_MS: '500',
      CONIFER_NODE_ID: 'store-1',
    }).vectorStore;
    expect(store).toMatchObject({ natsUrl: 'nats://a:4222, nats://b:4222', natsStreamReplicas: 3, natsPrefix: 'staging', readWaitMs: 500, nodeId: 'store-1' });
    let error: unknown;
    try {
      loadConfig({ CONIFER_NATS_URL: 'http://a:4222', CONIFER_NATS_STREAM_REPLICAS: '0', CONIFER_NATS_PREFIX: 'a.b', CONIFER_READ_WAIT_MS: '-1', CONIFER_NODE_ID: 'a b' });
    } catch (e) {
      error = e;
    }
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['CONIFER_NATS_URL', 'CONIFER_NATS_STREAM_REPLICAS', 'CONIFER_NATS_PREFIX', 'CONIFER_READ_WAIT_MS', 'CONIFER_NODE_ID']) {
      expect(problems).toContain(name);
    }
  });

  it('reads the Unix sockets between gateway and store (unset: TCP only) and refuses bad ones', () => {
    expect(loadConfig({}).gateway.vectorStoreSockets).toEqual({});
    expect(loadConfig({}).vectorStore.socketPath).toBeUndefined();
    const config = loadConfig({
      CONIFER_VECTOR_STORE_SOCKET: '/run/conifer/store.sock',
      CONIFER_VECTOR_STORE_SOCKETS: 'http://127.0.0.1:8081/=/run/conifer/store.sock, http://store-2:8081=/run/s2.sock',
    });
    expect(config.vectorStore.socketPath).toBe('/run/conifer/store.sock');
    expect(config.gateway.vectorStoreSockets).toEqual({ 'http://127.0.0.1:8081': '/run/conifer/store.sock', 'http://store-2:8081': '/run/s2.sock' });
    for (const bad of [{ CONIFER_VECTOR_STORE_SOCKET: 'relative.sock' }, { CONIFER_VECTOR_STORE_SOCKETS: '/run/store.sock' }, { CONIFER_VECTOR_STORE_SOCKETS: 'http://a:1=relative.sock' }, { CONIFER_VECTOR_STORE_SOCKETS: 'nope=/run/a.sock' }]) {
      expect(() => loadConfig(bad)).toThrow(Object.keys(bad)[0]);
    }
  });

  it('reads the gateway → store protocol (default frames) and refuses anything else', () => {
    expect(loadConfig({}).gateway.vectorStoreProtocol).toBe('frames');
    expect(loadConfig({ CONIFER_VECTOR_STORE_PROTOCOL: 'http' }).gateway.vectorStoreProtocol).toBe('http');
    expect(() => loadConfig({ CONIFER_VECTOR_STORE_PROTOCOL: 'grpc' })).toThrow('CONIFER_VECTOR_STORE_PROTOCOL');
  });

  it('keeps the public URL as given, without a trailing slash', () => {
    expect(loadConfig({ CONIFER_PUBLIC_URL: 'https://conifer.example.com/' }).gateway.publicUrl).toBe(
      'https://conifer.example.com',
    );
  });
});

describe('resolveSecrets', () => {
  it('generates embedded secrets once and reuses them', () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'conifer-config-'));
    const config = loadConfig({ CONIFER_DATA_DIR: dataDir });
    const first = resolveSecrets(config);
    const second = resolveSecrets(config);
    expect(second).toEqual(first);
    expect(first.keyPepper.length).toBeGreaterThanOrEqual(32);
    expect(JSON.parse(readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')).internalToken).toBe(first.internalToken);
  });

  it('prefers configured secrets', () => {
    const pepper = 'p'.repeat(40);
    const config = loadConfig({ CONIFER_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'conifer-config-')), CONIFER_KEY_PEPPER: pepper });
    expect(resolveSecrets(config).keyPepper).toBe(pepper);
  });
});

describe('README', () => {
  it('documents every variable in its configuration table', () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../../README.md'), 'utf8');
    const documented = new Set([...readme.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));
    const missing = Object.keys(ENV_SCHEMA).filter((name) => !documented.has(name));
    expect(missing).toEqual([]);
  });
});
