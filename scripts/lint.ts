#!/usr/bin/env -S node --experimental-strip-types
// `npm run lint`, and the first step of `npm test`: four checks over the whole repository.
//   eslint   eslint.config.js: import cycles, the layering of DESIGN.md §5 and the gateway's README, unused
//            variables, `import type` for types.
//   knip     knip.jsonc: unused exports, exported types, files and dependencies.
//   cycles   import cycles counting type-only imports too (import-x/no-cycle skips those by design, but a type
//            cycle tangles two files just the same).
//   scripts  the type check of scripts/ (no workspace owns them, so no workspace's test checks them).
// `--fix` first lets the tools fix what they can (knip drops the `export` of unused exports, ESLint writes
// `import type` and deletes unused imports), then checks. `--report` writes the outcome as a jest-shaped JSON report to
// .reports/jest-lint.json, one test per check, so `npm test`'s totals line counts a failed check.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const repoRoot = path.resolve(import.meta.dirname, '..');
const fix = process.argv.includes('--fix');
const report = process.argv.includes('--report');
// Root devDependencies, hoisted to the root node_modules by npm workspaces.
const binOf = (pkg: string, bin: string): string => path.join(repoRoot, 'node_modules', pkg, bin);

/**
 * Import cycles that exist on main and are being removed on another branch; each needs a TODO naming it.
 * A listed cycle that no longer exists fails the check, so the list cannot go stale.
 */
const knownCycles: string[][] = [];

interface CheckResult {
  name: string;
  ok: boolean;
  ms: number;
  failure: string;
}

function run(name: string, command: string, args: string[]): CheckResult {
  console.log(`\n> lint: ${name}`);
  const started = Date.now();
  const result = spawnSync(process.execPath, [command, ...args], { stdio: 'inherit', cwd: repoRoot });
  return { name, ok: result.status === 0, ms: Date.now() - started, failure: `${name} reported problems (output above)` };
}

/** Every relative import edge between the repository's own source files, type-only ones included. */
function importGraph(): Map<string, string[]> {
  const listed = spawnSync('git', ['ls-files', '-co', '--exclude-standard', '-z', '--', '*.ts', '*.tsx', '*.mts', '*.mjs', '*.js'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  const files = new Set(listed.stdout.split('\0').filter((f) => f !== '' && !f.endsWith('.d.ts')));
  const resolve = (from: string, specifier: string): string | undefined => {
    const base = path.posix.join(path.posix.dirname(from), specifier);
    const stem = base.replace(/\.(m?js|jsx)$/, '');
    const candidates = [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, `${base}.ts`, `${base}/index.ts`];
    return candidates.find((candidate) => files.has(candidate));
  };
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(path.join(repoRoot, file), 'utf8');
    const targets = ts
      .preProcessFile(text, true, true)
      .importedFiles.map((imported) => imported.fileName)
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => resolve(file, specifier))
      .filter((target): target is string => target !== undefined && target !== file);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Strongly connected components of more than one file (Tarjan), each as a sorted list of files. */
function cyclesOf(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return components;
}

function checkCycles(): CheckResult {
  console.log('\n> lint: import cycles (type-only imports included)');
  const started = Date.now();
  const found = cyclesOf(importGraph());
  const key = (files: readonly string[]): string => [...files].sort().join(' ');
  const known = new Set(knownCycles.map(key));
  const problems: string[] = [];
  for (const component of found) {
    if (!known.has(key(component))) problems.push(`import cycle between:\n  ${component.join('\n  ')}`);
  }
  const foundKeys = new Set(found.map(key));
  for (const cycle of knownCycles) {
    if (!foundKeys.has(key(cycle))) problems.push(`scripts/lint.ts lists a known cycle that no longer exists; delete it:\n  ${cycle.join('\n  ')}`);
  }
  for (const problem of problems) console.log(problem);
  const knownNote = knownCycles.length > 0 ? ` besides the ${knownCycles.length} known one(s) listed in scripts/lint.ts` : '';
  console.log(problems.length === 0 ? `no import cycles${knownNote}` : `${problems.length} problem(s)`);
  return { name: 'import cycles', ok: problems.length === 0, ms: Date.now() - started, failure: problems.join('\n') };
}

const knip = binOf('knip', 'bin/knip.js');
const eslint = binOf('eslint', 'bin/eslint.js');
if (fix) {
  run('knip --fix', knip, ['--no-progress', '--fix', '--fix-type', 'exports,types']);
  run('eslint --fix', eslint, ['--fix', '.']);
}
const cacheLocation = path.join(repoRoot, 'node_modules/.cache/eslint/');
const results = [
  run('eslint', eslint, ['--cache', '--cache-strategy', 'content', '--cache-location', cacheLocation, '.']),
  run('knip', knip, ['--no-progress']),
  checkCycles(),
  run('scripts type-check', binOf('typescript', 'bin/tsc'), ['-p', 'scripts/tsconfig.json']),
];

const failed = results.filter((result) => !result.ok);
console.log(`\nlint: ${results.length - failed.length} of ${results.length} checks passed${failed.length ? ` (failed: ${failed.map((r) => r.name).join(', ')})` : ''}`);
if (report) {
  const reports = path.join(repoRoot, '.reports');
  mkdirSync(reports, { recursive: true });
  writeFileSync(
    path.join(reports, 'jest-lint.json'),
    JSON.stringify({
      success: failed.length === 0,
      numTotalTests: results.length,
      numPassedTests: results.length - failed.length,
      numFailedTests: failed.length,
      numTotalTestSuites: 1,
      numFailedTestSuites: failed.length > 0 ? 1 : 0,
      numRuntimeErrorTestSuites: 0,
      testResults: [
        {
          name: path.join(repoRoot, 'scripts/lint.ts'),
          status: failed.length === 0 ? 'passed' : 'failed',
          assertionResults: results.map((result) => ({
            title: result.name,
            fullName: `lint ${result.name}`,
            status: result.ok ? 'passed' : 'failed',
            duration: result.ms,
            failureMessages: result.ok ? [] : [result.failure],
          })),
        },
      ],
    }),
  );
}
process.exit(failed.length === 0 ? 0 : 1);
