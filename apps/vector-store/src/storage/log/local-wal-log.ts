// The embedded default: the index's own write-ahead log files (WalWriter, group commit). One node holds
// the index, and a write is applied before it is answered, so any read on this node has seen every
// acknowledged write: a requested sequence (X-Conifer-Min-Seq) is always satisfied. The sequence is a
// counter of records appended since this process opened the index (it restarts at 0 after a restart).
import type { Mutation } from '@conifer/engine';
import type { IndexLog, LoggedWrite } from './index-log.js';

/** What the local log needs of its index (the durable index): append to its own WAL files and apply. */
export interface LocalWal {
  appendLocal(mutation: Mutation): Promise<LoggedWrite['touched']>;
}

export class LocalWalLog implements IndexLog {
  readonly kind = 'local' as const;
  readonly state = 'ready' as const;
  private appended = 0;

  constructor(private readonly durable: LocalWal) {}

  async append(mutation: Mutation): Promise<LoggedWrite> {
    const touched = await this.durable.appendLocal(mutation);
    return { seq: ++this.appended, touched };
  }

  get appliedSeq(): number {
    return this.appended;
  }

  get lastSeq(): number {
    return this.appended;
  }

  async waitApplied(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}
}
