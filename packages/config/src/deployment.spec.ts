// The shipped docker-compose.yml against the configuration contract: the settings it gives are valid, the
// gateways believe only the load balancer's X-Forwarded-For entry, Redis needs a password, and the replicated
// layout (three NATS servers in one JetStream cluster, three store nodes on it, two replicas per index) holds.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ENV_SCHEMA, loadConfig } from './config.js';

const compose = readFileSync(path.resolve(import.meta.dirname, '../../../docker-compose.yml'), 'utf8');

/** The text of one top-level entry or service (up to the next entry at the same indentation). */
function section(name: string, indent = '  '): string {
  const start = compose.indexOf(`\n${indent}${name}:`);
  if (start === -1) throw new Error(`no ${name} in docker-compose.yml`);
  const rest = compose.slice(start + 1);
  const next = rest.slice(1).search(new RegExp(`\\n${indent}[a-z]`));
  return next === -1 ? rest : rest.slice(0, next + 1);
}

/**
 * `NAME: value` lines of the shared environment block x-environment (unquoted; ${VAR:-default} → default,
 * ${VAR:?…} → a sample), plus the lines a service adds to it.
 */
function environment(service?: string): Record<string, string> {
  const env: Record<string, string> = {};
  const common = section('x-environment', '');
  const own = service === undefined ? '' : section(service);
  for (const match of [...common.matchAll(/^ {2}([A-Z][A-Z0-9_]+): (.+)$/gm), ...own.matchAll(/^ {6}([A-Z][A-Z0-9_]+): (.+)$/gm)]) {
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

  it('runs three NATS servers as one JetStream cluster, each with its own store volume', () => {
    const routes = 'nats://nats-1:6222,nats://nats-2:6222,nats://nats-3:6222';
    for (const name of ['nats-1', 'nats-2', 'nats-3']) {
      const server = section(name);
      expect(server).toMatch(/"--jetstream"/);
      expect(server).toMatch(/"--cluster_name", "conifer"/);
      expect(server).toContain(`"--server_name", "${name}"`);
      expect(server).toContain(`"--routes", "${routes}"`);
      expect(server).toContain(`${name}-data:/data`);
      // Inside the compose network only: no published client port.
      expect(server).not.toMatch(/ports:/);
    }
  });

  it('runs three store nodes on the NATS cluster (stream replicas 3) and gateways placing two replicas per index', () => {
    const stores = ['vector-store-1', 'vector-store-2', 'vector-store-3'];
    const gatewayConfig = loadConfig(environment('gateway-1'));
    expect(gatewayConfig.gateway.vectorStoreUrls).toEqual(stores.map((s) => `http://${s}:8081`));
    expect(gatewayConfig.gateway.indexReplicas).toBe(2);
    const volumes = new Set<string>();
    for (const store of stores) {
      const env = environment(store);
      expect(env.CONIFER_NATS_URL).toBe('nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222');
      expect(env.CONIFER_NATS_STREAM_REPLICAS).toBe('3');
      expect(env.CONIFER_NODE_ID).toBe(store);
      // Every variable the compose file sets is one the configuration knows, with a valid value.
      expect(Object.keys(env).filter((name) => !(name in ENV_SCHEMA))).toEqual([]);
      expect(() => loadConfig(env)).not.toThrow();
      const volume = /(vector-data-\d):\/data/.exec(section(store))?.[1];
      expect(volume).toBeDefined();
      volumes.add(volume!);
    }
    expect(volumes.size).toBe(3);
  });

  it('gives Redis a password and the apps a REDIS_URL carrying it', () => {
    expect(compose).toMatch(/--requirepass", "\$\{REDIS_PASSWORD:\?/);
    expect(environment().REDIS_URL).toMatch(/^redis:\/\/:x+@redis:6379$/);
  });
});
