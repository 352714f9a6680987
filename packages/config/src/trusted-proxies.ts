// CONIFER_TRUSTED_PROXIES (DESIGN §6): which peers' X-Forwarded-For is believed. Either a hop count (the number
// of proxies in front of the gateway, e.g. 1 for one load balancer: the address that proxy saw is the client's),
// or a comma-separated list of addresses and CIDRs of the proxies (plus proxy-addr's names `loopback`,
// `linklocal`, `uniquelocal`). Unset: X-Forwarded-For is ignored and the client address is the TCP peer.
// Never "trust everything": the client-controlled leftmost entry would become the client address.
import { isIP } from 'node:net';

/** What Fastify's `trustProxy` receives: false, a hop count, or the trusted addresses/CIDRs. */
export type TrustedProxies = false | number | readonly string[];

const NAMED = new Set(['loopback', 'linklocal', 'uniquelocal']);

function validEntry(entry: string): boolean {
  if (NAMED.has(entry)) return true;
  const slash = entry.indexOf('/');
  if (slash === -1) return isIP(entry) !== 0;
  const address = entry.slice(0, slash);
  const prefix = entry.slice(slash + 1);
  const family = isIP(address);
  if (family === 0 || !/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** The parsed setting, or a problem to report. */
export function parseTrustedProxies(raw: string | undefined): { value: TrustedProxies } | { problem: string } {
  if (raw === undefined || raw.trim() === '') return { value: false };
  const text = raw.trim();
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops < 1 || hops > 10) return { problem: 'a hop count must be between 1 and 10' };
    return { value: hops };
  }
  const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry.length > 0);
  const bad = entries.filter((entry) => !validEntry(entry));
  if (bad.length > 0) {
    return { problem: `not an IP address, CIDR or hop count: ${bad.join(', ')} (e.g. 10.0.0.5, 10.0.0.0/8, 1)` };
  }
  return { value: Object.freeze(entries) };
}
