// The shipped docker-compose.yml against the configuration contract: the settings it gives are valid, the
// gateways believe only the load balancer's X-Forwarded-For entry, and Redis needs a password.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from './config.js';

const compose = readFileSync(path.resolve(import.meta.dirname, '../../../docker-compose.yml'), 'utf8');

/** `NAME: value` lines of the shared environment block (unquoted; ${VAR:-default} → default, ${VAR:?…} → a sample). */
function environment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const match of compose.matchAll(/^ {6}([A-Z][A-Z0-9_]+): (.+)$/gm)) {
    env[match[1]!] = match[2]!.replace(/^"|"$/g, '')
      .replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')
      .replace(/\$\{[A-Z_]+(:\?[^}]*)?\}/g, 'x'.repeat(40));
  }
  return env;
}

describe('docker-compose.yml', () => {
  it('trusts exactly one proxy hop (nginx), never the whole X-Forwarded-For chain', () => {
    const env = environment();
    expect(env.CONIFER_TRUST_PROXY).toBeUndefined();
    expect(env.CONIFER_TRUSTED_PROXIES).toBe('1');
    expect(loadConfig(env).gateway.trustProxy).toBe(1);
    // nginx appends the address it saw: that rightmost entry is the one a hop count of 1 believes.
    const nginx = readFileSync(path.resolve(import.meta.dirname, '../../../deploy/nginx.conf'), 'utf8');
    expect(nginx).toMatch(/X-Forwarded-For \$proxy_add_x_forwarded_for/);
    // Gateways are reachable only through nginx (no published port of their own).
    const gateway = compose.slice(compose.indexOf('  gateway-1:'), compose.indexOf('  gateway-2:'));
    expect(gateway).not.toMatch(/ports:/);
  });

  it('gives Redis a password and the apps a REDIS_URL carrying it', () => {
    expect(compose).toMatch(/--requirepass", "\$\{REDIS_PASSWORD:\?/);
    expect(environment().REDIS_URL).toMatch(/^redis:\/\/:x+@redis:6379$/);
  });
});
