#!/usr/bin/env -S node --experimental-strip-types
// What an idle system costs: the real system (one store, `--gateways` gateways, Postgres and Redis as for `npm run
// bench`) started, left alone for `--settle` seconds, then each process's CPU time (user + system, /proc/<pid>/stat)
// and its event-loop wake-ups (epoll waits, from `strace -c` when it is installed) over `--seconds` with no request.
// Not part of `npm test` or `npm run bench`.
//   DATABASE_URL=… REDIS_URL=… node --experimental-strip-types bench/src/idle-cpu.ts [--gateways=2] [--settle=10] [--seconds=30]
//     [--env=NAME=value,…] (more environment for every process, e.g. CONIFER_METRICS_ENABLED=false)
import { spawnSync } from 'node:child_process';
import { startSystem } from '@conifer/test-utils';
import { load } from './recall-data.ts';
import { commandLine, cpuSeconds } from './util.ts';

const { flags } = commandLine();
const GATEWAYS = Number(flags.gateways ?? 2);
const SETTLE_S = Number(flags.settle ?? 10);
const SECONDS = Number(flags.seconds ?? 30);
const ENV = Object.fromEntries((flags.env ?? '').split(',').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));

const cpuMs = (pid: number): number => cpuSeconds(pid) * 1000;

/** epoll waits per second of a process's threads over `seconds` (strace -c), or undefined without strace. */
function wakeUpsPerSecond(pid: number, seconds: number): number | undefined {
  const traced = spawnSync('timeout', [String(seconds), 'strace', '-c', '-f', '-p', String(pid)], { encoding: 'utf8' });
  const line = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+\d*\s*epoll_pwait$/m.exec(traced.stderr ?? '');
  return line === null ? undefined : Number(line[1]) / seconds;
}

const system = await startSystem({ env: { CONIFER_LOG_LEVEL: 'warn', ...ENV }, gateways: GATEWAYS });
try {
  await new Promise((resolve) => setTimeout(resolve, SETTLE_S * 1000));
  const processes = [...system.gateways.map((g, i) => ({ name: `gateway ${i + 1}`, pid: g.child.pid! })), { name: 'store', pid: system.store.child.pid! }];
  const before = processes.map((p) => cpuMs(p.pid));
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const after = processes.map((p) => cpuMs(p.pid));
  // The wake-ups afterwards, one process at a time (strace's own cost stays out of the CPU figures above).
  const wakeUps = processes.map((p) => wakeUpsPerSecond(p.pid, 5));
  process.stdout.write(`idle ${SECONDS} s after ${SETTLE_S} s${flags.env ? ` (${flags.env})` : ''}, load ${load()}\n| process | CPU ms per s | epoll waits per s |\n| --- | --- | --- |\n`);
  processes.forEach((p, i) => {
    const perSecond = (after[i]! - before[i]!) / SECONDS;
    process.stdout.write(`| ${p.name} | ${perSecond.toFixed(1)} | ${wakeUps[i]?.toFixed(0) ?? 'no strace'} |\n`);
  });
} finally {
  await system.stop();
}
