// A bare node:http server answering the store's query route over one index directory, with the store's own
// pieces and nothing else: the body read by readQueryBody, the engine (a DurableIndex loaded from the directory,
// graph memory-mapped as the store does), the answer printed by renderQueryResult. No Fastify, hooks, metrics,
// auth or logging: what the query path would cost with no framework. It also times the engine call itself
// (GET /engine → its p50/p90 in ms since the last read), so the client can subtract the engine from the store,
// and the body reader and the printer (their p50s: the store's own steps around the engine).
// Run by store-query.ts:  node --experimental-strip-types bench/src/bare-store.ts <index dir> <port>
import http from 'node:http';
import { DEFAULT_DURABLE_OPTIONS, DurableIndex, readQueryBody, renderQueryResult } from '@conifer/vector-store';
import { pino } from 'pino';
import { percentile } from './util.ts';

const [dir, port] = process.argv.slice(2);
const index = await DurableIndex.load('bench', dir!, DEFAULT_DURABLE_OPTIONS, pino({ level: 'silent' }));
let engineMs: number[] = [];
let parseMs: number[] = [];
let renderMs: number[] = [];

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/engine') {
    const body = JSON.stringify({ count: engineMs.length, p50Ms: percentile(engineMs, 50), p90Ms: percentile(engineMs, 90), parseP50Ms: percentile(parseMs, 50), renderP50Ms: percentile(renderMs, 50) });
    engineMs = [];
    parseMs = [];
    renderMs = [];
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    try {
      const tp = performance.now();
      const { request, body } = readQueryBody(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
      const t0 = performance.now();
      const result = index.index.query(request);
      const t1 = performance.now();
      const namespace = (body as { namespace?: unknown } | undefined)?.namespace;
      const out = renderQueryResult(result, request, typeof namespace === 'string' ? namespace : '');
      renderMs.push(performance.now() - t1);
      engineMs.push(t1 - t0);
      parseMs.push(t0 - tp);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': out.length }).end(out);
    } catch (error) {
      const body = JSON.stringify({ message: String(error) });
      res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void index.close().finally(() => process.exit(0));
});
