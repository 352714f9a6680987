// The log an index's mutations go through before they are applied (issue 17, docs/REPLICATION.md). Two kinds:
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

/** The shared-log position a snapshot covers, kept beside snapshot-<seq>.bin (a few bytes of text). */
export const positionFileName = (seq: number): string => `snapshot-${String(seq).padStart(8, '0')}.pos`;

const POSITION_FILE = /^snapshot-(\d+)\.pos$/;
const SNAPSHOT_FILE = /^snapshot-(\d+)\.bin$/;

/**
 * Position files of snapshots that are gone (the durable index removes superseded snapshots, not these):
 * those below the newest snapshot without their own. One being written (above it) is kept.
 */
export function stalePositionFiles(files: readonly string[]): string[] {
  const snapshots = new Set(files.map((f) => SNAPSHOT_FILE.exec(f)?.[1]).filter((s): s is string => s !== undefined).map(Number));
  const newest = Math.max(0, ...snapshots);
  return files.filter((f) => {
    const m = POSITION_FILE.exec(f);
    return m !== null && Number(m[1]) < newest && !snapshots.has(Number(m[1]));
  });
}
