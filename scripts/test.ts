#!/usr/bin/env -S node --experimental-strip-types
// `npm test`: the packages built, the linters once over the whole repository (scripts/lint.ts, one test per
// check), then every workspace's jest suites through turbo, then the totals of all of them on one
// line ("N passed, N failed"), so a run that executed nothing cannot pass unnoticed and a lint failure fails it.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { printTotals, readTotals, totalsPass } from './test-totals.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
rmSync(path.join(repoRoot, '.reports'), { recursive: true, force: true });

const turboBin = createRequire(path.join(repoRoot, 'package.json')).resolve('turbo/bin/turbo');
const turboEnv = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' };
// The packages are built before the linters: the scripts' type-check (and knip's view of the packages) reads
// their declarations from dist/, which a fresh clone does not have. A build failure shows again in the tests.
spawnSync(process.execPath, [turboBin, 'run', 'build', '--output-logs=errors-only'], { stdio: 'inherit', cwd: repoRoot, env: turboEnv });
const lint = spawnSync(process.execPath, ['--experimental-strip-types', path.join(repoRoot, 'scripts/lint.ts'), '--report'], { stdio: 'inherit', cwd: repoRoot });

const turbo = spawnSync(
  process.execPath,
  [turboBin, 'run', 'test', '--concurrency=1', '--continue', '--output-logs=full', ...process.argv.slice(2)],
  { stdio: 'inherit', cwd: repoRoot, env: turboEnv },
);

const totals = readTotals();
printTotals(totals);
const ok = lint.status === 0 && turbo.status === 0 && totalsPass(totals);
process.exit(ok ? 0 : 1);
