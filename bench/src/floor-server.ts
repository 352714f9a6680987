// The loopback floor of the overhead section (issue 13): a trivial node:http server in a process of its own that
// reads the request body and answers a fixed JSON body (FLOOR_BODY, the store's own answer to the bench's query)
// with no work at all. What a client measures against it is what any Node HTTP server costs on this machine
// (the client, two loopback hops, Node's parser and writer), which the store's "over its engine" figure includes.
// FLOOR_RAW=1: the same answer from a bare net.Server that finds the header block and Content-Length itself and
// writes pre-built bytes (plus the Date node:http adds): the least any JavaScript server reading its own sockets
// could cost, so that node:http's share of a hop is bounded from above (socket-floor.ts). It is no HTTP server:
// no validation, chunking or limits; the bench's own requests only.
// Prints the port it listens on, then serves until killed.
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';

const body = Buffer.from(process.env.FLOOR_BODY ?? '{"matches":[],"namespace":"","usage":{"readUnits":1}}');

function rawServer(): net.Server {
  const head = (date: string): Buffer =>
    Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${body.length}\r\nDate: ${date}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=60\r\n\r\n`, 'latin1');
  let date = new Date().toUTCString();
  let answer = Buffer.concat([head(date), body]);
  setInterval(() => {
    date = new Date().toUTCString();
    answer = Buffer.concat([head(date), body]);
  }, 1000).unref();
  return net.createServer({ noDelay: true }, (socket: Socket) => {
    let pending: Buffer | undefined;
    socket.on('data', (chunk: Buffer) => {
      let data = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
      for (;;) {
        const end = data.indexOf('\r\n\r\n');
        if (end === -1) break;
        const length = /\r\ncontent-length: *(\d+)/i.exec(data.toString('latin1', 0, end));
        const total = end + 4 + (length === null ? 0 : Number(length[1]));
        if (data.length < total) break;
        socket.write(answer);
        data = data.subarray(total);
      }
      pending = data.length === 0 ? undefined : data;
    });
    socket.on('error', () => socket.destroy());
  });
}

const server =
  process.env.FLOOR_RAW === '1'
    ? rawServer()
    : http.createServer({ keepAliveTimeout: 60_000 }, (request, response) => {
        request.on('data', () => {});
        request.on('end', () => {
          response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
          response.end(body);
        });
      });
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
