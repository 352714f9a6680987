// The loopback floor of the overhead section (issue 13): a trivial node:http server in a process of its own that
// reads the request body and answers a fixed JSON body (FLOOR_BODY, the store's own answer to the bench's query)
// with no work at all. What a client measures against it is what any Node HTTP server costs on this machine
// (the client, two loopback hops, Node's parser and writer), which the store's "over its engine" figure includes.
// Prints the port it listens on, then serves until killed.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const body = Buffer.from(process.env.FLOOR_BODY ?? '{"matches":[],"namespace":"","usage":{"readUnits":1}}');
const server = http.createServer({ keepAliveTimeout: 60_000 }, (request, response) => {
  request.on('data', () => {});
  request.on('end', () => {
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
    response.end(body);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
