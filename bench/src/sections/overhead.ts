// [1] Gateway overhead: the same query sent straight to the store, through the gateway and through nginx (a
// plain reverse proxy, when installed) to the store, sequentially (latency) and under load (throughput); and
// the store's own HTTP cost over its engine, answered in this process by the same DurableIndex (timed in the
// same sequential rounds).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseQueryRequest } from '@conifer/contracts';
import { type Dataset, makeDataset, queryBody, upsertBodies } from '@conifer/test-utils';
import { DEFAULT_DURABLE_OPTIONS, DurableIndex } from '@conifer/vector-store';
import { pino } from 'pino';
import { bench, createIndex, deleteIndex, loadTest, TS_NODE_FLAGS } from '../harness.ts';
import { findNginx, startNginx } from '../nginx.ts';
import { BASE_GATEWAY_MAIN, LOAD_SECONDS, OVERHEAD_DIM, ROUNDS, SATURATION_SLICES } from '../options.ts';
import { log, results, row } from '../report.ts';
import { cpuSeconds, type HttpResponse, json, percentile, progress, RawHttpClient, request } from '../util.ts';

export async function overheadSection() {
  log('\n[1] gateway overhead: direct to the store vs through the gateway vs through nginx (plain reverse proxy) to the store');
  const { host, indexId } = await createIndex('bench-overhead', OVERHEAD_DIM);
  const data = makeDataset({ n: 1000, dim: OVERHEAD_DIM, seed: 1 });
  for (const { body } of upsertBodies(data)) await json(`${host}/vectors/upsert`, { method: 'POST', headers: bench.keyHeaders, body });
  const body = queryBody(data.makeQueries(1)[0]!, { topK: 10 });
  // proxyPid: the process doing the hop (none when the client talks to the store itself).
  const targets: { name: string; label: string; url: string; headers: Record<string, string>; proxyPid?: number }[] = [
    { name: 'direct', label: 'store directly', url: `${bench.storeUrl}/internal/indexes/${indexId}/query`, headers: bench.internalHeaders },
    { name: 'gateway', label: 'gateway → store', url: `${host}/query`, headers: bench.keyHeaders, proxyPid: bench.system.gateways[0]!.child.pid! },
  ];
  if (BASE_GATEWAY_MAIN) {
    // The other build's gateway (--base-gateway-main), on the same store, database and key.
    const baseGateway = bench.system.gateways[1]!;
    const baseUrl = `${baseGateway.url}${new URL(host).pathname}/query`;
    for (let i = 0; i < 200; i++) await request(baseUrl, { method: 'POST', headers: bench.keyHeaders, body });
    targets.push({ name: 'base', label: 'base gateway → store', url: baseUrl, headers: bench.keyHeaders, proxyPid: baseGateway.child.pid! });
  }
  const nginxBinary = findNginx();
  let nginx: Awaited<ReturnType<typeof startNginx>> | null = null;
  if (nginxBinary) {
    const started = await startNginx(nginxBinary, new URL(bench.storeUrl).port, mkdtempSync(path.join(os.tmpdir(), 'conifer-nginx-')));
    nginx = started;
    bench.cleanups.push(async () => started.stop());
    // nginx runs one worker (nginx.ts), a child of the master: that worker does the hop.
    const worker = Number(readFileSync(`/proc/${nginx.pid}/task/${nginx.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    targets.push({ name: 'nginx', label: `nginx ${nginx.version} → store`, url: `${nginx.url}/internal/indexes/${indexId}/query`, headers: bench.internalHeaders, proxyPid: worker });
    log(`  nginx found at ${nginxBinary} (${nginx.version}), proxying ${nginx.url} → ${bench.storeUrl}`);
  } else {
    log('  nginx is not installed (not on PATH nor /usr/sbin): the nginx reference is skipped (apt-get install nginx to add it)');
  }
  const section: Record<string, any> = { query: `top_k 10 over 1,000 × ${OVERHEAD_DIM} (exact scan in the store; body ${Buffer.byteLength(body)} bytes)`, nginx: nginx ? nginx.version : 'not installed', targets: {} };

  // The loopback floor (latency rounds only): a trivial node:http server in its own process answering the store's
  // own answer bytes with no work (floor-server.ts), so that "store over engine" can be read as floor + the
  // store's own share. And the same two (floor, store) once more with a lean client (RawHttpClient: pre-built
  // request bytes on one socket), which no user has: it shows the share of the bench's own node:http client.
  const storeAnswer = (await request(targets[0]!.url, { method: 'POST', headers: targets[0]!.headers, body })).text;
  const floor = await startFloor(storeAnswer);
  bench.cleanups.push(async () => floor.stop());
  const floorUrl = `${floor.url}/query`;
  const leanFloor = new RawHttpClient(new URL(floorUrl), 'POST', {}, body);
  const leanDirect = new RawHttpClient(new URL(targets[0]!.url), 'POST', bench.internalHeaders, body);
  type Probe = { name: string; send: () => Promise<HttpResponse> };
  const probes: Probe[] = [
    ...targets.map((t): Probe => ({ name: t.name, send: () => request(t.url, { method: 'POST', headers: t.headers, body }) })),
    { name: 'floor', send: () => request(floorUrl, { method: 'POST', body }) },
    { name: 'leanFloor', send: () => leanFloor.send() },
    { name: 'leanDirect', send: () => leanDirect.send() },
  ];
  // Latency: one request at a time, the targets interleaved (the order rotated each round) so drift hits all alike.
  const rounds = ROUNDS;
  const times: Record<string, number[]> = Object.fromEntries(probes.map((t) => [t.name, []]));
  // The engine alone is timed in the same rounds (one query per round, between the HTTP requests), so that
  // "direct − engine" compares two figures taken in the same seconds of the machine's load.
  const engine = await engineReference(data, body);
  const engineTimes: number[] = [];
  for (let i = 0; i < 300; i++) {
    for (const t of probes) await t.send();
    engine.time();
  }
  const bar = progress('sequential latency');
  for (let i = 0; i < rounds; i++) {
    for (let k = 0; k < probes.length; k++) {
      const t = probes[(i + k) % probes.length]!;
      const response = await t.send();
      if (response.status !== 200) throw new Error(`${t.name}: ${response.status} ${response.text}`);
      times[t.name]!.push(response.ms);
    }
    engineTimes.push(engine.time());
    bar.update(`${i + 1}/${rounds}`);
  }
  bar.done(`${rounds} rounds`);
  for (const t of targets) {
    section.targets[t.name] = { label: t.label, p50Ms: percentile(times[t.name]!, 50), p99Ms: percentile(times[t.name]!, 99) };
    log(`  ${t.label}: p50 ${section.targets[t.name].p50Ms.toFixed(3)} ms, p99 ${section.targets[t.name].p99Ms.toFixed(3)} ms`);
  }
  const latencyOnly = { floor: 'floor: trivial node:http server', leanFloor: 'floor, lean client', leanDirect: 'store directly, lean client' } as const;
  section.floor = {};
  for (const [name, label] of Object.entries(latencyOnly)) {
    section.floor[name] = { label, p50Ms: percentile(times[name]!, 50), p99Ms: percentile(times[name]!, 99) };
    log(`  ${label}: p50 ${section.floor[name].p50Ms.toFixed(3)} ms, p99 ${section.floor[name].p99Ms.toFixed(3)} ms`);
  }
  leanFloor.close();
  leanDirect.close();
  floor.stop();
  // Saturation: autocannon in its own process (16 connections; its CPU competes for the same cores whichever
  // target it drives). Each target's time is cut into slices run in turn, the order rotated every slice, so
  // that the machine's other load falls on all targets alike; requests/s is the total over a target's slices.
  // The slices are a multiple of the targets, so that each target runs in every position of the order equally
  // often: with 3 slices over 4 targets (a base gateway and nginx), two gateways of the same build differed by
  // 1.09–2.3× in requests/s on a loaded machine (bench/RESULTS.md, s8-front); balanced, by 0.88–1.19×.
  const sliceCount = Math.ceil(SATURATION_SLICES / targets.length) * targets.length;
  const sliceSeconds = LOAD_SECONDS / sliceCount;
  // The CPU each process of the chain used in the slice (/proc: user + system), so that the comparison can also
  // be read as CPU per request, which the machine's other load disturbs far less than requests/s.
  const storePid = bench.storeChild.pid!;
  type Slices = { total: number; seconds: number; perSlice: number[]; p50: number[]; p99: number[]; proxyCpu: number; storeCpu: number; clientCpu: number };
  const slices: Record<string, Slices> = Object.fromEntries(
    targets.map((t) => [t.name, { total: 0, seconds: 0, perSlice: [], p50: [], p99: [], proxyCpu: 0, storeCpu: 0, clientCpu: 0 }]),
  );
  const bar2 = progress('saturation');
  for (let slice = 0; slice < sliceCount; slice++) {
    for (let k = 0; k < targets.length; k++) {
      const t = targets[(slice + k) % targets.length]!;
      bar2.update(`slice ${slice + 1}/${sliceCount}: ${t.label}, ${sliceSeconds.toFixed(1)} s, 16 connections ...`, true);
      const cpu0 = [t.proxyPid === undefined ? 0 : cpuSeconds(t.proxyPid), cpuSeconds(storePid)];
      const r = await loadTest({ url: t.url, headers: t.headers, bodies: [body], duration: sliceSeconds });
      const s = slices[t.name]!;
      s.proxyCpu += t.proxyPid === undefined ? 0 : cpuSeconds(t.proxyPid) - cpu0[0]!;
      s.storeCpu += cpuSeconds(storePid) - cpu0[1]!;
      s.clientCpu += r.clientCpuSeconds;
      s.total += r.total;
      s.seconds += r.duration ?? sliceSeconds;
      s.perSlice.push(r.requestsPerSecond);
      s.p50.push(r.latencyP50);
      s.p99.push(r.latencyP99);
    }
  }
  for (const t of targets) {
    const s = slices[t.name]!;
    section.targets[t.name].requestsPerSecond = s.total / s.seconds;
    section.targets[t.name].requestsPerSecondBySlice = s.perSlice;
    // Latency under saturation: the worst slice.
    section.targets[t.name].saturationP50Ms = Math.max(...s.p50);
    section.targets[t.name].saturationP99Ms = Math.max(...s.p99);
    const perRequest = (seconds: number) => (seconds * 1e6) / s.total;
    section.targets[t.name].cpuPerRequestUs = { proxy: perRequest(s.proxyCpu), store: perRequest(s.storeCpu), client: perRequest(s.clientCpu) };
    const c = section.targets[t.name].cpuPerRequestUs;
    log(`  ${t.label} at saturation: CPU per request (µs, /proc) client ${c.client.toFixed(0)}, proxy ${c.proxy.toFixed(0)}, store ${c.store.toFixed(0)}; chain ${(c.client + c.proxy + c.store).toFixed(0)}`);
  }
  bar2.done(targets.map((t) => `${t.name} ${Math.round(section.targets[t.name].requestsPerSecond)} req/s`).join(', '));
  if (slices.nginx) {
    const ratios = slices.gateway!.perSlice.map((g, i) => g / slices.nginx!.perSlice[i]!);
    section.gatewayOverNginxBySlice = ratios;
    log(`  req/s via gateway ÷ via nginx, slice by slice: ${ratios.map((r) => r.toFixed(2)).join(', ')}`);
    if (slices.base) {
      const baseRatios = slices.base.perSlice.map((b, i) => b / slices.nginx!.perSlice[i]!);
      section.baseOverNginxBySlice = baseRatios;
      log(`  req/s via base gateway ÷ via nginx, slice by slice: ${baseRatios.map((r) => r.toFixed(2)).join(', ')}`);
    }
  }
  if (slices.base) {
    const b = section.targets.base;
    const g = section.targets.gateway;
    log(
      `  gateway vs base gateway: req/s ${(g.requestsPerSecond / b.requestsPerSecond).toFixed(2)}×, CPU per request ${g.cpuPerRequestUs.proxy.toFixed(0)} vs ${b.cpuPerRequestUs.proxy.toFixed(0)} µs, ` +
        `added p50 ${(g.p50Ms - section.targets.direct.p50Ms).toFixed(3)} vs ${(b.p50Ms - section.targets.direct.p50Ms).toFixed(3)} ms, added p99 ${(g.p99Ms - section.targets.direct.p99Ms).toFixed(3)} vs ${(b.p99Ms - section.targets.direct.p99Ms).toFixed(3)} ms`,
    );
  }
  results.sections.overhead = section;
  const d = section.targets.direct;
  const g = section.targets.gateway;
  const n = section.targets.nginx;
  row('overhead', 'p50 direct to store', d.p50Ms, 'ms');
  row('overhead', 'p50 via gateway', g.p50Ms, 'ms', { reference: d.p50Ms, refLabel: 'direct' });
  if (n) row('overhead', 'p50 via nginx', n.p50Ms, 'ms', { reference: d.p50Ms, refLabel: 'direct' });
  row('overhead', 'added p50, gateway', g.p50Ms - d.p50Ms, 'ms', { reference: n ? n.p50Ms - d.p50Ms : undefined, refLabel: 'nginx added', target: 0.5 });
  row('overhead', 'added p99, gateway', g.p99Ms - d.p99Ms, 'ms', { reference: n ? n.p99Ms - d.p99Ms : undefined, refLabel: 'nginx added' });
  row('overhead', 'req/s direct to store', d.requestsPerSecond, 'req/s');
  row('overhead', 'req/s via gateway', g.requestsPerSecond, 'req/s', {
    reference: n ? n.requestsPerSecond : d.requestsPerSecond,
    refLabel: n ? 'nginx' : 'direct',
    ...(n ? { target: 0.85 * n.requestsPerSecond, higherIsBetter: true } : {}),
  });
  if (n) row('overhead', 'req/s via nginx', n.requestsPerSecond, 'req/s', { reference: d.requestsPerSecond, refLabel: 'direct' });
  const b = section.targets.base;
  if (b) {
    row('overhead', 'req/s via base gateway (--base-gateway-main)', b.requestsPerSecond, 'req/s', { reference: n ? n.requestsPerSecond : d.requestsPerSecond, refLabel: n ? 'nginx' : 'direct' });
    row('overhead', 'CPU per request at saturation, base gateway', b.cpuPerRequestUs.proxy, 'µs', n ? { reference: n.cpuPerRequestUs.proxy, refLabel: 'nginx worker' } : {});
    row('overhead', 'added p50, base gateway', b.p50Ms - d.p50Ms, 'ms', { reference: g.p50Ms - d.p50Ms, refLabel: 'gateway added' });
  }
  // The same saturation runs as CPU per request: the hop alone, and the whole chain on the machine's cores
  // (client + hop + store). On cores of their own, requests/s would go as the inverse of the chain's CPU, so
  // nginx's chain ÷ the gateway's is the requests/s ratio the machine's other load does not distort.
  const chain = (t: { cpuPerRequestUs: { proxy: number; store: number; client: number } }) => t.cpuPerRequestUs.proxy + t.cpuPerRequestUs.store + t.cpuPerRequestUs.client;
  row('overhead', 'CPU per request at saturation, gateway', g.cpuPerRequestUs.proxy, 'µs', n ? { reference: n.cpuPerRequestUs.proxy, refLabel: 'nginx worker' } : {});
  row('overhead', 'CPU per request at saturation, store behind gateway', g.cpuPerRequestUs.store, 'µs', n ? { reference: n.cpuPerRequestUs.store, refLabel: 'behind nginx' } : {});
  if (n) {
    row('overhead', 'chain CPU ratio at saturation (nginx chain ÷ gateway chain)', chain(n) / chain(g), 'ratio', {
      note: `client+hop+store µs: gateway ${chain(g).toFixed(0)}, nginx ${chain(n).toFixed(0)}`,
      target: 0.85,
      higherIsBetter: true,
    });
  }
  // The store's HTTP path over its engine: the same query answered by the engine in this process (same data,
  // exact scan as in the store at this size), timed alone.
  // As measured before (issue 13's earlier rows): the engine alone in a tight loop, caches warm for it alone.
  const tight: number[] = [];
  for (let i = 0; i < rounds + 300; i++) {
    const ms = engine.time();
    if (i >= 300) tight.push(ms);
  }
  const engineFigures = { p50Ms: percentile(engineTimes, 50), p99Ms: percentile(engineTimes, 99), tightLoopP50Ms: percentile(tight, 50), plan: engine.plan() };
  await engine.close();
  section.engine = engineFigures;
  log(`  engine alone (in-process DurableIndex, same data and query, timed in the same rounds): p50 ${engineFigures.p50Ms.toFixed(3)} ms, p99 ${engineFigures.p99Ms.toFixed(3)} ms`);
  row('overhead', 'p50 engine alone (same query)', engineFigures.p50Ms, 'ms');
  row('overhead', 'store HTTP added p50 (direct − engine)', d.p50Ms - engineFigures.p50Ms, 'ms', { target: 0.3 });
  const f = section.floor;
  row('overhead', 'p50 floor (trivial node:http server, same client)', f.floor.p50Ms, 'ms', { note: 'no work: the client + loopback + Node HTTP alone' });
  row('overhead', 'store over floor p50 (direct − floor)', d.p50Ms - f.floor.p50Ms, 'ms', { reference: engineFigures.p50Ms, refLabel: 'engine alone' });
  row('overhead', 'p50 floor, lean client', f.leanFloor.p50Ms, 'ms', { note: 'pre-built request bytes on one socket (no user has this client)' });
  row('overhead', 'p50 direct to store, lean client', f.leanDirect.p50Ms, 'ms', { reference: f.leanFloor.p50Ms, refLabel: 'floor' });
  row('overhead', 'store HTTP added p50, lean client (direct − engine)', f.leanDirect.p50Ms - engineFigures.p50Ms, 'ms');
  row('overhead', 'p50 engine alone in a tight loop', engineFigures.tightLoopP50Ms, 'ms', { note: 'the earlier reference' });
  row('overhead', 'store HTTP added p50 (direct − tight-loop engine)', d.p50Ms - engineFigures.tightLoopP50Ms, 'ms');
  await deleteIndex('bench-overhead');
}

/**
 * The engine's own time for the query: the same data in a DurableIndex in this process (exact scan, as in the
 * store at this size), the body parsed as the store parses it. `time()` answers one query and returns its ms;
 * the bench calls it inside the latency rounds, next to the HTTP requests, so both see the same machine.
 */
async function engineReference(data: Dataset, body: string): Promise<{ time(): number; plan(): unknown; close(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'conifer-engine-ref-'));
  const index = await DurableIndex.create('engine-ref', path.join(dir, 'i'), { dimension: data.dim, metric: 'cosine', vectorType: 'dense' }, DEFAULT_DURABLE_OPTIONS, pino({ level: 'silent' }));
  const vectors: { id: string; values: Float32Array; metadata: { bucket: number } }[] = [];
  for (let j = 0; j < data.n; j++) vectors.push({ id: `v${j}`, values: data.values.subarray(j * data.dim, (j + 1) * data.dim), metadata: { bucket: data.bucket[j]! } });
  await index.mutate(index.index.prepareUpsert({ namespace: '', vectors }));
  const parsed = JSON.parse(body);
  let result: ReturnType<typeof index.index.query> | undefined;
  return {
    time() {
      const t0 = process.hrtime.bigint();
      result = index.index.query(parseQueryRequest(parsed));
      return Number(process.hrtime.bigint() - t0) / 1e6;
    },
    // The engine reports the plan it ran on each result (@conifer/engine's QueryResult.plan).
    plan: () => result?.plan.plan,
    async close() {
      await index.close?.();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The floor server (floor-server.ts) in a process of its own, answering `answer`. */
async function startFloor(answer: string): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [...TS_NODE_FLAGS, path.resolve(import.meta.dirname, '../floor-server.ts')], {
    env: { ...process.env, FLOOR_BODY: answer },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`floor server exited (${code})`)));
    child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => void child.kill('SIGTERM') };
}
