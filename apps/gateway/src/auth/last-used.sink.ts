// Where verified requests report their key's use. The key service's batched recorder implements it (wired
// by the key module); the request path only hands over (keyId, time) and never writes to the database.
export abstract class LastUsedSink {
  /** `keyId` is the key's public id (api_keys.key_id, unique). Must not block or throw. */
  abstract record(keyId: string, at: Date): void;
}
