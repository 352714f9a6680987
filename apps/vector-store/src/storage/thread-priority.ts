// The calling thread's own scheduling priority. Linux schedules threads, not processes: setpriority(2) with a
// thread id changes that thread's nice value alone, and threads it starts later inherit it. Node's
// os.setPriority passes its pid argument through, so a thread id read from /proc/thread-self works.
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** This thread's id in the kernel (Linux: /proc/thread-self links to `<pid>/task/<tid>`), undefined elsewhere. */
function currentThreadId(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const link = readlinkSync('/proc/thread-self');
    const tid = Number(link.slice(link.lastIndexOf('/') + 1));
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Raises the calling thread's nice value to `nice` (lowers its priority; never raises it, which an unprivileged
 * process may not undo). Returns why it could not, or undefined when done or nothing was asked.
 */
export function lowerThreadPriority(nice: number): string | undefined {
  if (nice <= 0) return undefined;
  const tid = currentThreadId();
  if (tid === undefined) return `thread priorities are not set on ${process.platform}`;
  try {
    if (getPriority(tid) < nice) setPriority(tid, nice);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
