// What the gateway runs with: validated configuration, resolved secrets, and the database URL actually
// in use (configured, or the embedded cluster's). Provided once; nothing else reads process.env.
import type { ConiferConfig, ResolvedSecrets } from '@conifer/config';

export interface GatewayRuntime {
  readonly config: ConiferConfig;
  readonly secrets: ResolvedSecrets;
  readonly databaseUrl: string;
}

export const RUNTIME = Symbol('GatewayRuntime');
export const CONFIG = Symbol('ConiferConfig');
export const SECRETS = Symbol('ResolvedSecrets');
