// API versions negotiated on `X-Pinecone-Api-Version` (DESIGN §5): one list, one parser. A missing header
// means the newest version. Versions before 2026-07 share the classic index model (dimension, metric, spec,
// vector_type); 2026-07 has the schema model (deployment, schema.fields, read_capacity). A request without the
// header (curl, scripts written before 2026-07) is answered in the newest shape with the classic fields added
// (disjoint names, ignored by 2026-07 decoders), and its body may be in either model: `unversioned`.
import { InvalidArgumentError } from '../errors.js';

export const API_VERSION_HEADER = 'x-pinecone-api-version';

/** Every version Conifer answers, oldest first. Clients of the last year send 2025-04 … 2026-07. */
export const API_VERSIONS = ['2024-07', '2024-10', '2025-01', '2025-04', '2025-10', '2026-04', '2026-07'] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];
export const NEWEST_API_VERSION: ApiVersion = '2026-07';

/** Index model families: `classic` up to 2026-04, `schema` from 2026-07, `unversioned` without the header. */
export type IndexModelShape = 'classic' | 'schema' | 'unversioned';

/** The request's version, and whether the client named it. */
export interface RequestedApiVersion {
  readonly version: ApiVersion;
  readonly explicit: boolean;
}

export function negotiateApiVersion(header: string | string[] | undefined): RequestedApiVersion {
  const version = parseApiVersion(header);
  const explicit = !(header === undefined || (typeof header === 'string' && header.trim() === ''));
  return { version, explicit };
}

export function parseApiVersion(header: string | string[] | undefined): ApiVersion {
  if (header === undefined) return NEWEST_API_VERSION;
  if (Array.isArray(header)) {
    if (header.length !== 1) throw new InvalidArgumentError('X-Pinecone-Api-Version must be given once');
    header = header[0]!;
  }
  const value = header.trim();
  if (value === '') return NEWEST_API_VERSION;
  if (!(API_VERSIONS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(
      `Unsupported API version "${value.slice(0, 40)}" in X-Pinecone-Api-Version; supported versions: ${API_VERSIONS.join(', ')}`,
    );
  }
  return value as ApiVersion;
}

export function indexModelShape(requested: RequestedApiVersion | ApiVersion): IndexModelShape {
  if (typeof requested !== 'string' && !requested.explicit) return 'unversioned';
  const version = typeof requested === 'string' ? requested : requested.version;
  return version >= '2026-07' ? 'schema' : 'classic';
}
