// Key-verification throughput, per cache layer, in a separate process that builds the real gateway
// application in-process (same configuration, database and Redis as the running system) and drives its
// KeyVerifier directly: no HTTP, so the figures are the verifier's own. Input: one JSON argument
// { keys: [apiKeyValue...], durationMs, concurrency }; output: one JSON line on stdout.
import { loadConfig, resolveSecrets } from '@conifer/config';
import { createGatewayApp, createLogger, KeyCache, ApiKeysRepository, KeyVerifier, RateLimiter, VerificationStatus } from '@conifer/gateway';
import { mintApiKey, parseApiKey } from '@conifer/keys';

interface Spec {
  keys: string[];
  durationMs: number;
  concurrency: number;
}

const spec = JSON.parse(process.argv[2]!) as Spec;
const config = loadConfig();
const secrets = resolveSecrets(config);
const logger = createLogger('warn', 'bench');
// The bench passes the running system's environment, so DATABASE_URL names its database.
if (config.database.url === undefined) throw new Error('verify-worker: DATABASE_URL is not set');
const app = await createGatewayApp({ config, secrets, databaseUrl: config.database.url }, logger);
await app.init();

const verifier = app.get(KeyVerifier);
const cache = app.get(KeyCache);
const keys = spec.keys.map((value) => ({ value, keyId: parseApiKey(value)!.keyId }));

type Verify = (i: number) => Promise<{ status: VerificationStatus }>;

/** Runs `op(i)` from `concurrency` lanes for `durationMs`; returns ops/s and ops per CPU-second of this process. */
async function measure(name: string, op: Verify, expected: VerificationStatus, { concurrency = spec.concurrency, durationMs = spec.durationMs } = {}) {
  // warm up (JIT, connections)
  for (let i = 0; i < 200; i++) await op(i);
  let ops = 0;
  let wrong = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      let i = lane;
      while (performance.now() < deadline) {
        const v = await op(i);
        if (v.status !== expected) wrong++;
        ops++;
        i += concurrency;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return { name, opsPerSecond: ops / seconds, opsPerCpuSecond: ops / cpuSeconds, cpuShare: cpuSeconds / seconds, ops, wrong, concurrency };
}

const results: Awaited<ReturnType<typeof measure>>[] = [];
const one = keys[0]!;
// 1. in-process cache hit: parse + checksum + map lookup + HMAC + constant-time compare.
results.push(await measure('local cache hit', () => verifier.verify(one.value), VerificationStatus.Valid, { concurrency: 1 }));
// 2. Redis hit: the local entry is evicted before each verification (the Redis entry stays).
results.push(
  await measure('Redis hit (local evicted)', (i) => {
    const key = keys[i % keys.length]!;
    cache.evict(key.keyId);
    return verifier.verify(key.value);
  }, VerificationStatus.Valid),
);
// 3. Postgres: a verifier with the same repository and settings but no Redis, its local entry evicted each time.
const pgCache = new KeyCache({ maxEntries: 10_000, maxNegativeEntries: 10_000 });
const pgVerifier = new KeyVerifier({
  settings: {
    pepper: secrets.keyPepper,
    keyCacheTtlMs: config.gateway.keyCacheTtlMs,
    fallbackTtlMs: config.gateway.keyCacheFallbackTtlMs,
    negativeCacheTtlMs: config.gateway.negativeCacheTtlMs,
    pgOutageGraceMs: config.gateway.pgOutageGraceMs,
    pgRetryMs: 1000,
  },
  cache: pgCache,
  keys: app.get(ApiKeysRepository),
  shared: null,
  limiter: new RateLimiter(null),
});
results.push(
  await measure('Postgres (caches bypassed)', (i) => {
    const key = keys[i % keys.length]!;
    pgCache.evict(key.keyId);
    return pgVerifier.verify(key.value);
  }, VerificationStatus.Valid),
);
// 4. Unknown-key flood, every key new: well-formed (checksum passes), so each goes local → Redis → Postgres
//    and lands in the negative cache.
results.push(await measure('unknown keys, each new', () => verifier.verify(mintApiKey().value), VerificationStatus.NotFound));
// 5. Unknown-key flood repeating a set of 1000 keys: answered by the negative cache.
const unknown = Array.from({ length: 1000 }, () => mintApiKey().value);
for (const value of unknown) await verifier.verify(value);
results.push(await measure('unknown keys, repeated (negative cache)', (i) => verifier.verify(unknown[i % unknown.length]!), VerificationStatus.NotFound));
// 6. Keys failing the checksum: refused before any lookup.
const bad = one.value.slice(0, -1) + (one.value.endsWith('A') ? 'B' : 'A');
results.push(await measure('bad checksum (no lookup)', () => verifier.verify(bad), VerificationStatus.Malformed, { concurrency: 1 }));

await app.close();
process.stdout.write(JSON.stringify(results) + '\n');
process.exit(0);
