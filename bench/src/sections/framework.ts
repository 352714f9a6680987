// [1b] Framework cost: the same trivial query route as a Fastify 5 route and as a bare node:http handler
// (framework-server.ts, one process each), sequentially and under load.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { bench, loadTest, TS_NODE_FLAGS } from '../harness.ts';
import { ROUNDS } from '../options.ts';
import { log, results, row } from '../report.ts';
import { percentile, request } from '../util.ts';

export async function frameworkSection() {
  log('\n[1b] framework cost: the same trivial query route as a Fastify 5 route vs a bare node:http handler');
  const servers: { name: string; url: string; headers: Record<string, string> }[] = [];
  for (const kind of ['fastify', 'http']) {
    const child = spawn(process.execPath, [...TS_NODE_FLAGS, path.join(import.meta.dirname, '..', 'framework-server.ts'), kind], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c) => {
        out += c;
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!).port);
      });
      child.once('exit', (code) => reject(new Error(`framework server ${kind} exited with ${code}`)));
    });
    bench.cleanups.push(async () => {
      child.kill('SIGTERM');
      await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
    });
    servers.push({ name: kind, url: `http://127.0.0.1:${port}/internal/indexes/x/query`, headers: { 'x-conifer-internal-token': 'bench-token' } });
  }
  const body = '{"vector":[0.1,0.2,0.3],"topK":10}';
  const rounds = ROUNDS;
  const times: Record<string, number[]> = { fastify: [], http: [] };
  for (let i = 0; i < 300; i++) for (const t of servers) await request(t.url, { method: 'POST', headers: t.headers, body });
  for (let i = 0; i < rounds; i++) {
    for (const t of servers) {
      const response = await request(t.url, { method: 'POST', headers: t.headers, body });
      if (response.status !== 200) throw new Error(`${t.name}: ${response.status}`);
      times[t.name].push(response.ms);
    }
  }
  const section: Record<string, { p50Ms: number; p99Ms: number; requestsPerSecond: number }> = {};
  for (const t of servers) {
    const r = await loadTest({ url: t.url, headers: t.headers, bodies: [body] });
    section[t.name] = { p50Ms: percentile(times[t.name], 50), p99Ms: percentile(times[t.name], 99), requestsPerSecond: r.requestsPerSecond };
    log(`  ${t.name}: p50 ${section[t.name].p50Ms.toFixed(3)} ms, p99 ${section[t.name].p99Ms.toFixed(3)} ms, ${Math.round(r.requestsPerSecond)} req/s`);
  }
  results.sections.framework = section;
  row('framework', 'p50 bare node:http', section.http.p50Ms, 'ms');
  row('framework', 'p50 Fastify route', section.fastify.p50Ms, 'ms', { reference: section.http.p50Ms, refLabel: 'node:http' });
  row('framework', 'Fastify added p50', section.fastify.p50Ms - section.http.p50Ms, 'ms');
  row('framework', 'req/s Fastify route', section.fastify.requestsPerSecond, 'req/s', { reference: section.http.requestsPerSecond, refLabel: 'node:http' });
}
