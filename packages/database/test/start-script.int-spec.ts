// Issue 14 item 19, end to end: `npm start` (scripts/start.ts) as root, with no DATABASE_URL and the data
// directory under a directory other users cannot enter, stops before starting anything, exit code 2, with a
// message that says what to do. Before: the apps started and the gateway died in initdb ("Permission denied").
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const base = mkdtempSync(path.join(tmpdir(), 'conifer-start-'));
chmodSync(base, 0o755);
afterAll(() => rmSync(base, { recursive: true, force: true }));

const itAsRoot = process.getuid?.() === 0 ? it : it.skip;

describe('npm start as root', () => {
  itAsRoot('exits 2 with instructions when the embedded Postgres could not reach its directory', async () => {
    const home = path.join(base, 'home');
    mkdirSync(path.join(home, 'data'), { recursive: true });
    chmodSync(home, 0o700);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      CONIFER_DATA_DIR: path.join(home, 'data'),
      // Ports nobody listens on: if the check were missing, the apps would start here and fail on their own.
      CONIFER_GATEWAY_PORT: '1',
      CONIFER_VECTOR_STORE_PORT: '2',
      TURBO_TELEMETRY_DISABLED: '1',
    };
    const child = spawn(process.execPath, ['--experimental-strip-types', path.join(repoRoot, 'scripts/start.ts')], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.resume();
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 150_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(timer);
    expect({ code, stderr }).toEqual({ code: 2, stderr: expect.stringContaining(`cannot enter ${home} (mode 700)`) });
    expect(stderr).toContain(`chmod o+x ${home}`);
  }, 180_000);
});
