// A published graph file's bytes for the engine's held-out calibration walk (engine ann/graph-file.ts), which
// reads the file as it goes: the engine has no disk (DESIGN.md §5), the store lends it pread.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { GraphBytes } from '@conifer/engine';

/** The file's bytes by pread; `close()` when done. */
export function openGraphBytes(file: string): GraphBytes & { close(): void } {
  const fd = openSync(file, 'r');
  try {
    const byteLength = fstatSync(fd).size;
    return {
      byteLength,
      read(out: Uint8Array, at: number): void {
        for (let done = 0; done < out.length; ) {
          const got = readSync(fd, out, done, out.length - done, at + done);
          if (got === 0) throw new Error(`${file}: read past its end (${at + done} of ${byteLength} bytes)`);
          done += got;
        }
      },
      close: () => closeSync(fd),
    };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}
