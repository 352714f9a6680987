#!/usr/bin/env -S node --experimental-strip-types
// Generates the Prisma client for the gateway. Prisma's CLI wants a schema-engine binary it would download;
// generation does not use it, so when none is installed we point PRISMA_SCHEMA_ENGINE_BINARY at a stand-in
// (the client itself runs over @prisma/adapter-pg and needs no binary).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '..');
const prismaCli = createRequire(path.join(repoRoot, 'package.json')).resolve('prisma/build/index.js');
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  CHECKPOINT_DISABLE: '1',
};
const result = spawnSync(process.execPath, [prismaCli, 'generate', '--no-hints'], { stdio: 'inherit', cwd: repoRoot, env });
process.exit(result.status ?? 1);
