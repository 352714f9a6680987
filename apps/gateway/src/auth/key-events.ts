// Key changes (revoke, update of roles/scope/limits, rotation) must reach every cache on every replica.
// The key service records each change in key_revocations inside its own transaction (the durable backstop
// replicas poll), then, after commit, announces it here; the auth module evicts and broadcasts.
export interface KeyChange {
  readonly keyId: string;
  readonly reason: 'revoked' | 'updated' | 'rotated' | 'expired' | 'deleted';
}

export type KeyChangeListener = (change: KeyChange) => void | Promise<void>;

export abstract class KeyEvents {
  /** Called by the key service after the transaction that changed the key has committed. */
  abstract keyChanged(change: KeyChange): Promise<void>;
  abstract subscribe(listener: KeyChangeListener): void;
}
