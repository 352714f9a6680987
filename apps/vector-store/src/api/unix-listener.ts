// The store's second listener: a Unix domain socket (CONIFER_VECTOR_STORE_SOCKET), for a gateway on the same
// host (issue 13). It skips the loopback TCP stack on both ends of every forwarded request (bench/RESULTS.md:
// ~5 µs of CPU per request on each side). TCP stays the listener every other node, health check and gateway on
// another host uses.
//
// The connections are handed to the Fastify app's own HTTP server, so a request over the socket goes through the
// same routes and hooks: the internal token is still checked on every request (a socket file's permissions are
// a second fence, not a replacement). The socket is made owner-and-group only (0660).
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import { connect, createServer, type Server } from 'node:net';

export interface UnixListener {
  readonly path: string;
  close(): Promise<void>;
}

/** Listens on `socketPath` and serves its connections with `http` (already listening on TCP). */
export async function listenOnUnixSocket(http: HttpServer, socketPath: string): Promise<UnixListener> {
  await removeStaleSocket(socketPath);
  const server: Server = createServer((socket) => http.emit('connection', socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o660);
  return {
    path: socketPath,
    // Stops accepting (and removes the socket file) at once. Open keep-alive connections belong to the HTTP
    // server: its close() ends them, so waiting for them here would wait for the gateway's idle timeout.
    close: async () => {
      server.close();
    },
  };
}

/**
 * A socket file left by a store that did not shut down cleanly is removed. A socket something still answers on
 * (another store configured with the same path) or any other file there is an error: never taken over.
 */
async function removeStaleSocket(socketPath: string): Promise<void> {
  let stat;
  try {
    stat = lstatSync(socketPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!stat.isSocket()) throw new Error(`CONIFER_VECTOR_STORE_SOCKET: ${socketPath} exists and is not a socket`);
  const answered = await new Promise<boolean>((resolve) => {
    const probe = connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (answered) throw new Error(`CONIFER_VECTOR_STORE_SOCKET: another process is listening on ${socketPath}`);
  unlinkSync(socketPath);
}
