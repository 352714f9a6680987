// The framework reference (issue 13): one process serving `POST /internal/indexes/:indexId/query` with the same
// work either way — read the JSON body, parse it, answer a fixed 10-match query response — once as a Fastify 5
// route (the vector store's router options, a JSON body parser and an onRequest hook as the store has) and once
// as a bare node:http handler. The difference is what the framework costs per request.
//   node framework-server.ts fastify|http   → prints {"port":N} once listening
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';

const kind = process.argv[2];
const answer = {
  matches: Array.from({ length: 10 }, (_, i) => ({ id: `v${i}`, score: 0.9 - i / 100 })),
  namespace: '',
  usage: { readUnits: 1 },
};
const TOKEN = 'bench-token';

let server: http.Server;
if (kind === 'fastify') {
  // The store's Fastify (the bench depends on the same version range as apps/vector-store).
  const app = Fastify({ logger: false, routerOptions: { ignoreDuplicateSlashes: true, ignoreTrailingSlash: true, maxParamLength: 2048 } });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body: Buffer, done) => {
    try {
      done(null, JSON.parse(body.toString('utf8')));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addHook('onRequest', async (request) => {
    if (request.headers['x-conifer-internal-token'] !== TOKEN) throw Object.assign(new Error('no'), { statusCode: 401 });
  });
  app.post('/internal/indexes/:indexId/query', async (request) => {
    if (typeof request.body !== 'object') throw new Error('bad body');
    return answer;
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  server = app.server;
} else {
  server = http.createServer((req, res) => {
    if (req.headers['x-conifer-internal-token'] !== TOKEN) {
      res.writeHead(401).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (req.method !== 'POST' || !/^\/internal\/indexes\/[^/]+\/query$/.test(req.url ?? '') || typeof body !== 'object') {
        res.writeHead(404).end();
        return;
      }
      const text = JSON.stringify(answer);
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
}
process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
process.on('SIGTERM', () => process.exit(0));
