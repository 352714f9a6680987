#!/usr/bin/env -S node --experimental-strip-types
// Runs jest for the workspace in the current directory, in ESM mode, and writes its JSON report to
// <repo>/.reports/ so that `npm test` can print the totals of every workspace at the end.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '..');
// `--report-suffix=<s>` names the report jest-<workspace>-<s>.json, so a second run of a workspace (the
// end-to-end suites on another Node version in CI) adds to the totals instead of replacing the first run's.
const suffixArg = process.argv.find((arg) => arg.startsWith('--report-suffix='));
const suffix = suffixArg === undefined ? '' : `-${suffixArg.slice('--report-suffix='.length).replace(/[^A-Za-z0-9_-]/g, '')}`;
const workspace = JSON.parse(readFileSync('package.json', 'utf8')).name.replace(/^@/, '').replace(/\//g, '-') + suffix;
const reports = path.join(repoRoot, '.reports');
mkdirSync(reports, { recursive: true });

const jestBin = createRequire(path.join(repoRoot, 'package.json')).resolve('jest/bin/jest');
const args = [
  '--experimental-vm-modules',
  '--no-warnings=ExperimentalWarning',
  jestBin,
  '--json',
  `--outputFile=${path.join(reports, `jest-${workspace}.json`)}`,
  ...(process.env.CI ? ['--ci'] : []),
  ...process.argv.slice(2).filter((arg) => arg !== suffixArg),
];
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(result.status ?? 1);
