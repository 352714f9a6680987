// The promise to Python users: change only the host, keep your Pinecone code. The real system (vector store +
// gateway processes, real Postgres and Redis) is driven by the official Python client 9, unmodified, from the
// scripts in e2e/python/; each check there prints one result line, and each is one test here, so a failure
// names the check. The client comes from ../shared/python, else an installed pinecone >= 9 (src/python-client.ts);
// without one this suite fails and says how to provide it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSystem, type System } from '@conifer/test-utils';
import { resolvePythonClient, runPythonScript, type PythonClient, type ScriptRun } from '../src/python-client.js';

const SCRIPTS = path.resolve(import.meta.dirname, '../python');
const README = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');

/** The README's Python example, pointed at the gateway under test. */
function readmePythonBlock(gatewayUrl: string): string {
  const section = README.slice(README.indexOf('## Using the official Pinecone clients'));
  const block = /```python\n([\s\S]*?)```/.exec(section)![1]!;
  expect(block).toContain('host="http://127.0.0.1:8080"');
  return block.replace('host="http://127.0.0.1:8080"', `host="${gatewayUrl}"`);
}

const DOCS_CHECKS = [
  'explainer: Pinecone(api_key, environment=...) is refused by client 9 with TypeError',
  'explainer: print(pc.list_indexes()) on an empty project',
  'explainer: `name not in pc.list_indexes().names` needs .names() in client 9',
  'explainer: create_index 8-d cosine, then pc.Index(index_name)',
  'explainer: upsert (id, values) tuples',
  'explainer: query top_k=2 include_values=True gives cosine similarities, highest first',
  "explainer: delete_index (the explainer's optional clean-up)",
  'auth guide: create_index auth-guide, 8-d euclidean, us-west-2',
  'auth guide: upsert tuples, query top_k=2: squared L2 distances, nearest first',
  'auth guide: delete_index auth-guide',
] as const;

const SURFACE_CHECKS = [
  'control: create_index dense cosine with tags and deletion protection',
  'control: create_index dense dotproduct',
  "control: create_index sparse (vector_type='sparse', dotproduct, no dimension)",
  'control: describe_index returns the model with its data-plane host',
  'control: list_indexes and has_index',
  'control: configure_index merges tags and toggles deletion protection',
  'data: upsert tuples, dicts, Vector objects with metadata, default and named namespace',
  'data: fetch returns the values and metadata written; missing ids are omitted',
  'data: query by vector with a filter, include_metadata and include_values',
  'data: query by id with a filter, in a named namespace',
  'data: dotproduct scores are raw dot products, highest first',
  'data: sparse upsert and query',
  'data: update values, and set_metadata merges into the existing metadata',
  'data: list and list_paginated follow pagination to the end',
  'data: describe_index_stats counts per namespace, also under a filter',
  'data: update by filter (dry_run first) and fetch_by_metadata (API 2025-10)',
  'data: namespaces: create, list, list_namespaces_paginated, describe, delete',
  'data: delete by ids, by filter, and delete_all',
  'host: pc.Index(host=...) with the host describe_index returned',
  'async: AsyncPinecone describe_index, then index(host=...) upsert, query, fetch, delete',
  'host: PINECONE_CONTROLLER_HOST instead of host= reaches the gateway',
  'host: the client refuses an index host with no dot (why CONIFER_PUBLIC_URL must be dotted)',
  'errors: 401 UnauthorizedError for a wrong key, on both planes',
  'errors: 401 UnauthorizedError for a revoked key, on both planes',
  'errors: 403 ForbiddenError for a ProjectViewer key writing, on both planes',
  'errors: 404 NotFoundError for a missing index, on both planes',
  'errors: 409 ConflictError for a duplicate index name',
  'errors: 400 ApiError for bad arguments the server refuses',
  "errors: 429 for a rate-limited key: ApiError with Retry-After, and the client's retries wait it out",
  "tenancy: another project's key sees 404 for this project's index, on both planes",
  'control: delete_index; describe then raises NotFoundError',
] as const;

describe('official Pinecone Python client 9 against Conifer', () => {
  let client: PythonClient | undefined;
  let system: System | undefined;
  const runs: Record<'docs' | 'surface' | 'readme', ScriptRun | undefined> = { docs: undefined, surface: undefined, readme: undefined };
  const scratch = mkdtempSync(path.join(tmpdir(), 'conifer-python-readme-'));
  const secrets: string[] = [];

  beforeAll(async () => {
    // Both at once; resolvePythonClient fails, saying how to provide a client, when there is none.
    const [resolved, started] = await Promise.allSettled([resolvePythonClient(), startSystem()]);
    if (started.status === 'fulfilled') system = started.value; // afterAll stops it and cleans up, whatever happens next
    if (resolved.status === 'fulfilled') client = resolved.value;
    if (resolved.status === 'rejected') throw resolved.reason;
    if (started.status === 'rejected') throw started.reason;
    if (!system || !client) throw new Error('unreachable');
    const createProject = async (name: string) => {
      const { status, body } = await system!.admin<{ id: string }>('POST', '/admin/projects', { name });
      if (status !== 201) throw new Error(`creating project ${name} failed: ${status}`);
      return body.id;
    };
    const [projectId, docsProjectId, otherProjectId, readmeProjectId] = await Promise.all([
      system.defaultProjectId(),
      createProject('python-docs'),
      createProject('python-other'),
      createProject('python-readme'),
    ]);
    const [editor, viewer, revocable, limited, docsEditor, otherEditor, readmeEditor] = await Promise.all([
      system.mintKey(projectId, ['ProjectEditor']),
      system.mintKey(projectId, ['ProjectViewer']),
      system.mintKey(projectId, ['ProjectEditor']),
      system.mintKey(projectId, ['ProjectEditor'], { rate_limit_per_second: 1 }),
      system.mintKey(docsProjectId, ['ProjectEditor']),
      system.mintKey(otherProjectId, ['ProjectEditor']),
      system.mintKey(readmeProjectId, ['ProjectEditor']),
    ]);
    secrets.push(editor.value, viewer.value, revocable.value, limited.value, docsEditor.value, otherEditor.value, readmeEditor.value);
    const url = system.gatewayUrl; // http://127.0.0.1:<port>: dotted, as the client demands of index hosts
    const readmeScript = path.join(scratch, 'readme_example.py');
    writeFileSync(readmeScript, `${readmePythonBlock(url)}\nprint(index.describe_index_stats().total_vector_count)\n`);
    [runs.docs, runs.surface, runs.readme] = await Promise.all([
      runPythonScript(client, path.join(SCRIPTS, 'docs_flows.py'), { CONIFER_URL: url, CONIFER_API_KEY: docsEditor.value }, DOCS_CHECKS),
      runPythonScript(
        client,
        path.join(SCRIPTS, 'client_surface.py'),
        {
          CONIFER_URL: url,
          CONIFER_API_KEY: editor.value,
          CONIFER_VIEWER_KEY: viewer.value,
          CONIFER_OTHER_PROJECT_KEY: otherEditor.value,
          CONIFER_REVOCABLE_KEY: revocable.value,
          CONIFER_REVOCABLE_KEY_ID: revocable.id,
          CONIFER_RATE_LIMITED_KEY: limited.value,
          CONIFER_ADMIN_TOKEN: await system.adminToken(),
        },
        SURFACE_CHECKS,
      ),
      runPythonScript(client, readmeScript, { CONIFER_API_KEY: readmeEditor.value }, []),
    ]);
  }, 240_000);

  afterAll(async () => {
    await system?.stop();
    client?.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  describe.each([
    ['docs_flows.py', 'docs', DOCS_CHECKS],
    ['client_surface.py', 'surface', SURFACE_CHECKS],
  ] as const)('%s', (_script, key, checks) => {
    it('exits 0 after reporting exactly the checks expected here', () => {
      const run = runs[key]!;
      const failed = [...run.results].filter(([, result]) => result !== 'ok').map(([name, result]) => `${name}: ${result}`);
      // On failure, the tail of stderr holds the Python traceback of each failed check.
      const traceback = run.stderr.split('\n').filter((line) => !line.startsWith('# ')); // without the per-check timings
      const ok = run.status === 0;
      expect({
        status: run.status,
        failed,
        stderr: ok ? '' : traceback.join('\n').slice(-4000),
        client: ok ? '' : `pinecone ${client!.version} from ${client!.source}`,
      }).toEqual({ status: 0, failed: [], stderr: '', client: '' });
      expect([...run.results.keys()]).toEqual([...checks]);
    });

    it.each(checks.map((name) => [name]))('%s', (name) => {
      expect(runs[key]!.results.get(name) ?? 'no result line (the script stopped before this check)').toBe('ok');
    });
  });

  it("runs the README's Python example as written", () => {
    const run = runs.readme!;
    expect({ status: run.status, stdout: run.stdout.trim(), stderr: run.stderr }).toEqual({ status: 0, stdout: '2', stderr: '' });
  });

  it('never writes a key the Python client sent to a log line', () => {
    const logs = system!.logs();
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });
});
