// The log an index's mutations go through before they are applied (issue 17, REPLICATION.md). Two kinds:
// the local write-ahead log (one node holds the index; fsync, then apply) and a JetStream stream (every
// replica of the index consumes it and applies each mutation in stream order). Either way a write is
// answered only once the log holds it durably *and* this node has applied it.
import type { Mutation } from '@conifer/engine';

export interface LoggedWrite {
  /** The mutation's sequence in the log (answered as X-Conifer-Log-Seq). */
  seq: number;
  /** Records the mutation touched (update/delete by filter report it). */
  touched: number;
}

export type ReplicaState = 'catching-up' | 'ready';

export interface IndexLog {
  readonly kind: 'local' | 'jetstream';
  /** Logs the mutation durably, waits until this node has applied it. */
  append(mutation: Mutation): Promise<LoggedWrite>;
  /** Highest sequence this node has applied. */
  readonly appliedSeq: number;
  /** Highest sequence the log is known to hold (undefined: not known yet). */
  readonly lastSeq: number | undefined;
  readonly state: ReplicaState;
  /** Resolves true once appliedSeq ≥ seq, false when timeoutMs passes first. */
  waitApplied(seq: number, timeoutMs: number): Promise<boolean>;
  /** Stops consuming (the index's files stay). */
  close(): Promise<void>;
}
