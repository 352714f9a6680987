#!/usr/bin/env node
// `npm test`: every workspace's jest suites through turbo, then the totals of all of them on one line
// ("N passed, N failed"), so a run that executed nothing cannot pass unnoticed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '..');
const reports = path.join(repoRoot, '.reports');
rmSync(reports, { recursive: true, force: true });

const turboBin = createRequire(path.join(repoRoot, 'package.json')).resolve('turbo/bin/turbo');
const turbo = spawnSync(
  process.execPath,
  [turboBin, 'run', 'test', '--concurrency=1', '--continue', ...process.argv.slice(2)],
  { stdio: 'inherit', cwd: repoRoot },
);

let passed = 0;
let failed = 0;
let suitesFailed = 0;
if (existsSync(reports)) {
  for (const file of readdirSync(reports).filter((f) => f.endsWith('.json'))) {
    const report = JSON.parse(readFileSync(path.join(reports, file), 'utf8'));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    suitesFailed += report.numFailedTestSuites;
  }
}
if (suitesFailed > 0) console.log(`${suitesFailed} test suite(s) failed to run or had failures`);
console.log(`${passed} passed, ${failed} failed`);
const ok = turbo.status === 0 && failed === 0 && suitesFailed === 0 && passed > 0;
process.exit(ok ? 0 : 1);
