// The docs cannot rot: the README's curl walk-through and the curl lines printed on first start are
// executed against the real system.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { startSystem, type System } from '@conifer/test-utils';

const readme = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');

function bash(script: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('bash', ['--norc', '--noprofile', '-euo', 'pipefail', '-c', script], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('README', () => {
  let system: System | undefined;

  afterEach(async () => {
    await system?.stop();
    system = undefined;
  });

  it('opens with the two commands a newcomer types', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1]!.trim().split('\n');
    expect(firstBlock).toEqual(['npm install && npm start', 'npm install && npm test']);
  });

  it('runs the curl walk-through as written', async () => {
    system = await startSystem();
    const section = readme.slice(readme.indexOf('## Walk-through with curl'));
    const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
    const script = block
      .replace(/^BASE=.*$/m, `BASE=${system.gatewayUrl}`)
      .replace(/^CLIENT_ID=.*$/m, `CLIENT_ID='${system.clientId}'`)
      .replace(/^CLIENT_SECRET=.*$/m, `CLIENT_SECRET='${system.clientSecret}'`);
    expect(script).not.toContain('<client_id');
    const result = bash(script);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('"upsertedCount":2');
    const queryLine = result.stdout.split('\n').find((line) => line.includes('"matches"'))!;
    const query = JSON.parse(queryLine) as { matches: { id: string; metadata: unknown }[] };
    expect(query.matches.map((m) => m.id)).toEqual(['a']);
    expect(query.matches[0]!.metadata).toEqual({ genre: 'drama' });
    expect(result.stdout.trim().split('\n').at(-1)).toBe('401');
  });

  it('prints, on first start only, curl lines that mint a first API key', async () => {
    system = await startSystem({ env: { CONIFER_BOOTSTRAP_CLIENT_ID: '', CONIFER_BOOTSTRAP_CLIENT_SECRET: '' } });
    const output = system.gateways[0]!.output();
    const lines = output.split('\n').map((line) => line.trim());
    const tokenLine = lines.find((line) => line.startsWith('TOKEN=$(curl'))!;
    const mintLine = lines.find((line) => line.startsWith('curl') && line.includes('/api-keys'))!;
    expect(tokenLine).toBeDefined();
    expect(mintLine).toBeDefined();
    const result = bash(`${tokenLine}\n${mintLine}`);
    expect(result.status).toBe(0);
    const minted = JSON.parse(result.stdout) as { key: { id: string; roles: string[] }; value: string };
    expect(minted.value).toMatch(/^pcsk_/);
    expect(minted.key.roles).toEqual(['ProjectEditor']);

    // A restart on the same data does not print the credentials again.
    const restarted = await startSystem({ env: { CONIFER_BOOTSTRAP_CLIENT_ID: '', CONIFER_BOOTSTRAP_CLIENT_SECRET: '' }, databaseUrl: system.env.DATABASE_URL });
    try {
      expect(restarted.gateways[0]!.output()).not.toContain('client_secret:');
    } finally {
      await restarted.stop();
    }
  });
});
