// What the auth pipeline knows about a stored API key: the catalog row without anything secret except the
// HMAC of the secret (never the key itself). Times are epoch milliseconds so the record survives JSON (Redis).
export interface StoredKey {
  /** Catalog id (api_keys.id). */
  readonly id: string;
  /** Public id embedded in the key string; the cache key. */
  readonly keyId: string;
  readonly projectId: string;
  readonly secretHash: string;
  readonly roles: readonly string[];
  readonly indexScope: readonly string[];
  readonly namespaceScope: readonly string[];
  readonly rateLimitPerSecond: number | null;
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
}

/** A revocation (or any key change) recorded in key_revocations. */
export interface RevocationRow {
  readonly seq: bigint;
  /** As recorded: the public key id; a catalog id is resolved to the public one where the key still exists. */
  readonly keyId: string;
}
