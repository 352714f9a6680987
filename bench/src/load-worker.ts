// Load generator, run as a separate process by the bench: autocannon against one URL for a bounded time,
// cycling through the given request bodies. Input: the path of a JSON spec file; output: one JSON line on stdout.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const bodies = spec.bodies ?? [];
let next = 0;
const cpu0 = process.cpuUsage();
const result = await autocannon({
  url: spec.url,
  method: spec.method ?? 'POST',
  headers: { 'content-type': 'application/json', ...spec.headers },
  connections: spec.connections ?? 16,
  duration: spec.duration ?? 5,
  ...(bodies.length > 1
    ? { requests: [{ setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }) }] }
    : { body: bodies[0] }),
});
process.stdout.write(
  JSON.stringify({
    requestsPerSecond: result.requests.total / ((result.duration ?? spec.duration) || 1),
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    duration: result.duration,
    // This process's own CPU while it drove the load (it shares the machine's cores with what it measures).
    clientCpuSeconds: (() => {
      const used = process.cpuUsage(cpu0);
      return (used.user + used.system) / 1e6;
    })(),
  }) + '\n',
);
