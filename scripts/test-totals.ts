#!/usr/bin/env -S node --experimental-strip-types
// Sums the jest JSON reports every workspace wrote to .reports/ and prints "N passed, N failed".
// Exit code: 0 when at least one test ran and none failed (or failed to run), else 1.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export function readTotals(reports = path.resolve(import.meta.dirname, '..', '.reports')) {
  const totals = { passed: 0, failed: 0, suitesFailed: 0, workspaces: 0 };
  if (!existsSync(reports)) return totals;
  for (const file of readdirSync(reports).filter((f) => f.endsWith('.json'))) {
    const report = JSON.parse(readFileSync(path.join(reports, file), 'utf8'));
    totals.passed += report.numPassedTests;
    totals.failed += report.numFailedTests;
    totals.suitesFailed += report.numFailedTestSuites + (report.numRuntimeErrorTestSuites ?? 0);
    totals.workspaces += 1;
  }
  return totals;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const totals = readTotals();
  if (totals.suitesFailed > 0) console.log(`${totals.suitesFailed} test suite(s) failed`);
  console.log(`${totals.passed} passed, ${totals.failed} failed`);
  process.exit(totals.passed > 0 && totals.failed === 0 && totals.suitesFailed === 0 ? 0 : 1);
}
