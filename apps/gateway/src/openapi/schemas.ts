// JSON Schemas (OpenAPI 3.1) of the admin API's and the control plane's bodies, referenced by the routes' @Doc()
// decorators and placed under components.schemas of /openapi.json. They describe the wire models written by
// admin-wire.ts, api-key-wire.ts, index-model.ts and usage.controller.ts.
type Schema = Record<string, unknown>;

const str = { type: 'string' } as const;
const nullableStr = { type: ['string', 'null'] } as const;
const time = { type: 'string', format: 'date-time' } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;
const int = { type: 'integer' } as const;
const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });
const object = (properties: Record<string, unknown>, required: string[] = Object.keys(properties), extra: Schema = {}): Schema => ({
  type: 'object',
  properties,
  required,
  ...extra,
});
const listOf = (name: string, extra: Record<string, unknown> = {}): Schema => object({ data: { type: 'array', items: ref(name) }, ...extra }, ['data']);

const ROLES = ['ProjectEditor', 'ProjectViewer', 'ControlPlaneEditor', 'ControlPlaneViewer', 'DataPlaneEditor', 'DataPlaneViewer'];
const counts = { reads: int, writes: int, errors: int };

export const SCHEMAS = {
  Error: object(
    {
      error: object({ code: str, message: str }),
      status: int,
      message: str,
    },
    ['error', 'status'],
  ),
  TokenRequest: object(
    { grant_type: { const: 'client_credentials' }, client_id: str, client_secret: str, audience: str },
    ['grant_type', 'client_id', 'client_secret'],
  ),
  TokenResponse: object({ access_token: str, token_type: { const: 'Bearer' }, expires_in: int }),
  Organization: object({ id: str, name: str, created_at: time }),
  OrganizationList: listOf('Organization'),
  UpdateOrganizationRequest: object({ name: str }),
  Project: object({ id: { type: 'string', format: 'uuid' }, name: str, max_pods: int, force_encryption_with_cmek: { type: 'boolean' }, organization_id: str, created_at: time }),
  ProjectList: listOf('Project'),
  CreateProjectRequest: object({ name: str, max_pods: int, force_encryption_with_cmek: { type: 'boolean' } }, ['name']),
  UpdateProjectRequest: object({ name: str, max_pods: int, force_encryption_with_cmek: { type: 'boolean' } }, []),
  Role: { type: 'string', enum: ROLES },
  KeyScope: object({ indexes: { type: 'array', items: str }, namespaces: { type: 'array', items: str } }, []),
  ApiKey: object({
    id: { type: 'string', format: 'uuid' },
    name: str,
    project_id: str,
    roles: { type: 'array', items: ref('Role') },
    created_at: time,
    expires_at: nullableTime,
    last_used_at: nullableTime,
    last_four: str,
    scope: object({ indexes: { type: 'array', items: str }, namespaces: { type: 'array', items: str } }),
    rate_limit_per_second: { type: ['integer', 'null'] },
    status: { type: 'string', enum: ['active', 'revoked', 'expired'] },
    revoked_at: nullableTime,
    created_by: nullableStr,
    rotated_from_id: nullableStr,
  }),
  ApiKeyList: listOf('ApiKey'),
  ApiKeyWithSecret: object({ key: ref('ApiKey'), value: { type: 'string', description: 'The full key: shown only in this answer' } }),
  RotatedApiKey: object({
    key: ref('ApiKey'),
    value: { type: 'string', description: 'The successor key: shown only in this answer' },
    previous_key: object({ id: str, expires_at: time }),
  }),
  CreateApiKeyRequest: object(
    {
      name: str,
      roles: { type: 'array', items: ref('Role') },
      expires_at: time,
      expires_in_seconds: int,
      scope: ref('KeyScope'),
      rate_limit_per_second: int,
    },
    ['name'],
  ),
  UpdateApiKeyRequest: object(
    { name: str, roles: { type: 'array', items: ref('Role') }, scope: ref('KeyScope'), rate_limit_per_second: { type: ['integer', 'null'] }, expires_at: nullableTime },
    [],
  ),
  RotateApiKeyRequest: object({ grace_period_seconds: int }, []),
  ServiceAccount: object({ id: str, name: str, client_id: str, organization_id: str, created_at: time }),
  ServiceAccountWithSecret: object(
    { id: str, name: str, client_id: str, organization_id: str, created_at: time, client_secret: { type: 'string', description: 'Shown only in this answer' } },
  ),
  ServiceAccountList: listOf('ServiceAccount'),
  CreateServiceAccountRequest: object({ name: str }),
  AuditEvent: object({
    id: str,
    actor_type: str,
    actor_id: nullableStr,
    action: str,
    target_type: str,
    target_id: nullableStr,
    client_address: nullableStr,
    created_at: time,
    details: { type: 'object', additionalProperties: true },
  }),
  AuditEventList: listOf('AuditEvent', { pagination: object({ next: str }) }),
  UsageCounts: object(counts),
  UsageBucket: object({ hour: time, ...counts }),
  KeyUsage: object({
    api_key_id: str,
    project_id: str,
    from: time,
    to: time,
    total: ref('UsageCounts'),
    data: { type: 'array', items: ref('UsageBucket') },
  }),
  ProjectUsage: object({
    project_id: str,
    from: time,
    to: time,
    total: ref('UsageCounts'),
    data: { type: 'array', items: ref('UsageBucket') },
    keys: { type: 'array', items: object({ api_key_id: str, ...counts }) },
  }),
  IndexModel: object(
    {
      name: str,
      dimension: int,
      metric: { type: 'string', enum: ['cosine', 'euclidean', 'dotproduct'] },
      host: str,
      spec: { type: 'object', additionalProperties: true },
      status: object({ ready: { type: 'boolean' }, state: str }),
      deletion_protection: { type: 'string', enum: ['enabled', 'disabled'] },
      tags: { type: ['object', 'null'], additionalProperties: str },
      vector_type: { type: 'string', enum: ['dense', 'sparse'] },
    },
    ['name', 'metric', 'host', 'spec', 'status'],
    { additionalProperties: true },
  ),
  IndexList: object({ indexes: { type: 'array', items: ref('IndexModel') } }),
  CreateIndexRequest: object(
    {
      name: str,
      dimension: int,
      metric: { type: 'string', enum: ['cosine', 'euclidean', 'dotproduct'] },
      spec: object({ serverless: object({ cloud: str, region: str }) }),
      deletion_protection: { type: 'string', enum: ['enabled', 'disabled'] },
      tags: { type: 'object', additionalProperties: str },
      vector_type: { type: 'string', enum: ['dense', 'sparse'] },
    },
    ['name', 'spec'],
    { additionalProperties: true },
  ),
  ConfigureIndexRequest: object(
    { deletion_protection: { type: 'string', enum: ['enabled', 'disabled'] }, tags: { type: 'object', additionalProperties: str } },
    [],
    { additionalProperties: true },
  ),
} satisfies Record<string, Schema>;

export type SchemaName = keyof typeof SCHEMAS;

export function schemaRef(name: SchemaName): { $ref: string } {
  return ref(name);
}
