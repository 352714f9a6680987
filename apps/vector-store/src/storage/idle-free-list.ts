// A short free list of reusable buffers (upsert bodies, the graph builder's batches) that empties itself once
// nothing has been taken from it for a while: what it keeps is resident anonymous memory, which an idle store
// should not hold (the memory bench reads RssAnon after an ingest).

export class IdleFreeList<T> {
  private readonly items: T[] = [];
  private lastTaken = 0;
  private timer: NodeJS.Timeout | undefined;

  /**
   * `keep`: items kept at most (the oldest goes first); `idleMs`: emptied after this long without a take;
   * `onIdle`: called then too.
   */
  constructor(
    private readonly keep: number,
    private readonly idleMs: number,
    private readonly onIdle?: () => void,
  ) {}

  /** The newest item that `fits`, off the list (undefined when none does); counts as a take either way. */
  take(fits: (item: T) => boolean): T | undefined {
    this.lastTaken = performance.now();
    for (let i = this.items.length - 1; i >= 0; i--) {
      if (fits(this.items[i]!)) return this.items.splice(i, 1)[0];
    }
    return undefined;
  }

  put(item: T): void {
    if (this.items.length >= this.keep) this.items.shift();
    this.items.push(item);
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.expire(), this.idleMs);
      this.timer.unref();
    }
  }

  get size(): number {
    return this.items.length;
  }

  private expire(): void {
    this.timer = undefined;
    const idle = performance.now() - this.lastTaken;
    if (idle >= this.idleMs) {
      this.items.length = 0;
      this.onIdle?.();
      return;
    }
    this.timer = setTimeout(() => this.expire(), this.idleMs - idle);
    this.timer.unref();
  }
}
