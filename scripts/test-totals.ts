#!/usr/bin/env -S node --experimental-strip-types
// Sums the jest JSON reports every workspace wrote to .reports/ and prints "N passed, N failed".
// Above the totals it names each failed test and each suite that failed to run, with the first line of its error, so
// that a log's tail says what failed. Exit code: 0 when at least one test ran and none failed (or failed to run), else 1.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export function readTotals(reports = path.resolve(import.meta.dirname, '..', '.reports')) {
  const totals = { passed: 0, failed: 0, suitesFailed: 0, workspaces: 0, failures: [] as string[] };
  if (!existsSync(reports)) return totals;
  for (const file of readdirSync(reports).filter((f) => f.endsWith('.json'))) {
    const report = JSON.parse(readFileSync(path.join(reports, file), 'utf8'));
    totals.passed += report.numPassedTests;
    totals.failed += report.numFailedTests;
    totals.suitesFailed += report.numFailedTestSuites + (report.numRuntimeErrorTestSuites ?? 0);
    totals.workspaces += 1;
    totals.failures.push(...failuresOf(file, report));
  }
  return totals;
}

interface JestReport {
  testResults?: {
    name: string;
    message?: string;
    testExecError?: { message?: string };
    assertionResults?: { status: string; fullName: string; failureMessages?: string[] }[];
  }[];
}

function firstLine(text: string | undefined): string {
  const line = (text ?? '').replace(/\u001b\[[0-9;]*m/g, '').split('\n').find((l) => l.trim() !== '');
  return (line ?? '').trim().slice(0, 200);
}

function failuresOf(reportFile: string, report: JestReport): string[] {
  const failures: string[] = [];
  for (const suite of report.testResults ?? []) {
    const where = `${reportFile.replace(/\.json$/, '')}: ${path.relative(process.cwd(), suite.name)}`;
    const failed = (suite.assertionResults ?? []).filter((test) => test.status === 'failed');
    for (const test of failed) failures.push(`FAILED ${where} › ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`);
    if (failed.length === 0 && (suite.testExecError || suite.message)) {
      failures.push(`FAILED TO RUN ${where}: ${firstLine(suite.testExecError?.message ?? suite.message)}`);
    }
  }
  return failures;
}

/** The tests passed: at least one ran, and none failed or failed to run. */
export function totalsPass(totals: ReturnType<typeof readTotals>): boolean {
  return totals.passed > 0 && totals.failed === 0 && totals.suitesFailed === 0;
}

/** Prints what failed, then the totals line last. */
export function printTotals(totals: ReturnType<typeof readTotals>): void {
  for (const failure of totals.failures) console.log(failure);
  if (totals.suitesFailed > 0) console.log(`${totals.suitesFailed} test suite(s) failed`);
  console.log(`${totals.passed} passed, ${totals.failed} failed`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const totals = readTotals();
  printTotals(totals);
  process.exit(totalsPass(totals) ? 0 : 1);
}
