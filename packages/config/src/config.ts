// The one place that reads process.env: every setting, its default and its validation (DESIGN.md §6).
// Each variable is listed in the README's configuration table (a test checks it).
import path from 'node:path';
import { z } from 'zod';
import { parseTrustedProxies, type TrustedProxies } from './trusted-proxies.js';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().min(0);
const url = z.string().url();
const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value));
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');
const secret = (minLength: number) =>
  optionalString.refine((value) => value === undefined || value.length >= minLength, {
    message: `must be at least ${minLength} characters`,
  });

/** Variable name → schema with its default. Names are the public contract; keep them stable. */
export const ENV_SCHEMA = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
    message: 'must be a postgres:// or postgresql:// URL',
  }),
  REDIS_URL: optionalString.refine((v) => v === undefined || /^rediss?:\/\//.test(v), {
    message: 'must be a redis:// or rediss:// URL',
  }),
  CONIFER_DATA_DIR: z.string().min(1).default('./.data'),
  CONIFER_BIND: z.string().min(1).default('127.0.0.1'),
  CONIFER_GATEWAY_PORT: port.default(8080),
  CONIFER_VECTOR_STORE_PORT: port.default(8081),
  CONIFER_PUBLIC_URL: optionalString.pipe(url.optional()),
  CONIFER_VECTOR_STORE_URLS: optionalString,
  CONIFER_VECTOR_STORE_SOCKET: optionalString,
  CONIFER_VECTOR_STORE_SOCKETS: optionalString,
  CONIFER_VECTOR_STORE_PROTOCOL: z.enum(['http', 'frames']).default('frames'),
  CONIFER_VECTOR_STORE_DATA_DIR: optionalString,
  CONIFER_KEY_PEPPER: secret(32),
  CONIFER_INTERNAL_TOKEN: secret(32),
  CONIFER_TOKEN_SECRET: secret(32),
  CONIFER_BOOTSTRAP_CLIENT_ID: optionalString,
  CONIFER_BOOTSTRAP_CLIENT_SECRET: secret(16),
  CONIFER_ADMIN_TOKEN_TTL_SECONDS: positiveInt.default(1800),
  CONIFER_ADMIN_LOGIN_MAX_FAILURES: positiveInt.default(10),
  CONIFER_ADMIN_LOGIN_WINDOW_SECONDS: positiveInt.default(60),
  CONIFER_REDIS_KEY_PREFIX: z.string().min(1).max(64).default('conifer:'),
  CONIFER_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CONIFER_SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  CONIFER_MAX_BODY_BYTES: positiveInt.default(4 * 1024 * 1024),
  CONIFER_REQUEST_TIMEOUT_MS: positiveInt.default(60_000),
  CONIFER_EMBEDDED_PG_PORT: port.default(5433),
  CONIFER_TRUSTED_PROXIES: optionalString,
  CONIFER_KEY_ID_MAX_FAILURES: positiveInt.default(100),
  CONIFER_UPSTREAM_TIMEOUT_MS: positiveInt.default(30_000),
  CONIFER_INDEX_REPLICAS: positiveInt.max(16).default(1),
  CONIFER_NODE_POLL_MS: positiveInt.min(50).default(1_000),
  CONIFER_NODE_DOWN_AFTER_MS: positiveInt.default(5_000),
  CONIFER_REPLICA_READ_TIMEOUT_MS: positiveInt.default(10_000),
  CONIFER_METRICS_ENABLED: bool.default(true),
  CONIFER_KEY_CACHE_TTL_MS: positiveInt.default(60_000),
  CONIFER_NEGATIVE_CACHE_TTL_MS: positiveInt.default(5_000),
  CONIFER_REVOCATION_POLL_MS: positiveInt.default(250),
  CONIFER_PG_OUTAGE_GRACE_MS: nonNegativeInt.default(300_000),
  CONIFER_LAST_USED_FLUSH_MS: positiveInt.default(5_000),
  CONIFER_KEY_CACHE_MAX_ENTRIES: positiveInt.default(100_000),
  CONIFER_NEGATIVE_CACHE_MAX_ENTRIES: positiveInt.default(10_000),
  CONIFER_KEY_CACHE_FALLBACK_TTL_MS: positiveInt.default(1_000),
  CONIFER_NATS_URL: optionalString.refine((v) => v === undefined || v.split(',').every((u) => /^(nats|tls):\/\/[^\s/]+$/.test(u.trim())), {
    message: 'must be nats://host:port (comma-separated for a cluster)',
  }),
  CONIFER_NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  CONIFER_NATS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{0,32}$/, 'must be at most 32 characters of A-Z a-z 0-9 _ -').default(''),
  CONIFER_READ_WAIT_MS: nonNegativeInt.default(2000),
  CONIFER_PARSE_WORKERS: z.coerce.number().int().min(0).max(64).optional(),
  CONIFER_ANN_RELEASE_AFTER_MS: nonNegativeInt.default(10_000),
  CONIFER_ANN_TARGET_RECALL: z.coerce.number().min(0).max(1).default(0.98),
  CONIFER_ANN_BUILD_NICE: z.coerce.number().int().min(0).max(19).default(10),
  CONIFER_ANN_BUILD_THREADS: z.coerce.number().int().min(0).max(256).default(0),
  CONIFER_ANN_BINDING: z.enum(['compiled', 'prebuilt']).default('compiled'),
  CONIFER_MALLOC_MMAP_THRESHOLD: z.coerce
    .number()
    .int()
    .min(0)
    .max(32 * 1024 * 1024)
    .optional(),
  CONIFER_NODE_ID: optionalString.refine((v) => v === undefined || /^[A-Za-z0-9_.-]{1,64}$/.test(v), {
    message: 'must be 1-64 characters of A-Z a-z 0-9 _ . -',
  }),
  CONIFER_INDEX_HOST_SUFFIX: optionalString.refine((v) => v === undefined || /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/i.test(v), {
    message: 'must be a DNS domain (optionally with :port), e.g. indexes.conifer.example.com',
  }),
} as const;

export type EnvName = keyof typeof ENV_SCHEMA;

export interface ConiferConfig {
  readonly env: 'development' | 'production' | 'test';
  readonly production: boolean;
  readonly logLevel: string;
  readonly dataDir: string;
  readonly bind: string;
  readonly shutdownTimeoutMs: number;
  /** Whole-request receive deadline on both apps (slow or stalled clients are cut off: 408). */
  readonly requestTimeoutMs: number;
  readonly database: { readonly url?: string; readonly embeddedPort: number };
  readonly redis: { readonly url?: string; readonly keyPrefix: string };
  readonly secrets: {
    readonly keyPepper?: string;
    readonly internalToken?: string;
    readonly tokenSecret?: string;
  };
  readonly gateway: {
    readonly port: number;
    readonly publicUrl: string;
    readonly vectorStoreUrls: readonly string[];
    /** Store node URL → Unix socket path it also listens on (same host): the gateway reaches it through the socket. */
    readonly vectorStoreSockets: Readonly<Record<string, string>>;
    /** How data-plane requests reach the stores: one HTTP/1.1 exchange each, or framed connections (issue 13). */
    readonly vectorStoreProtocol: 'http' | 'frames';
    readonly maxBodyBytes: number;
    /** Proxies whose X-Forwarded-For is believed (false: none; a hop count; addresses/CIDRs). */
    readonly trustProxy: TrustedProxies;
    readonly upstreamTimeoutMs: number;
    /** Replicas of a new index (capped by the live nodes, and at 1 unless the nodes share a JetStream log). */
    readonly indexReplicas: number;
    /** How often each vector-store node's status (health, applied sequences) is polled. */
    readonly nodePollMs: number;
    /** A node unanswered this long is down: its replicas are re-created elsewhere. */
    readonly nodeDownAfterMs: number;
    /** A read on an index with several replicas waits this long for its first replica, then tries another. */
    readonly replicaReadTimeoutMs: number;
    readonly metricsEnabled: boolean;
    readonly adminTokenTtlSeconds: number;
    /** Failed POST /oauth/token attempts allowed per client address within the window before 429. */
    readonly adminLoginMaxFailures: number;
    readonly adminLoginWindowSeconds: number;
    /** Wrong secrets presented for one API key id per minute (any addresses) before that key id gets 429. */
    readonly keyIdMaxFailures: number;
    readonly bootstrapClientId?: string;
    readonly bootstrapClientSecret?: string;
    readonly keyCacheTtlMs: number;
    readonly negativeCacheTtlMs: number;
    readonly revocationPollMs: number;
    readonly pgOutageGraceMs: number;
    readonly lastUsedFlushMs: number;
    /** Bound of the in-process key cache (entries). */
    readonly keyCacheMaxEntries: number;
    /** Bound of the in-process negative cache of unknown key ids (entries). */
    readonly negativeCacheMaxEntries: number;
    /** In-process key cache TTL while Redis is unavailable or absent (single-node mode). */
    readonly keyCacheFallbackTtlMs: number;
    /** Wildcard DNS domain for index hosts (<index>-<project>.<suffix>); unset: path-prefix hosts. */
    readonly indexHostSuffix?: string;
  };
  readonly vectorStore: {
    readonly port: number;
    /** A Unix domain socket the store also listens on, for a gateway on the same host (TCP stays on). */
    readonly socketPath?: string;
    readonly dataDir: string;
    readonly maxBodyBytes: number;
    /** JetStream servers (comma-separated); unset: the local write-ahead log, one node per index. */
    readonly natsUrl?: string;
    /** Replicas of each index's stream on the NATS cluster. */
    readonly natsStreamReplicas: number;
    /** Prefix of stream, subject and object-store bucket names (several deployments on one NATS). */
    readonly natsPrefix: string;
    /** How long a read waits for this replica to apply the sequence it asks for (X-Conifer-Min-Seq). */
    readonly readWaitMs: number;
    /** This node's name in status answers (default: host name and port). */
    readonly nodeId?: string;
    /** Worker threads reading upsert bodies (unset: chosen from the core count at start; 0: on the event loop). */
    readonly parseWorkers?: number;
    /**
     * glibc malloc's mmap threshold, fixed at start (0: glibc's default, which grows with every large block freed):
     * blocks from this size up are mapped on their own and returned to the kernel when freed. Unset: chosen at start
     * (72 KB where the store can trim malloc's heap, 32 KB elsewhere).
     */
    readonly mallocMmapThreshold?: number;
    /** How long the ANN builder's worker keeps a caught-up graph in memory after its last batch (then only the published file). */
    readonly annReleaseAfterMs: number;
    /**
     * Recall@10 each namespace graph's search breadth is calibrated for (estimated on a sample of its own vectors,
     * each held out of the graph walk, after it is built and once it has doubled; a multiplier of the planner's
     * breadth rule between 0.5 and 8); 0: no calibration.
     */
    readonly annTargetRecall: number;
    /**
     * How much lower than the event loop's the ANN builder's thread runs (its nice value, 0–19 on Linux; 0: the
     * same): the graph takes the CPU that acknowledging writes and answering queries leave.
     */
    readonly annBuildNice: number;
    /**
     * Threads each graph insert batch runs on; 0: every core when the builder runs below the event loop (annBuildNice
     * above 0: the event loop still gets its core when it wants it), one fewer otherwise.
     */
    readonly annBuildThreads: number;
    /**
     * The usearch binding the graphs run on: `compiled` (Conifer's build, made by the engine's build where a C++
     * toolchain exists; usearch's prebuilt one otherwise, with a warning) or `prebuilt` (usearch's own binary).
     */
    readonly annBinding: 'compiled' | 'prebuilt';
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parses the environment once; reports every problem at once. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): ConiferConfig {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(ENV_SCHEMA)) {
    const raw = source[name];
    const parsed = (schema as z.ZodType).safeParse(raw === '' ? undefined : raw);
    if (parsed.success) values[name] = parsed.data;
    else problems.push(`${name}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const v = values as { [K in EnvName]: z.output<(typeof ENV_SCHEMA)[K]> };

  const production = v.NODE_ENV === 'production';
  if (production) {
    for (const name of ['CONIFER_KEY_PEPPER', 'CONIFER_INTERNAL_TOKEN', 'CONIFER_TOKEN_SECRET'] as const) {
      if (!v[name]) problems.push(`${name}: required when NODE_ENV=production`);
    }
    if (!v.DATABASE_URL) problems.push('DATABASE_URL: required when NODE_ENV=production');
  }
  if ((v.CONIFER_BOOTSTRAP_CLIENT_ID === undefined) !== (v.CONIFER_BOOTSTRAP_CLIENT_SECRET === undefined)) {
    problems.push('CONIFER_BOOTSTRAP_CLIENT_ID and CONIFER_BOOTSTRAP_CLIENT_SECRET: set both or neither');
  }
  const trusted = parseTrustedProxies(v.CONIFER_TRUSTED_PROXIES);
  if ('problem' in trusted) problems.push(`CONIFER_TRUSTED_PROXIES: ${trusted.problem}`);
  if (source.CONIFER_TRUST_PROXY !== undefined && source.CONIFER_TRUST_PROXY !== '' && source.CONIFER_TRUST_PROXY !== 'false') {
    // Removed: it trusted every X-Forwarded-For hop, so any client could choose the address it is throttled as.
    problems.push('CONIFER_TRUST_PROXY: removed; set CONIFER_TRUSTED_PROXIES to the load balancers\' addresses/CIDRs or a hop count');
  }
  const vectorStoreUrls = (v.CONIFER_VECTOR_STORE_URLS ?? `http://127.0.0.1:${v.CONIFER_VECTOR_STORE_PORT}`)
    .split(',')
    .map((u) => u.trim().replace(/\/+$/, ''))
    .filter((u) => u.length > 0);
  for (const u of vectorStoreUrls) {
    if (!url.safeParse(u).success) problems.push(`CONIFER_VECTOR_STORE_URLS: "${u}" is not a URL`);
  }
  const vectorStoreSockets: Record<string, string> = {};
  for (const entry of (v.CONIFER_VECTOR_STORE_SOCKETS ?? '').split(',').map((e) => e.trim()).filter((e) => e.length > 0)) {
    // <url>=<path>: a store URL has no '=' (no query string), so the last one separates the path.
    const at = entry.lastIndexOf('=');
    const nodeUrl = at === -1 ? '' : entry.slice(0, at).trim().replace(/\/+$/, '');
    const socketPath = at === -1 ? '' : entry.slice(at + 1).trim();
    if (!url.safeParse(nodeUrl).success || !path.isAbsolute(socketPath)) {
      problems.push(`CONIFER_VECTOR_STORE_SOCKETS: "${entry}" is not <store URL>=<absolute socket path>`);
    } else {
      vectorStoreSockets[nodeUrl] = socketPath;
    }
  }
  if (v.CONIFER_VECTOR_STORE_SOCKET !== undefined && !path.isAbsolute(v.CONIFER_VECTOR_STORE_SOCKET)) {
    problems.push('CONIFER_VECTOR_STORE_SOCKET: must be an absolute path');
  }
  if (v.CONIFER_NODE_DOWN_AFTER_MS < v.CONIFER_NODE_POLL_MS) {
    problems.push('CONIFER_NODE_DOWN_AFTER_MS: must be at least CONIFER_NODE_POLL_MS (a node needs a chance to answer a poll)');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const dataDir = path.resolve(v.CONIFER_DATA_DIR);
  const publicHost = v.CONIFER_BIND === '0.0.0.0' || v.CONIFER_BIND === '::' ? '127.0.0.1' : v.CONIFER_BIND;
  return Object.freeze({
    env: v.NODE_ENV,
    production,
    logLevel: v.CONIFER_LOG_LEVEL,
    dataDir,
    bind: v.CONIFER_BIND,
    shutdownTimeoutMs: v.CONIFER_SHUTDOWN_TIMEOUT_MS,
    requestTimeoutMs: v.CONIFER_REQUEST_TIMEOUT_MS,
    database: Object.freeze({ url: v.DATABASE_URL, embeddedPort: v.CONIFER_EMBEDDED_PG_PORT }),
    redis: Object.freeze({ url: v.REDIS_URL, keyPrefix: v.CONIFER_REDIS_KEY_PREFIX }),
    secrets: Object.freeze({
      keyPepper: v.CONIFER_KEY_PEPPER,
      internalToken: v.CONIFER_INTERNAL_TOKEN,
      tokenSecret: v.CONIFER_TOKEN_SECRET,
    }),
    gateway: Object.freeze({
      port: v.CONIFER_GATEWAY_PORT,
      publicUrl: (v.CONIFER_PUBLIC_URL ?? `http://${publicHost}:${v.CONIFER_GATEWAY_PORT}`).replace(/\/+$/, ''),
      vectorStoreUrls: Object.freeze(vectorStoreUrls),
      vectorStoreSockets: Object.freeze(vectorStoreSockets),
      vectorStoreProtocol: v.CONIFER_VECTOR_STORE_PROTOCOL,
      maxBodyBytes: v.CONIFER_MAX_BODY_BYTES,
      trustProxy: 'value' in trusted ? trusted.value : false,
      upstreamTimeoutMs: v.CONIFER_UPSTREAM_TIMEOUT_MS,
      indexReplicas: v.CONIFER_INDEX_REPLICAS,
      nodePollMs: v.CONIFER_NODE_POLL_MS,
      nodeDownAfterMs: v.CONIFER_NODE_DOWN_AFTER_MS,
      replicaReadTimeoutMs: v.CONIFER_REPLICA_READ_TIMEOUT_MS,
      metricsEnabled: v.CONIFER_METRICS_ENABLED,
      adminTokenTtlSeconds: v.CONIFER_ADMIN_TOKEN_TTL_SECONDS,
      adminLoginMaxFailures: v.CONIFER_ADMIN_LOGIN_MAX_FAILURES,
      adminLoginWindowSeconds: v.CONIFER_ADMIN_LOGIN_WINDOW_SECONDS,
      keyIdMaxFailures: v.CONIFER_KEY_ID_MAX_FAILURES,
      bootstrapClientId: v.CONIFER_BOOTSTRAP_CLIENT_ID,
      bootstrapClientSecret: v.CONIFER_BOOTSTRAP_CLIENT_SECRET,
      keyCacheTtlMs: v.CONIFER_KEY_CACHE_TTL_MS,
      negativeCacheTtlMs: v.CONIFER_NEGATIVE_CACHE_TTL_MS,
      revocationPollMs: v.CONIFER_REVOCATION_POLL_MS,
      pgOutageGraceMs: v.CONIFER_PG_OUTAGE_GRACE_MS,
      lastUsedFlushMs: v.CONIFER_LAST_USED_FLUSH_MS,
      keyCacheMaxEntries: v.CONIFER_KEY_CACHE_MAX_ENTRIES,
      negativeCacheMaxEntries: v.CONIFER_NEGATIVE_CACHE_MAX_ENTRIES,
      keyCacheFallbackTtlMs: v.CONIFER_KEY_CACHE_FALLBACK_TTL_MS,
      indexHostSuffix: v.CONIFER_INDEX_HOST_SUFFIX?.toLowerCase().replace(/^\.+/, ''),
    }),
    vectorStore: Object.freeze({
      port: v.CONIFER_VECTOR_STORE_PORT,
      socketPath: v.CONIFER_VECTOR_STORE_SOCKET,
      dataDir: path.resolve(v.CONIFER_VECTOR_STORE_DATA_DIR ?? path.join(dataDir, 'vector-store')),
      maxBodyBytes: v.CONIFER_MAX_BODY_BYTES,
      natsUrl: v.CONIFER_NATS_URL,
      natsStreamReplicas: v.CONIFER_NATS_STREAM_REPLICAS,
      natsPrefix: v.CONIFER_NATS_PREFIX,
      readWaitMs: v.CONIFER_READ_WAIT_MS,
      nodeId: v.CONIFER_NODE_ID,
      parseWorkers: v.CONIFER_PARSE_WORKERS,
      mallocMmapThreshold: v.CONIFER_MALLOC_MMAP_THRESHOLD,
      annReleaseAfterMs: v.CONIFER_ANN_RELEASE_AFTER_MS,
      annTargetRecall: v.CONIFER_ANN_TARGET_RECALL,
      annBuildNice: v.CONIFER_ANN_BUILD_NICE,
      annBuildThreads: v.CONIFER_ANN_BUILD_THREADS,
      annBinding: v.CONIFER_ANN_BINDING,
    }),
  });
}
