import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from './config.js';
import { parseTrustedProxies } from './trusted-proxies.js';

describe('CONIFER_TRUSTED_PROXIES', () => {
  it('unset: X-Forwarded-For is not believed', () => {
    expect(loadConfig({}).gateway.trustProxy).toBe(false);
  });

  it('a hop count, or addresses and CIDRs of the proxies', () => {
    expect(loadConfig({ CONIFER_TRUSTED_PROXIES: '1' }).gateway.trustProxy).toBe(1);
    expect(loadConfig({ CONIFER_TRUSTED_PROXIES: '10.0.0.5, 172.16.0.0/12,::1,fd00::/8,loopback' }).gateway.trustProxy).toEqual([
      '10.0.0.5',
      '172.16.0.0/12',
      '::1',
      'fd00::/8',
      'loopback',
    ]);
  });

  it('refuses what is neither, and "trust everything"', () => {
    for (const bad of ['true', '*', '0', '11', '10.0.0.0/33', '300.1.1.1', 'lb.internal', '::1/129']) {
      expect('problem' in parseTrustedProxies(bad)).toBe(true);
      expect(() => loadConfig({ CONIFER_TRUSTED_PROXIES: bad })).toThrow(/CONIFER_TRUSTED_PROXIES/);
    }
  });

  it('the removed CONIFER_TRUST_PROXY=true (trusted the whole chain) stops the process with what to set instead', () => {
    expect(() => loadConfig({ CONIFER_TRUST_PROXY: 'true' })).toThrow(ConfigError);
    expect(() => loadConfig({ CONIFER_TRUST_PROXY: 'true' })).toThrow(/CONIFER_TRUSTED_PROXIES/);
    expect(loadConfig({ CONIFER_TRUST_PROXY: 'false' }).gateway.trustProxy).toBe(false);
  });
});
