// Text summary of a V8 .cpuprofile (what `node --cpu-prof` writes): CPU time by layer (package or Node core
// area) and by function (self time), in total and per request, so "where each 100 µs goes" can be read and
// diffed without checking in binary profiles.
import { readFileSync } from 'node:fs';

/** The layer a frame belongs to: a package, a Node core area, a Conifer source file, or a V8 pseudo-frame. */
export function layerOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(idle)' || functionName === '(program)' || functionName === '(garbage collector)') return functionName;
    return '(native / builtins)';
  }
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    const pkg = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
    if (pkg.startsWith('@conifer/')) return `conifer ${pkg.slice(9)}`;
    return pkg;
  }
  if (url.startsWith('node:')) {
    const name = url.slice(5).replace(/^internal\//, '');
    if (/^(http|_http)/.test(name)) return 'node http';
    if (/^(net|stream|streams\/|dns|tcp)/.test(name) || name.startsWith('streams')) return 'node net/streams';
    if (name.startsWith('deps/undici')) return 'node undici (global fetch)';
    if (/^(process\/task_queues|process\/|timers|async_hooks|events)/.test(name)) return 'node events/timers/ticks';
    if (/^(crypto|buffer|util)/.test(name)) return `node ${name.split('/')[0]}`;
    return `node ${name.split('/')[0]}`;
  }
  const m = /\/(apps|packages)\/([^/]+)\/(?:dist|src)\/(.+)$/.exec(url);
  if (m) return `conifer ${m[2]}/${m[3].split('/')[0].replace(/\.js$/, '')}`;
  return url.replace(/^file:\/\//, '');
}

/** Native frames that are socket syscalls (what any server pays per request, whoever issues them). */
const SYSCALLS = new Set(['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String', 'writeAsciiString', 'shutdown', 'close']);

/** Layers that do work on another's behalf (the socket, stream and event machinery, native code, Buffers). */
const PLUMBING = new Set(['(native / builtins)', 'node net/streams', 'node events/timers/ticks', 'node buffer']);

/** The parts of a V8 .cpuprofile the summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * `window`: [start, end] in µs of the monotonic clock (process.hrtime in any process on the machine, which is
 * the profile's clock on Linux): only samples inside it count (the load, not start-up and set-up).
 */
export function summarize(
  file: string,
  { requests, label, top = 30, window }: { requests?: number; label: string; top?: number; window?: [number, number] },
): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (window && (t < window[0] || t > window[1])) continue;
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + delta);
  }
  const layers = new Map<string, number>();
  const functions = new Map<string, { us: number; layer: string }>();
  let total = 0;
  let busy = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const layer = layerOf(url, functionName);
    total += us;
    if (layer !== '(idle)') busy += us;
    layers.set(layer, (layers.get(layer) ?? 0) + us);
    const fn = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(apps|packages)\//, '$1/')}:${lineNumber + 1}` : ''}`;
    const entry = functions.get(fn) ?? { us: 0, layer };
    entry.us += us;
    functions.set(fn, entry);
  }
  // Each sample charged to the layer that asked for the work: the nearest frame above it that is not plumbing
  // (native and builtin frames such as the HTTP parser or a Buffer copy, streams, sockets, events, ticks), so that
  // e.g. "node http" includes the socket bookkeeping and parsing it causes. Socket syscalls are kept apart per
  // layer (any server pays them); plumbing with nothing above it is the event loop's own reading and dispatch.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const owners = new Map<string, number>();
  for (const [id, us] of self) {
    const leaf = byId.get(id)!.callFrame;
    let owner = layerOf(leaf.url, leaf.functionName);
    if (PLUMBING.has(owner)) {
      owner = '(plumbing with no caller above: event loop, reads, ticks)';
      for (let at = parent.get(id); at !== undefined; at = parent.get(at)) {
        const frame = byId.get(at)!.callFrame;
        const layer = layerOf(frame.url, frame.functionName);
        if (PLUMBING.has(layer)) continue;
        owner = layer;
        break;
      }
      if (SYSCALLS.has(leaf.functionName) && !leaf.url) owner = `${leaf.functionName} (syscall) for ${owner}`;
    }
    owners.set(owner, (owners.get(owner) ?? 0) + us);
  }
  const per = (us: number): string => (requests ? `${(us / requests).toFixed(1).padStart(7)} µs/req` : '');
  const pct = (us: number): string => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
  const lines: string[] = [];
  lines.push(`# ${label}`);
  lines.push(`profile: ${file.split('/').pop()}; wall ${(total / 1e6).toFixed(2)} s sampled, busy (not idle) ${(busy / 1e6).toFixed(2)} s` + (requests ? `, ${requests} requests → ${(busy / requests).toFixed(1)} µs CPU per request` : ''));
  lines.push('');
  lines.push('## self time by layer (busy time = 100 %)');
  for (const [layer, us] of [...layers].sort((a, b) => b[1] - a[1])) {
    if (layer === '(idle)') continue;
    lines.push(`${pct(us)} ${per(us)}  ${layer}`);
  }
  lines.push('');
  lines.push('## self time charged to the layer that asked for it (plumbing charged to its caller; syscalls apart)');
  for (const [owner, us] of [...owners].sort((a, b) => b[1] - a[1])) {
    if (owner === '(idle)' || us / busy < 0.002) continue;
    lines.push(`${pct(us)} ${per(us)}  ${owner}`);
  }
  lines.push('');
  lines.push(`## top ${top} functions by self time`);
  for (const [fn, { us, layer }] of [...functions].sort((a, b) => b[1].us - a[1].us).slice(0, top + 1)) {
    if (layer === '(idle)') continue;
    lines.push(`${pct(us)} ${per(us)}  [${layer}] ${fn}`);
  }
  return lines.join('\n') + '\n';
}
