// [2] Key verification per cache layer: the real gateway application built in a separate process
// (verify-worker.ts) with the running system's configuration, its KeyVerifier driven directly (no HTTP).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { bench, TS_NODE_FLAGS } from '../harness.ts';
import { FULL } from '../options.ts';
import { log, results, row } from '../report.ts';
import { freePort } from '../util.ts';

export async function keysSection() {
  log('\n[2] key verification per cache layer (real gateway app in a separate process, KeyVerifier driven directly)');
  const keys: string[] = [];
  for (let i = 0; i < 64; i++) keys.push((await bench.system.mintKey(bench.projectId, ['ProjectViewer'])).value);
  const port = await freePort();
  const spec = { keys, durationMs: FULL ? 5000 : 2000, concurrency: 32 };
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [...TS_NODE_FLAGS, path.join(import.meta.dirname, '..', 'verify-worker.ts'), JSON.stringify(spec)], {
      env: { ...bench.storeEnv, CONIFER_GATEWAY_PORT: String(port), CONIFER_PUBLIC_URL: `http://127.0.0.1:${port}` },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.on('data', (c) => (text += c));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`verify worker exited with ${code}: ${text}`))));
  });
  const layers = JSON.parse(out.trim().split('\n').pop()!);
  results.sections.keys = { redis: bench.storeEnv.REDIS_URL ? 'configured' : 'single-node (none)', layers };
  const local = layers[0];
  for (const layer of layers) {
    log(`  ${layer.name.padEnd(40)} ${Math.round(layer.opsPerSecond).toLocaleString('en-US').padStart(9)} /s  ${Math.round(layer.opsPerCpuSecond).toLocaleString('en-US').padStart(9)} per CPU-s  (concurrency ${layer.concurrency}${layer.wrong ? `, ${layer.wrong} unexpected` : ''})`);
    row('keys', `verify/s: ${layer.name}`, layer.opsPerSecond, '/s', {
      reference: layer === local ? undefined : local.opsPerSecond,
      refLabel: layer === local ? undefined : 'local hit',
      note: `${Math.round(layer.opsPerCpuSecond).toLocaleString('en-US')} per CPU-second of the gateway process`,
    });
  }
}
