// A TCP forwarder the outage tests cut and restore: stop() closes the listener and every connection (the
// backing service looks unreachable), start() listens again on the same port; freeze() keeps connections open
// but forwards nothing (a service that hangs without closing anything; bytes wait, as TCP would keep them),
// thaw() forwards again.
import net from 'node:net';
import { freePort } from '@conifer/test-utils';

export interface TcpProxy {
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  freeze(): void;
  thaw(): void;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const port = await freePort();
  const pairs = new Set<[net.Socket, net.Socket]>();
  let server: net.Server | null = null;
  let frozen = false;

  const connect = (client: net.Socket, upstream: net.Socket) => {
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const disconnect = (client: net.Socket, upstream: net.Socket) => {
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.pause();
    upstream.pause();
  };

  const start = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(targetPort, targetHost);
        const pair: [net.Socket, net.Socket] = [client, upstream];
        pairs.add(pair);
        const close = () => {
          pairs.delete(pair);
          client.destroy();
          upstream.destroy();
        };
        for (const socket of pair) {
          socket.on('error', close);
          socket.on('close', close);
        }
        if (frozen) client.pause();
        else connect(client, upstream);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });

  const stop = () =>
    new Promise<void>((resolve) => {
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
      if (!server) return resolve();
      server.close(() => resolve());
      server = null;
    });

  await start();
  return {
    port,
    start,
    stop,
    freeze: () => {
      frozen = true;
      for (const [client, upstream] of pairs) disconnect(client, upstream);
    },
    thaw: () => {
      frozen = false;
      for (const [client, upstream] of pairs) connect(client, upstream);
    },
  };
}
