// Embedded mode: secrets that production must configure are generated once into the data directory, so a
// fresh `npm start` works and restarts keep the same keys valid. Both apps read the same file.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ConiferConfig } from './config.js';

export interface ResolvedSecrets {
  readonly keyPepper: string;
  readonly internalToken: string;
  readonly tokenSecret: string;
}

type SecretName = keyof ResolvedSecrets;
const NAMES: SecretName[] = ['keyPepper', 'internalToken', 'tokenSecret'];

/** Configured secrets win; missing ones come from (or are created in) <dataDir>/secrets.json. */
export function resolveSecrets(config: ConiferConfig): ResolvedSecrets {
  const configured = config.secrets;
  if (NAMES.every((name) => configured[name])) return configured as ResolvedSecrets;
  if (config.production) throw new Error('secrets must be configured in production');

  const file = path.join(config.dataDir, 'secrets.json');
  let stored: { -readonly [K in SecretName]?: string } = {};
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as typeof stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  let changed = false;
  for (const name of NAMES) {
    if (!stored[name]) {
      stored[name] = randomBytes(32).toString('base64url');
      changed = true;
    }
  }
  if (changed) {
    mkdirSync(config.dataDir, { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(stored, null, 2), { mode: 0o600 });
    renameSync(temporary, file);
  }
  return Object.freeze({
    keyPepper: configured.keyPepper ?? stored.keyPepper!,
    internalToken: configured.internalToken ?? stored.internalToken!,
    tokenSecret: configured.tokenSecret ?? stored.tokenSecret!,
  });
}
