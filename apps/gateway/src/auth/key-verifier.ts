// The API-key pipeline. Format and checksum first (no I/O: malformed keys never reach a cache or a database),
// then the negative cache, the in-process cache, Redis, Postgres; the presented secret is checked in constant
// time against the stored hash, cache hit or not (see `secretMatches` for the warm-key shortcut). It ends in a
// status; the one mapping from status to public error is `verificationError` below.
import { hash, timingSafeEqual } from 'node:crypto';
import {
  type ConiferError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from '@conifer/contracts';
import { parseApiKey, verifySecret, type ParsedApiKey } from '@conifer/keys';
import type { Logger } from 'pino';
import type { KeyCache } from './key-cache.js';
import type { SharedKeyEntry, SharedKeyRead } from './key-cache.redis.repository.js';
import type { LastUsedSink } from './last-used.sink.js';
import type { ApiKeyPrincipal } from './principal.js';
import type { RateDecision } from './rate-limiter.js';
import type { StoredKey } from './stored-key.js';

export enum VerificationStatus {
  Valid = 'VALID',
  Missing = 'MISSING',
  Malformed = 'MALFORMED',
  /** Unknown key id, or a secret that does not match. */
  NotFound = 'NOT_FOUND',
  Revoked = 'REVOKED',
  Expired = 'EXPIRED',
  RateLimited = 'RATE_LIMITED',
  /** Could not be checked (Postgres unreachable and nothing verified to fall back on). */
  Unavailable = 'UNAVAILABLE',
}

export type Verification =
  | { readonly status: VerificationStatus.Valid; readonly principal: ApiKeyPrincipal }
  | { readonly status: VerificationStatus.RateLimited; readonly retryAfterMs: number }
  | {
      readonly status: Exclude<VerificationStatus, VerificationStatus.Valid | VerificationStatus.RateLimited>;
    };

export type AuthOutcome = 'valid' | 'unauthenticated' | 'revoked' | 'expired' | 'rate_limited' | 'unavailable';
export type CacheLayer = 'local' | 'negative' | 'redis' | 'postgres';

function outcomeOf(status: VerificationStatus): AuthOutcome {
  switch (status) {
    case VerificationStatus.Valid:
      return 'valid';
    case VerificationStatus.Revoked:
      return 'revoked';
    case VerificationStatus.Expired:
      return 'expired';
    case VerificationStatus.RateLimited:
      return 'rate_limited';
    case VerificationStatus.Unavailable:
      return 'unavailable';
    default:
      return 'unauthenticated';
  }
}

/** The one place a verification becomes a public error. */
export function verificationError(verification: Verification): ConiferError | null {
  switch (verification.status) {
    case VerificationStatus.Valid:
      return null;
    case VerificationStatus.Missing:
      return new UnauthenticatedError('Missing Api-Key header: pass your API key in the Api-Key header');
    case VerificationStatus.Malformed:
    case VerificationStatus.NotFound:
      return new UnauthenticatedError('Invalid API key');
    case VerificationStatus.Revoked:
      return new UnauthenticatedError('Invalid API key: the key has been revoked');
    case VerificationStatus.Expired:
      return new UnauthenticatedError('Invalid API key: the key has expired');
    case VerificationStatus.RateLimited:
      return new ResourceExhaustedError('Rate limit exceeded for this API key', verification.retryAfterMs / 1000);
    case VerificationStatus.Unavailable:
      return new UnavailableError('Cannot verify the API key right now; try again shortly');
  }
}

// Collaborators, as the verifier sees them (the repositories implement them; unit specs use in-memory fakes).
export interface KeyLookup {
  findByKeyId(keyId: string): Promise<StoredKey | null>;
}
export interface SharedKeyCache {
  readonly enabled: boolean;
  readonly available: boolean;
  read(keyId: string): Promise<SharedKeyRead>;
  store(entry: SharedKeyEntry, generation: string, ttlMs: number): Promise<boolean>;
}
export interface RequestLimiter {
  check(keyId: string, limitPerSecond: number | null, now: number): Promise<RateDecision>;
}
export interface AuthObserver {
  outcome(outcome: AuthOutcome): void;
  cacheHit(layer: CacheLayer): void;
}

export interface VerifierSettings {
  readonly pepper: string;
  /** TTL of cached keys (in-process and Redis). */
  readonly keyCacheTtlMs: number;
  /** In-process TTL while a configured Redis is unavailable. */
  readonly fallbackTtlMs: number;
  readonly negativeCacheTtlMs: number;
  /** How long keys Postgres confirmed keep working while Postgres is unreachable. */
  readonly pgOutageGraceMs: number;
  /** After a failed Postgres lookup, skip Postgres for this long (no pile-up on a dead server). */
  readonly pgRetryMs: number;
  /** Postgres lookups in flight at most (a flood of distinct unknown keys cannot hammer Postgres)… */
  readonly maxConcurrentLookups?: number;
  /** …and waiting for a slot at most; beyond that a lookup is refused as UNAVAILABLE (503). */
  readonly maxQueuedLookups?: number;
}

const DEFAULT_MAX_CONCURRENT_LOOKUPS = 16;
const DEFAULT_MAX_QUEUED_LOOKUPS = 1_000;

export interface VerifierDeps {
  readonly settings: VerifierSettings;
  readonly cache: KeyCache;
  readonly keys: KeyLookup;
  readonly shared: SharedKeyCache | null;
  readonly limiter: RequestLimiter;
  readonly observer?: AuthObserver;
  readonly lastUsed?: LastUsedSink | null;
  readonly logger?: Logger;
  readonly clock?: () => number;
}

type Loaded = StoredKey | 'missing' | 'unavailable';

const MISSING: Verification = { status: VerificationStatus.Missing };
const MALFORMED: Verification = { status: VerificationStatus.Malformed };
const NOT_FOUND: Verification = { status: VerificationStatus.NotFound };
const REVOKED: Verification = { status: VerificationStatus.Revoked };
const EXPIRED: Verification = { status: VerificationStatus.Expired };
const UNAVAILABLE: Verification = { status: VerificationStatus.Unavailable };

export class KeyVerifier {
  private readonly settings: VerifierSettings;
  private readonly cache: KeyCache;
  private readonly keys: KeyLookup;
  private readonly shared: SharedKeyCache | null;
  private readonly limiter: RequestLimiter;
  private readonly observer: AuthObserver | undefined;
  private readonly lastUsed: LastUsedSink | null;
  private readonly logger: Logger | undefined;
  private readonly clock: () => number;
  /** One lookup per key id at a time; a lookup started before an eviction is not joined. */
  private readonly inflight = new Map<string, { token: number; promise: Promise<Loaded> }>();
  private pgRetryAt = 0;
  private pgFailureLogged = false;
  private lookupsActive = 0;
  private readonly lookupQueue: (() => void)[] = [];
  /**
   * Per stored key record (the cached object itself): the SHA-256 of the secret the full HMAC last accepted
   * against that record's hash. Weak, so it goes when the record leaves the cache (eviction, revocation, refill).
   */
  private readonly verifiedSecrets = new WeakMap<StoredKey, Buffer>();
  /** Per stored key record: the principal made from it (records are immutable, principals read-only). */
  private readonly principals = new WeakMap<StoredKey, ApiKeyPrincipal>();

  constructor(deps: VerifierDeps) {
    this.settings = deps.settings;
    this.cache = deps.cache;
    this.keys = deps.keys;
    this.shared = deps.shared;
    this.limiter = deps.limiter;
    this.observer = deps.observer;
    this.lastUsed = deps.lastUsed ?? null;
    this.logger = deps.logger;
    this.clock = deps.clock ?? Date.now;
  }

  /** Verifies the raw Api-Key header value. Never throws. */
  async verify(header: string | readonly string[] | undefined): Promise<Verification> {
    let verification: Verification;
    try {
      verification = await this.run(header);
    } catch (error) {
      this.logger?.error({ err: error }, 'API key verification failed');
      verification = UNAVAILABLE;
    }
    this.observer?.outcome(outcomeOf(verification.status));
    return verification;
  }

  /**
   * The warm path of `verify`, synchronous (no promise, no microtask): the key's record is fresh in the
   * in-process cache, the secret is the one the HMAC already accepted for that record (`secretMatches`), the
   * key is neither revoked nor expired, and it has no per-key rate limit (which may need Redis). Then the
   * result, metrics and last-used record are exactly `verify`'s; in any other case it returns undefined, having
   * recorded nothing, and the caller runs `verify` (the full pipeline decides every refusal).
   */
  verifyWarm(parsed: ParsedApiKey): ApiKeyPrincipal | undefined {
    const { keyId, secret } = parsed;
    const now = this.clock();
    const key = this.warmRecord(keyId, now);
    if (key === undefined) return undefined;
    const known = this.verifiedSecrets.get(key);
    if (known === undefined || !timingSafeEqual(known, hash('sha256', secret, 'buffer'))) return undefined;
    return this.acceptWarm(keyId, key, now);
  }

  /**
   * `verifyWarm` again for the very key string `verifyWarm` accepted as `principal` before (the caller compared
   * the strings in constant time, e.g. the same connection's previous Api-Key header): the same checks of the
   * record — still the one in the in-process cache (a revocation or refill replaces it, and then this answers
   * undefined), fresh, neither revoked nor expired, no per-key rate limit — without parsing or hashing the secret
   * again. Same result, metrics and last-used record as `verifyWarm`; undefined, having recorded nothing, otherwise.
   */
  verifyWarmRepeat(keyId: string, principal: ApiKeyPrincipal): ApiKeyPrincipal | undefined {
    const now = this.clock();
    const key = this.warmRecord(keyId, now);
    if (key === undefined || this.principals.get(key) !== principal || !this.verifiedSecrets.has(key)) return undefined;
    return this.acceptWarm(keyId, key, now);
  }

  /** The cached record the warm path may accept `keyId` under now, if any. */
  private warmRecord(keyId: string, now: number): StoredKey | undefined {
    const cached = this.cache.get(keyId);
    if (cached === undefined || cached.freshUntil <= now || this.cache.isKnownMissing(keyId, now)) return undefined;
    const key = cached.key;
    if (key.rateLimitPerSecond !== null || key.revokedAt !== null || (key.expiresAt !== null && key.expiresAt <= now)) return undefined;
    return key;
  }

  private acceptWarm(keyId: string, key: StoredKey, now: number): ApiKeyPrincipal {
    this.observer?.cacheHit('local');
    this.lastUsed?.record(keyId, new Date(now));
    this.observer?.outcome('valid');
    return this.principalOf(key);
  }

  private async run(header: string | readonly string[] | undefined): Promise<Verification> {
    if (header === undefined || header === '') return MISSING;
    if (typeof header !== 'string') return MALFORMED;
    const parsed = parseApiKey(header);
    if (!parsed) return MALFORMED;
    const { keyId, secret } = parsed;
    const now = this.clock();

    let key: StoredKey;
    if (this.cache.isKnownMissing(keyId, now)) {
      this.observer?.cacheHit('negative');
      return NOT_FOUND;
    }
    const cached = this.cache.get(keyId);
    if (cached && cached.freshUntil > now) {
      this.observer?.cacheHit('local');
      key = cached.key;
    } else {
      const loaded = await this.load(keyId);
      if (loaded === 'missing') return NOT_FOUND;
      if (loaded === 'unavailable') return UNAVAILABLE;
      key = loaded;
    }

    if (!this.secretMatches(keyId, secret, key)) return NOT_FOUND;
    if (key.revokedAt !== null) return REVOKED;
    if (key.expiresAt !== null && key.expiresAt <= now) return EXPIRED;

    const decision = await this.limiter.check(keyId, key.rateLimitPerSecond, now);
    if (!decision.allowed) return { status: VerificationStatus.RateLimited, retryAfterMs: decision.retryAfterMs };

    this.lastUsed?.record(keyId, new Date(now));
    return { status: VerificationStatus.Valid, principal: this.principalOf(key) };
  }

  /**
   * Whether `secret` is the one `key.secretHash` was made from. The full check is the peppered HMAC compared in
   * constant time (~10–20 µs, every request before this). A warm key skips it: once the HMAC accepted a secret
   * for this record, the secret's SHA-256 (~1 µs) is kept beside the record and a later request whose secret
   * has the same SHA-256 (compared with timingSafeEqual) is accepted. Why this is as safe as the HMAC:
   * - Only a secret the HMAC accepted is ever remembered, and only for the record it was checked against: a
   *   record is immutable and a refill (Redis/Postgres, new hash after a change) is a new object with nothing
   *   remembered, so a changed or revoked key gets the full check again (revocation/expiry are checked after
   *   this as before).
   * - The secret itself is never kept; its SHA-256 is. Secrets carry 256 random bits, so the digest cannot be
   *   inverted or brute-forced, and it confirms nothing the pepper (in the same process memory) would not.
   * - Any mismatch (a wrong secret, or a cold record) falls through to the full HMAC, so a wrong secret costs
   *   the same HMAC and constant-time compare as before plus one SHA-256. What timing can reveal is whether the
   *   key was used recently, which the cache tiers (a Redis/Postgres round trip for a cold key) reveal already.
   */
  private secretMatches(keyId: string, secret: string, key: StoredKey): boolean {
    const digest = hash('sha256', secret, 'buffer');
    const known = this.verifiedSecrets.get(key);
    if (known !== undefined && timingSafeEqual(known, digest)) return true;
    if (!verifySecret(this.settings.pepper, keyId, secret, key.secretHash)) return false;
    this.verifiedSecrets.set(key, digest);
    return true;
  }

  private principalOf(key: StoredKey): ApiKeyPrincipal {
    let principal = this.principals.get(key);
    if (principal === undefined) {
      principal = principalOf(key);
      this.principals.set(key, principal);
    }
    return principal;
  }

  private load(keyId: string): Promise<Loaded> {
    const running = this.inflight.get(keyId);
    if (running && this.cache.canStore(keyId, running.token)) return running.promise;
    const token = this.cache.fillToken();
    const promise = this.fetch(keyId, token).finally(() => {
      if (this.inflight.get(keyId)?.promise === promise) this.inflight.delete(keyId);
    });
    this.inflight.set(keyId, { token, promise });
    return promise;
  }

  private async fetch(keyId: string, token: number): Promise<Loaded> {
    const { settings, shared } = this;
    let generation: string | null = null;
    let sharedUp = shared !== null && shared.available;
    if (sharedUp) {
      try {
        const read = await shared!.read(keyId);
        if (read.entry) {
          this.observer?.cacheHit('redis');
          const now = this.clock();
          this.cache.set({ key: read.entry.key, confirmedAt: read.entry.confirmedAt, freshUntil: now + settings.keyCacheTtlMs }, token);
          return read.entry.key;
        }
        generation = read.generation;
      } catch {
        sharedUp = false;
      }
    }

    if (this.clock() < this.pgRetryAt) return this.outageFallback(keyId);
    if (!(await this.acquireLookup())) return 'unavailable';
    let key: StoredKey | null;
    try {
      key = await this.keys.findByKeyId(keyId);
    } catch (error) {
      this.pgRetryAt = this.clock() + settings.pgRetryMs;
      if (!this.pgFailureLogged) this.logger?.warn({ err: (error as Error).message }, 'Postgres unavailable for API key lookups');
      this.pgFailureLogged = true;
      return this.outageFallback(keyId);
    } finally {
      this.releaseLookup();
    }
    if (this.pgFailureLogged) this.logger?.info('Postgres available again for API key lookups');
    this.pgFailureLogged = false;
    this.pgRetryAt = 0;
    this.observer?.cacheHit('postgres');

    const now = this.clock();
    if (!key) {
      this.cache.setMissing(keyId, now + settings.negativeCacheTtlMs, token);
      return 'missing';
    }
    // A configured Redis that is down means no broadcast: keep the local copy short-lived meanwhile.
    const localTtl = shared?.enabled && !sharedUp ? Math.min(settings.fallbackTtlMs, settings.keyCacheTtlMs) : settings.keyCacheTtlMs;
    this.cache.set({ key, confirmedAt: now, freshUntil: now + localTtl }, token);
    if (sharedUp && generation !== null) {
      shared!.store({ key, confirmedAt: now }, generation, settings.keyCacheTtlMs).catch(() => {});
    }
    return key;
  }

  private async acquireLookup(): Promise<boolean> {
    if (this.lookupsActive < (this.settings.maxConcurrentLookups ?? DEFAULT_MAX_CONCURRENT_LOOKUPS)) {
      this.lookupsActive++;
      return true;
    }
    if (this.lookupQueue.length >= (this.settings.maxQueuedLookups ?? DEFAULT_MAX_QUEUED_LOOKUPS)) return false;
    await new Promise<void>((resolve) => this.lookupQueue.push(resolve));
    return true; // the slot is handed over by releaseLookup
  }

  private releaseLookup(): void {
    const next = this.lookupQueue.shift();
    if (next) next();
    else this.lookupsActive--;
  }

  /** Postgres is unreachable: a key Postgres confirmed within the grace period keeps working; others cannot be checked. */
  private outageFallback(keyId: string): Loaded {
    const cached = this.cache.get(keyId);
    if (cached && this.clock() - cached.confirmedAt <= this.settings.pgOutageGraceMs) {
      this.observer?.cacheHit('local');
      return cached.key;
    }
    return 'unavailable';
  }
}

function principalOf(key: StoredKey): ApiKeyPrincipal {
  return {
    apiKeyId: key.id,
    keyId: key.keyId,
    projectId: key.projectId,
    roles: key.roles,
    indexScope: key.indexScope,
    namespaceScope: key.namespaceScope,
    rateLimitPerSecond: key.rateLimitPerSecond,
    expiresAt: key.expiresAt === null ? null : new Date(key.expiresAt),
  };
}
