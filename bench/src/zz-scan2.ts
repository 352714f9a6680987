import { makeDataset, upsertBodies } from '@conifer/test-utils';
import { jsonFloat32ArrayScan } from '@conifer/engine';
const bodies = upsertBodies(makeDataset({ n: 20000, dim: 768, seed: 768 }));
const scan = jsonFloat32ArrayScan()!;
const out = new Float32Array(1 << 20);
const starts = bodies.map(({ body }) => { const s: number[] = []; let i = 0; const key = Buffer.from('"values":['); while ((i = body.indexOf(key, i)) >= 0) { s.push(i + key.length - 1); i += key.length; } return s; });
console.log(bodies[0]!.body.subarray(starts[0]![0]!, starts[0]![0]! + 200).toString());
for (let r = 0; r < 20; r++) {
  const t = process.cpuUsage();
  for (let b = 0; b < bodies.length; b++) { let used = 0; for (const s of starts[b]!) { const x = scan(bodies[b]!.body, s, out, used); used += Math.floor(x / 2 ** 32); } }
  const u = process.cpuUsage(t); console.log('native scan only ms/1000', ((u.user + u.system) / 1000 / 20).toFixed(1));
}
