// Finds the official Pinecone Python client (9.x) for the Python suites (e2e/python/, driven by
// test/python-client.e2e-spec.ts), and runs their scripts.
//
// Order: the unmodified client and wheels kept beside the repository at ../shared/python (how CI has them:
// the build machines cannot reach the package index), else a `pinecone` ≥ 9 installed for python3. Anything
// else is an error saying how to provide one: the suite never passes without having run.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const MIN_CLIENT_MAJOR = 9;
export const PIP_HINT = 'pip install pinecone==9.0.1';
const DEFAULT_SHARED_DIR = path.resolve(import.meta.dirname, '../../../shared/python');

export interface PythonClient {
  /** The interpreter to run. */
  readonly python: string;
  /** Variables to add to the scripts' environment (PYTHONPATH). */
  readonly env: Readonly<Record<string, string>>;
  /** `pinecone.__version__`. */
  readonly version: string;
  /** Where the client came from (shown when a script fails). */
  readonly source: string;
  /** Removes the wheels extracted for this run. */
  cleanup(): void;
}

export interface ResolveOptions {
  /** The offline bundle (default ../shared/python from the repository root). */
  readonly sharedDir?: string;
  /** The interpreter (default python3 on PATH). */
  readonly python?: string;
  /** The environment the installed client is looked for in (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

// Imports what the suites use (the client and its compiled dependencies), prints the version.
const PROBE = [
  'import sys',
  'assert sys.version_info >= (3, 10), "Python 3.10 or newer is needed, this is " + sys.version.split()[0]',
  'import httpx, msgspec, orjson',
  'import pinecone',
  'from pinecone import Pinecone, ServerlessSpec',
  'print(pinecone.__version__)',
].join('\n');

const EXTRACT = 'import sys, zipfile\nfor wheel in sys.argv[2:]:\n    zipfile.ZipFile(wheel).extractall(sys.argv[1])';

interface Probe {
  readonly version?: string;
  readonly problem?: string;
}

interface Completed {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the program could not be started at all. */
  readonly error?: string;
}

function execute(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Completed> {
  return new Promise((resolve) => {
    execFile(file, args, { env, encoding: 'utf8', timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = (error as NodeJS.ErrnoException | null)?.code;
      if (typeof code === 'string') resolve({ status: null, stdout, stderr, error: error!.message });
      else resolve({ status: error ? (typeof code === 'number' ? code : 1) : 0, stdout, stderr });
    });
  });
}

async function probe(python: string, env: NodeJS.ProcessEnv): Promise<Probe> {
  const result = await execute(python, ['-c', PROBE], env, 30_000);
  if (result.error) return { problem: `${python} could not be run (${result.error})` };
  if (result.status !== 0) {
    const lastLine = result.stderr.trim().split('\n').at(-1) ?? `exit status ${result.status}`;
    return { problem: `importing it failed: ${lastLine}` };
  }
  const version = result.stdout.trim();
  const major = Number(/^(\d+)\./.exec(version)?.[1]);
  if (!(major >= MIN_CLIENT_MAJOR)) return { problem: `pinecone ${version} is installed, ${MIN_CLIENT_MAJOR}.x or newer is needed` };
  return { version };
}

async function fromSharedDir(sharedDir: string, python: string, env: NodeJS.ProcessEnv): Promise<PythonClient | string> {
  if (!existsSync(sharedDir)) return `${sharedDir}: absent`;
  const clientDir = readdirSync(sharedDir)
    .filter((name) => name.startsWith('pinecone-client-') && existsSync(path.join(sharedDir, name, 'pinecone')))
    .sort()
    .at(-1);
  if (!clientDir) return `${sharedDir}: no pinecone-client-*/pinecone in it`;
  const wheelsDir = path.join(sharedDir, 'wheels');
  const wheels = existsSync(wheelsDir) ? readdirSync(wheelsDir).filter((name) => name.endsWith('.whl')).sort() : [];
  const depsDir = mkdtempSync(path.join(tmpdir(), 'conifer-python-deps-'));
  const cleanup = () => rmSync(depsDir, { recursive: true, force: true });
  if (wheels.length > 0) {
    const extract = await execute(python, ['-c', EXTRACT, depsDir, ...wheels.map((w) => path.join(wheelsDir, w))], env, 60_000);
    if (extract.status !== 0) {
      cleanup();
      return `${sharedDir}: extracting its wheels failed (${extract.error ?? extract.stderr.trim().split('\n').at(-1)})`;
    }
  }
  const pythonPath = [path.join(sharedDir, clientDir), depsDir].join(path.delimiter);
  const found = await probe(python, { ...env, PYTHONPATH: pythonPath });
  if (!found.version) {
    cleanup();
    return `${sharedDir}: ${found.problem}`;
  }
  return {
    python,
    env: { PYTHONPATH: pythonPath },
    version: found.version,
    source: `${path.join(sharedDir, clientDir)} with ${wheels.length} wheels`,
    cleanup,
  };
}

/** The client to run the Python suites with; throws, saying how to provide one, when there is none. */
export async function resolvePythonClient(options: ResolveOptions = {}): Promise<PythonClient> {
  const python = options.python ?? 'python3';
  const env = options.env ?? process.env;
  const sharedDir = options.sharedDir ?? DEFAULT_SHARED_DIR;

  const shared = await fromSharedDir(sharedDir, python, env);
  if (typeof shared !== 'string') return shared;

  const installed = await probe(python, env);
  if (installed.version) {
    return {
      python,
      env: env.PYTHONPATH ? { PYTHONPATH: env.PYTHONPATH } : {},
      version: installed.version,
      source: `the pinecone package installed for ${python}`,
      cleanup: () => {},
    };
  }
  throw new Error(
    [
      `The Python-client tests need the official Pinecone Python client ${MIN_CLIENT_MAJOR}.x, and none was found:`,
      `  - bundle: ${shared}`,
      `  - installed for ${python}: ${installed.problem}`,
      `Provide one: \`${PIP_HINT}\` for ${python} (Python 3.10+), or put the offline bundle (the client's`,
      `pinecone-client-<version>/pinecone/ and its wheels/) at ${sharedDir}.`,
    ].join('\n'),
  );
}

export interface ScriptRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Check name → "ok" or "FAIL <class>: <message>", in the order reported. */
  readonly results: Map<string, string>;
}

/** Reads the `CHECK <name> ok|FAIL …` lines of e2e/python/harness.py, given the names expected. */
export function parseCheckLines(stdout: string, expected: readonly string[]): Map<string, string> {
  const results = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('CHECK ')) continue;
    const rest = line.slice('CHECK '.length);
    const name = expected.find((candidate) => rest.startsWith(`${candidate} ok`) || rest.startsWith(`${candidate} FAIL`));
    if (name !== undefined) {
      results.set(name, rest.slice(name.length + 1));
    } else {
      // Not a check the spec knows: keep it under its own text so the "reports exactly" test shows it.
      results.set(rest.replace(/ (ok|FAIL .*)$/, ''), /(ok|FAIL .*)$/.exec(rest)?.[1] ?? rest);
    }
  }
  return results;
}

/** Runs one script of e2e/python/ with the client's PYTHONPATH and the given variables only. */
export function runPythonScript(
  client: PythonClient,
  script: string,
  variables: Record<string, string>,
  expected: readonly string[],
  timeoutMs = 120_000,
): Promise<ScriptRun> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    ...client.env,
    ...variables,
  };
  return new Promise((resolve) => {
    const child = spawn(client.python, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => (stderr += `\n${error.message}`));
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, results: parseCheckLines(stdout, expected) });
    });
  });
}
