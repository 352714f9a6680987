// A TCP forwarder for outage tests: put it between a process and a server (the gateways and Postgres or Redis)
// and break the path mid-test without ever touching the server itself.
//   cut()/restore()  every open connection reset, new ones reset on connect (a network that drops everything)
//   stop()/start()   listener and connections closed, connections refused; start() listens on the same port again
//   freeze()/thaw()  connections stay open but nothing is forwarded (a server that hangs; bytes wait, as TCP keeps them)
import net from 'node:net';
import { freePort } from './ports.js';

export interface TcpProxy {
  readonly port: number;
  readonly cutNow: boolean;
  cut(): void;
  restore(): void;
  stop(): Promise<void>;
  start(): Promise<void>;
  freeze(): void;
  thaw(): void;
  /** Stops for good. */
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const port = await freePort();
  const pairs = new Set<[net.Socket, net.Socket]>();
  let server: net.Server | null = null;
  let down = false;
  let frozen = false;

  const forward = (client: net.Socket, upstream: net.Socket) => {
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const hold = (client: net.Socket, upstream: net.Socket) => {
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.pause();
    upstream.pause();
  };
  const destroyAll = (reset: boolean) => {
    for (const pair of pairs) {
      for (const socket of pair) {
        if (!reset) socket.destroy();
        else {
          try {
            socket.resetAndDestroy();
          } catch {
            socket.destroy();
          }
        }
      }
    }
    pairs.clear();
  };

  const start = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        if (down) {
          client.resetAndDestroy();
          return;
        }
        const upstream = net.connect(targetPort, targetHost);
        const pair: [net.Socket, net.Socket] = [client, upstream];
        pairs.add(pair);
        const drop = () => {
          pairs.delete(pair);
          client.destroy();
          upstream.destroy();
        };
        for (const socket of pair) socket.on('error', drop).on('close', drop);
        if (frozen) client.pause();
        else forward(client, upstream);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });

  const stop = () =>
    new Promise<void>((resolve) => {
      destroyAll(false);
      if (!server) return resolve();
      server.close(() => resolve());
      server = null;
    });

  await start();
  return {
    port,
    get cutNow() {
      return down;
    },
    cut() {
      down = true;
      destroyAll(true);
    },
    restore() {
      down = false;
    },
    stop,
    start,
    freeze() {
      frozen = true;
      for (const [client, upstream] of pairs) hold(client, upstream);
    },
    thaw() {
      frozen = false;
      for (const [client, upstream] of pairs) forward(client, upstream);
    },
    close() {
      down = true;
      return stop();
    },
  };
}
