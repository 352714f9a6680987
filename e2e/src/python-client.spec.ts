// The resolver behind the Python-client suite: the offline bundle first, else an installed pinecone ≥ 9, else
// a failure that says how to provide one. Built on fake bundles and packages, so it checks the logic whatever
// happens to be installed on the machine (it needs a python3, as the suite does).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { PIP_HINT, parseCheckLines, resolvePythonClient, runPythonScript } from './python-client.js';

const root = mkdtempSync(path.join(tmpdir(), 'conifer-python-resolver-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
function dir(name: string): string {
  const result = path.join(root, `${counter++}-${name}`);
  mkdirSync(result, { recursive: true });
  return result;
}

/** A package directory with a fake `pinecone` of the given version (and, optionally, its dependencies). */
function fakePackages(version: string, withDependencies = true): string {
  const base = dir(`site-${version}`);
  mkdirSync(path.join(base, 'pinecone'));
  writeFileSync(
    path.join(base, 'pinecone', '__init__.py'),
    `__version__ = "${version}"\nclass Pinecone: pass\nclass ServerlessSpec: pass\n`,
  );
  if (withDependencies) for (const module of ['httpx', 'msgspec', 'orjson']) writeFileSync(path.join(base, `${module}.py`), '');
  return base;
}

/** A bundle laid out like ../shared/python: pinecone-client-<v>/pinecone/ and wheels/*.whl holding its dependencies. */
function fakeBundle(version: string): string {
  const bundle = dir('bundle');
  const client = path.join(bundle, `pinecone-client-${version}`);
  mkdirSync(client);
  const packages = fakePackages(version, false);
  spawnSync('cp', ['-r', path.join(packages, 'pinecone'), client]);
  mkdirSync(path.join(bundle, 'wheels'));
  const made = spawnSync('python3', [
    '-c',
    'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as w:\n    for m in ("httpx", "msgspec", "orjson"): w.writestr(m + ".py", "")',
    path.join(bundle, 'wheels', 'deps-1.0-py3-none-any.whl'),
  ]);
  expect(made.status).toBe(0);
  return bundle;
}

/** An executable standing in for python3 that has no pinecone at all. */
function pythonWithoutPinecone(): string {
  const file = path.join(dir('bin'), 'python3');
  writeFileSync(file, `#!/bin/sh\necho "ModuleNotFoundError: No module named 'pinecone'" >&2\nexit 1\n`);
  chmodSync(file, 0o755);
  return file;
}

const noBundle = path.join(root, 'no-such-bundle');

/** The message resolvePythonClient fails with (resolving costs a few Python start-ups: once per case). */
async function failure(options: Parameters<typeof resolvePythonClient>[0]): Promise<string> {
  try {
    const client = await resolvePythonClient(options);
    client.cleanup();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('resolvePythonClient did not fail');
}
const bareEnv = { PATH: process.env.PATH };

describe('resolvePythonClient', () => {
  it('uses the offline bundle when it is there: client on PYTHONPATH, wheels extracted beside it', async () => {
    const bundle = fakeBundle('9.0.1');
    const client = await resolvePythonClient({ sharedDir: bundle, env: { ...bareEnv, PYTHONPATH: fakePackages('9.9.9') } });
    try {
      expect(client.version).toBe('9.0.1');
      expect(client.source).toContain(path.join(bundle, 'pinecone-client-9.0.1'));
      const [clientDir, depsDir] = client.env.PYTHONPATH!.split(path.delimiter);
      expect(clientDir).toBe(path.join(bundle, 'pinecone-client-9.0.1'));
      expect(existsSync(path.join(depsDir!, 'msgspec.py'))).toBe(true);
      const script = path.join(dir('script'), 'version.py');
      writeFileSync(script, 'import msgspec, pinecone\nprint("CHECK version ok" if pinecone.__version__ == "9.0.1" else "CHECK version FAIL")\n');
      const run = await runPythonScript(client, script, {}, ['version']);
      expect(run.status).toBe(0);
      expect(run.results.get('version')).toBe('ok');
      client.cleanup();
      expect(existsSync(depsDir!)).toBe(false);
    } finally {
      client.cleanup();
    }
  });

  it('without the bundle, uses a pinecone >= 9 installed for python3', async () => {
    const site = fakePackages('9.2.0');
    const client = await resolvePythonClient({ sharedDir: noBundle, env: { ...bareEnv, PYTHONPATH: site } });
    expect(client.version).toBe('9.2.0');
    expect(client.source).toBe('the pinecone package installed for python3');
    expect(client.env).toEqual({ PYTHONPATH: site });
  });

  it('accepts later majors too', async () => {
    expect((await resolvePythonClient({ sharedDir: noBundle, env: { ...bareEnv, PYTHONPATH: fakePackages('10.0.0') } })).version).toBe('10.0.0');
  });

  it('falls back to the installed client when the bundle does not import (e.g. wheels for another Python)', async () => {
    const bundle = fakeBundle('8.0.0');
    const client = await resolvePythonClient({ sharedDir: bundle, env: { ...bareEnv, PYTHONPATH: fakePackages('9.1.0') } });
    expect(client.version).toBe('9.1.0');
  });

  it('fails, saying how to provide one, when only a client older than 9 is installed', async () => {
    const message = await failure({ sharedDir: noBundle, env: { ...bareEnv, PYTHONPATH: fakePackages('8.1.0') } });
    expect(message).toContain('pinecone 8.1.0 is installed, 9.x or newer is needed');
    expect(message).toContain(PIP_HINT);
  });

  it('fails, saying how to provide one, when no client is installed', async () => {
    const message = await failure({ sharedDir: noBundle, python: pythonWithoutPinecone(), env: bareEnv });
    expect(message).toContain(`${noBundle}: absent`);
    expect(message).toContain("No module named 'pinecone'");
    expect(message).toContain(`\`${PIP_HINT}\``);
  });

  it('fails, saying how to provide one, when there is no python3 at all', async () => {
    const message = await failure({ sharedDir: noBundle, python: path.join(root, 'no-python3'), env: bareEnv });
    expect(message).toMatch(/no-python3 could not be run/);
    expect(message).toContain(PIP_HINT);
  });
});

describe('parseCheckLines', () => {
  it('maps each expected check to ok or its failure, and keeps lines it does not expect', () => {
    const stdout = [
      'some output the script printed',
      'CHECK a: first ok',
      'CHECK b: second FAIL AssertionError: 1 != 2',
      'CHECK surprise ok',
    ].join('\n');
    const results = parseCheckLines(stdout, ['a: first', 'b: second', 'c: never ran']);
    expect([...results]).toEqual([
      ['a: first', 'ok'],
      ['b: second', 'FAIL AssertionError: 1 != 2'],
      ['surprise', 'ok'],
    ]);
  });
});
