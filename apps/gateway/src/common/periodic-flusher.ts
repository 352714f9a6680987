// The lifecycle shared by the recorders that keep counts off the request path and write them in batches:
// a timer every `flushEveryMs` (unref'd: it never keeps the process alive), one more flush at shutdown, and
// concurrent flush() calls that wait for the one in progress instead of writing the same batch twice.
import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';

export abstract class PeriodicFlusher implements OnModuleInit, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  /** How often the timer flushes. */
  protected abstract flushEveryMs(): number;

  /**
   * Writes what is pending. It must take its batch before its first await (so that records arriving during the
   * write go to the next batch) and put the batch back itself when the write fails.
   */
  protected abstract writePending(): Promise<void>;

  /** Writes what has been recorded so far. Concurrent calls share the flush in progress. */
  async flush(): Promise<void> {
    if (this.flushing) await this.flushing;
    this.flushing = this.writePending().finally(() => {
      this.flushing = undefined;
    });
    await this.flushing;
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.flushEveryMs());
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
