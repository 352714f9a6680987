#!/usr/bin/env -S node --experimental-strip-types
// The long ticks of a V8 .cpuprofile (`node --cpu-prof`, the main thread's): stretches of consecutive samples
// that are not (idle), i.e. one event-loop turn or a run of turns with no wait between them, longer than
// --min-ms. For each: when it started (µs of the monotonic clock, the profile's on Linux, and seconds into the
// profile), how long it ran, the phase it falls in (--phases, the stalls section's printed windows), the
// functions with the most self time in it and the Conifer frames the stretch spent the most time under
// (inclusive: what to cut). Issue 12 part 5: which synchronous work blocks the store's loop.
//   node --experimental-strip-types bench/src/long-ticks.ts <file.cpuprofile> [--min-ms=40] [--top=6]
//     [--phases=<name>:<startUs>:<endUs>,...]
import { readFileSync } from 'node:fs';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const arg = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const file = process.argv.slice(2).find((a) => !a.startsWith('--'));
if (file === undefined) throw new Error('usage: long-ticks.ts <file.cpuprofile> [--min-ms=40] [--top=6] [--phases=name:startUs:endUs,...]');
const MIN_US = Number(arg('min-ms', '40')) * 1000;
const TOP = Number(arg('top', '6'));
const phases = arg('phases', '')
  .split(',')
  .filter((p) => p !== '')
  .map((p) => {
    const parts = p.split(':');
    return { name: parts.slice(0, -2).join(':'), start: Number(parts.at(-2)), end: Number(parts.at(-1)) };
  });

const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
const isIdle = (id: number): boolean => byId.get(id)!.callFrame.functionName === '(idle)';
const frameName = (id: number): string => {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const where = url === '' ? '' : ` ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(apps|packages)\//, '$1/')}:${lineNumber + 1}`;
  return `${functionName || '(anonymous)'}${where}`;
};
const conifer = (id: number): boolean => /\/(apps|packages)\/[^/]+\/(dist|src)\//.test(byId.get(id)!.callFrame.url) && !byId.get(id)!.callFrame.url.includes('node_modules/');

interface Stretch {
  start: number;
  us: number;
  samples: number[];
  deltas: number[];
}

// A sample's delta is the time since the previous sample: charged to this sample (as cpuprofile-summary does).
const stretches: Stretch[] = [];
let current: Stretch | undefined;
let t = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  const delta = profile.timeDeltas[i] ?? 0;
  t += delta;
  const id = profile.samples[i]!;
  if (isIdle(id)) {
    if (current !== undefined && current.us >= MIN_US) stretches.push(current);
    current = undefined;
    continue;
  }
  current ??= { start: t - delta, us: 0, samples: [], deltas: [] };
  current.us += delta;
  current.samples.push(id);
  current.deltas.push(delta);
}
if (current !== undefined && current.us >= MIN_US) stretches.push(current);

const phaseOf = (at: number): string => phases.find((p) => at >= p.start && at <= p.end)?.name ?? '–';
console.log(`# ${file.split('/').pop()}: ${stretches.length} busy stretches ≥ ${MIN_US / 1000} ms (profile ${((t - profile.startTime) / 1e6).toFixed(1)} s)`);
for (const s of stretches) {
  const self = new Map<string, number>();
  const under = new Map<string, number>();
  for (let i = 0; i < s.samples.length; i++) {
    const id = s.samples[i]!;
    const us = s.deltas[i]!;
    self.set(frameName(id), (self.get(frameName(id)) ?? 0) + us);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      if (!conifer(at)) continue;
      const name = frameName(at);
      if (seen.has(name)) continue;
      seen.add(name);
      under.set(name, (under.get(name) ?? 0) + us);
    }
  }
  const list = (m: Map<string, number>): string =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP)
      .map(([name, us]) => `    ${(us / 1000).toFixed(1).padStart(6)} ms  ${name}`)
      .join('\n');
  console.log(`\n## ${(s.us / 1000).toFixed(1)} ms at ${Math.round(s.start)} µs (+${((s.start - profile.startTime) / 1e6).toFixed(2)} s), phase ${phaseOf(s.start)}`);
  console.log(`  self:\n${list(self)}`);
  console.log(`  under (Conifer frames, inclusive):\n${list(under)}`);
}
