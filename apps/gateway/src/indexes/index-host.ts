// Where an index's data plane is reached. By default a path prefix under the public URL
// (http://gateway:8080/data/<projectId>/<indexName>, which the official clients keep as given); with a
// wildcard DNS domain configured, a host of its own as at Pinecone (https://<indexName>-<projectId>.<suffix>).

const UUID_LENGTH = 36;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface IndexHostSettings {
  readonly publicUrl: string;
  readonly indexHostSuffix?: string;
}

export interface IndexAddress {
  readonly projectId: string;
  readonly indexName: string;
}

export function indexHost(settings: IndexHostSettings, projectId: string, indexName: string): string {
  if (settings.indexHostSuffix) {
    const scheme = settings.publicUrl.startsWith('http://') ? 'http' : 'https';
    return `${scheme}://${indexName}-${projectId}.${settings.indexHostSuffix}`;
  }
  return `${settings.publicUrl}/data/${projectId}/${indexName}`;
}

function withoutPort(host: string): string {
  if (host.startsWith('[')) return host; // IPv6 literal: never an index host
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

/**
 * The index a Host header names (<indexName>-<projectId>.<suffix>, port ignored), or undefined when the host
 * is not an index host. The project id is a UUID, so the split is unambiguous although names contain '-'.
 */
export function parseIndexHostHeader(host: string | undefined, suffix: string | undefined): IndexAddress | undefined {
  if (!host || !suffix) return undefined;
  const hostname = withoutPort(host.toLowerCase());
  const domain = `.${withoutPort(suffix)}`;
  if (!hostname.endsWith(domain)) return undefined;
  const label = hostname.slice(0, -domain.length);
  if (label.includes('.') || label.length < UUID_LENGTH + 2) return undefined;
  const projectId = label.slice(-UUID_LENGTH);
  if (!UUID.test(projectId) || label[label.length - UUID_LENGTH - 1] !== '-') return undefined;
  const indexName = label.slice(0, -UUID_LENGTH - 1);
  return { projectId, indexName };
}

/** True when the Host header is under the configured index domain (the request is a data-plane request). */
export function isIndexHost(host: string | undefined, suffix: string | undefined): boolean {
  if (!host || !suffix) return false;
  return withoutPort(host.toLowerCase()).endsWith(`.${withoutPort(suffix)}`);
}
