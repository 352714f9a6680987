// Admin API wire parsers (Pinecone Admin API 2025-04 shapes, snake_case; camelCase accepted too). Each turns
// an unknown JSON body into a typed request or throws InvalidArgumentError (400). Unknown fields are ignored,
// as Pinecone's clients may send fields of newer API versions.
import { bodyField } from './data-plane/request-fields.js';
import { InvalidArgumentError } from './errors.js';
import { API_KEY_ROLES, isApiKeyRole, type ApiKeyRole } from './roles.js';

export const ADMIN_NAME_MAX = 80;
export const PROJECT_NAME_MAX = 512;
export const MAX_SCOPE_ENTRIES = 100;
export const MAX_SCOPE_ENTRY_LENGTH = 512;
export const MAX_RATE_LIMIT_PER_SECOND = 1_000_000;
/** Longest lifetime a key may be given: 10 years. */
export const MAX_KEY_LIFETIME_SECONDS = 10 * 365 * 24 * 3600;
export const DEFAULT_ROTATION_GRACE_SECONDS = 3600;
export const MAX_ROTATION_GRACE_SECONDS = 30 * 24 * 3600;
export const DEFAULT_API_KEY_ROLES: readonly ApiKeyRole[] = ['ProjectEditor'];
export const AUDIT_PAGE_DEFAULT = 50;
export const AUDIT_PAGE_MAX = 100;

type Body = Record<string, unknown>;

/** A JSON object body, or an error (arrays, strings, numbers and null are not request bodies). */
export function requireObject(body: unknown, what = 'Request body'): Body {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidArgumentError(`${what} must be a JSON object`);
  }
  return body as Body;
}


/** No lone UTF-16 surrogates (Postgres cannot store them; JSON bodies can carry them as \\ud800). */
function isWellFormedText(value: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value);
}

export function parseName(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string') throw new InvalidArgumentError(`${field} must be a string`);
  if (value.trim().length === 0) throw new InvalidArgumentError(`${field} must not be empty`);
  if (value.length > max) throw new InvalidArgumentError(`${field} must be at most ${max} characters long`);
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidArgumentError(`${field} must not contain control characters`);
  if (!isWellFormedText(value)) throw new InvalidArgumentError(`${field} must be valid Unicode text (no lone surrogates)`);
  return value;
}

function parseBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new InvalidArgumentError(`${field} must be a boolean`);
  return value;
}

function parseInteger(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${field} must be an integer from ${min} to ${max}`);
  }
  return value;
}

// ---- projects ----

export interface CreateProjectRequest {
  readonly name: string;
  readonly maxPods: number;
  readonly forceEncryptionWithCmek: boolean;
}

export interface UpdateProjectRequest {
  readonly name?: string;
  readonly maxPods?: number;
  readonly forceEncryptionWithCmek?: boolean;
}

export function parseCreateProjectRequest(input: unknown): CreateProjectRequest {
  const body = requireObject(input);
  if (body.name === undefined) throw new InvalidArgumentError('name is required');
  const maxPods = bodyField(body, 'maxPods');
  const cmek = bodyField(body, 'forceEncryptionWithCmek');
  return {
    name: parseName(body.name, 'name', PROJECT_NAME_MAX),
    maxPods: maxPods === undefined ? 0 : parseInteger(maxPods, 'max_pods', 0, 100_000),
    forceEncryptionWithCmek: cmek === undefined ? false : parseBoolean(cmek, 'force_encryption_with_cmek'),
  };
}

export function parseUpdateProjectRequest(input: unknown): UpdateProjectRequest {
  const body = requireObject(input);
  const out: { -readonly [K in keyof UpdateProjectRequest]: UpdateProjectRequest[K] } = {};
  if (body.name !== undefined) out.name = parseName(body.name, 'name', PROJECT_NAME_MAX);
  if (bodyField(body, 'maxPods') !== undefined) out.maxPods = parseInteger(bodyField(body, 'maxPods'), 'max_pods', 0, 100_000);
  if (bodyField(body, 'forceEncryptionWithCmek') !== undefined) {
    out.forceEncryptionWithCmek = parseBoolean(bodyField(body, 'forceEncryptionWithCmek'), 'force_encryption_with_cmek');
  }
  if (Object.keys(out).length === 0) {
    throw new InvalidArgumentError('Nothing to update: give name, max_pods or force_encryption_with_cmek');
  }
  return out;
}

// ---- API keys ----

export interface ApiKeyScope {
  /** Empty: every index of the project. */
  readonly indexes: readonly string[];
  /** Empty: every namespace. */
  readonly namespaces: readonly string[];
}

export interface CreateApiKeyRequest {
  readonly name: string;
  readonly roles: readonly ApiKeyRole[];
  readonly expiresAt: Date | null;
  readonly scope: ApiKeyScope;
  readonly rateLimitPerSecond: number | null;
}

/** Fields present are changed; null clears expiry or rate limit. */
export interface UpdateApiKeyRequest {
  readonly name?: string;
  readonly roles?: readonly ApiKeyRole[];
  readonly expiresAt?: Date | null;
  readonly scope?: ApiKeyScope;
  readonly rateLimitPerSecond?: number | null;
}

export interface RotateApiKeyRequest {
  readonly gracePeriodSeconds: number;
}

export function parseRoles(value: unknown): ApiKeyRole[] {
  if (!Array.isArray(value)) throw new InvalidArgumentError('roles must be an array of role names');
  if (value.length === 0) throw new InvalidArgumentError(`roles must not be empty; valid roles: ${API_KEY_ROLES.join(', ')}`);
  const unknown = value.filter((role) => !isApiKeyRole(role));
  if (unknown.length > 0) {
    const shown = unknown.map((role) => (typeof role === 'string' ? JSON.stringify(role.slice(0, 64)) : typeof role)).join(', ');
    throw new InvalidArgumentError(`Unknown role(s) ${shown}; valid roles: ${API_KEY_ROLES.join(', ')}`);
  }
  return [...new Set(value as ApiKeyRole[])];
}

/** Pinecone's index names: 1-45 lowercase letters, digits and hyphens, not starting or ending with a hyphen. */
const INDEX_NAME = /^[a-z0-9](?:[a-z0-9-]{0,43}[a-z0-9])?$/;

function parseStringList(value: unknown, field: string, kind: 'index' | 'namespace'): string[] {
  if (!Array.isArray(value)) throw new InvalidArgumentError(`${field} must be an array of strings`);
  if (value.length > MAX_SCOPE_ENTRIES) throw new InvalidArgumentError(`${field} may list at most ${MAX_SCOPE_ENTRIES} entries`);
  for (const entry of value) {
    if (typeof entry !== 'string') throw new InvalidArgumentError(`${field} must be an array of strings`);
    if (kind === 'index' && !INDEX_NAME.test(entry)) {
      throw new InvalidArgumentError(
        `${field}: ${JSON.stringify(entry.slice(0, 64))} is not an index name (1-45 lowercase letters, digits or hyphens, not starting or ending with a hyphen)`,
      );
    }
    if (entry.includes('\u0000') || !isWellFormedText(entry)) throw new InvalidArgumentError(`${field} entries must be valid text without NUL`);
    if (entry.length > MAX_SCOPE_ENTRY_LENGTH) {
      throw new InvalidArgumentError(`${field} entries must be at most ${MAX_SCOPE_ENTRY_LENGTH} characters long`);
    }
  }
  return [...new Set(value as string[])];
}

export function parseScope(value: unknown): ApiKeyScope {
  if (value === null) return { indexes: [], namespaces: [] };
  const scope = requireObject(value, 'scope');
  return {
    indexes: scope.indexes === undefined || scope.indexes === null ? [] : parseStringList(scope.indexes, 'scope.indexes', 'index'),
    // "" is the default namespace.
    namespaces: scope.namespaces === undefined || scope.namespaces === null ? [] : parseStringList(scope.namespaces, 'scope.namespaces', 'namespace'),
  };
}

function parseRateLimit(value: unknown): number | null {
  if (value === null) return null;
  return parseInteger(value, 'rate_limit_per_second', 1, MAX_RATE_LIMIT_PER_SECOND);
}

/** Date and time fields within their ranges (Date would read 2030-02-31 as 3 March and 24:00 as the next day). */
function calendarValid(text: string): boolean {
  const [, y, mo, d, h, mi, sec, oh, om] = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?[^Z+-]*(?:Z|[+-](\d{2}):(\d{2}))?$/.exec(text) ?? [];
  if (y === undefined) return false;
  const days = new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate();
  return (
    Number(mo) >= 1 && Number(mo) <= 12 && Number(d) >= 1 && Number(d) <= days && Number(h) <= 23 && Number(mi) <= 59 &&
    Number(sec ?? 0) <= 59 && Number(oh ?? 0) <= 23 && Number(om ?? 0) <= 59
  );
}

/** expires_at (RFC 3339 time in the future) or expires_in_seconds, not both; null means "never". */
function parseExpiry(body: Body, now: Date): Date | null | undefined {
  const at = bodyField(body, 'expiresAt');
  const inSeconds = bodyField(body, 'expiresInSeconds');
  if (at !== undefined && inSeconds !== undefined) {
    throw new InvalidArgumentError('Give expires_at or expires_in_seconds, not both');
  }
  if (inSeconds !== undefined) {
    if (inSeconds === null) return null;
    const seconds = parseInteger(inSeconds, 'expires_in_seconds', 1, MAX_KEY_LIFETIME_SECONDS);
    return new Date(now.getTime() + seconds * 1000);
  }
  if (at === undefined) return undefined;
  if (at === null) return null;
  if (typeof at !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(at)) {
    throw new InvalidArgumentError('expires_at must be an RFC 3339 date-time such as 2030-01-31T12:00:00Z');
  }
  const date = new Date(at);
  if (Number.isNaN(date.getTime()) || !calendarValid(at)) throw new InvalidArgumentError('expires_at is not a valid date-time');
  if (date.getTime() <= now.getTime()) throw new InvalidArgumentError('expires_at must be in the future');
  if (date.getTime() > now.getTime() + MAX_KEY_LIFETIME_SECONDS * 1000) {
    throw new InvalidArgumentError('expires_at must be at most 10 years ahead');
  }
  return date;
}

export function parseCreateApiKeyRequest(input: unknown, now: Date): CreateApiKeyRequest {
  const body = requireObject(input);
  if (body.name === undefined) throw new InvalidArgumentError('name is required');
  const rateLimit = bodyField(body, 'rateLimitPerSecond');
  return {
    name: parseName(body.name, 'name', ADMIN_NAME_MAX),
    roles: body.roles === undefined ? [...DEFAULT_API_KEY_ROLES] : parseRoles(body.roles),
    expiresAt: parseExpiry(body, now) ?? null,
    scope: body.scope === undefined ? { indexes: [], namespaces: [] } : parseScope(body.scope),
    rateLimitPerSecond: rateLimit === undefined ? null : parseRateLimit(rateLimit),
  };
}

export function parseUpdateApiKeyRequest(input: unknown, now: Date): UpdateApiKeyRequest {
  const body = requireObject(input);
  const out: { -readonly [K in keyof UpdateApiKeyRequest]: UpdateApiKeyRequest[K] } = {};
  if (body.name !== undefined) out.name = parseName(body.name, 'name', ADMIN_NAME_MAX);
  if (body.roles !== undefined) out.roles = parseRoles(body.roles);
  if (body.scope !== undefined) out.scope = parseScope(body.scope);
  if (bodyField(body, 'rateLimitPerSecond') !== undefined) {
    out.rateLimitPerSecond = parseRateLimit(bodyField(body, 'rateLimitPerSecond'));
  }
  const expiry = parseExpiry(body, now);
  if (expiry !== undefined) out.expiresAt = expiry;
  if (Object.keys(out).length === 0) {
    throw new InvalidArgumentError('Nothing to update: give name, roles, scope, rate_limit_per_second, expires_at or expires_in_seconds');
  }
  return out;
}

export function parseRotateApiKeyRequest(input: unknown): RotateApiKeyRequest {
  if (input === undefined) return { gracePeriodSeconds: DEFAULT_ROTATION_GRACE_SECONDS };
  const body = requireObject(input);
  const grace = bodyField(body, 'gracePeriodSeconds');
  return {
    gracePeriodSeconds:
      grace === undefined ? DEFAULT_ROTATION_GRACE_SECONDS : parseInteger(grace, 'grace_period_seconds', 0, MAX_ROTATION_GRACE_SECONDS),
  };
}

// ---- service accounts, organizations ----

export function parseCreateServiceAccountRequest(input: unknown): { readonly name: string } {
  const body = requireObject(input);
  if (body.name === undefined) throw new InvalidArgumentError('name is required');
  return { name: parseName(body.name, 'name', ADMIN_NAME_MAX) };
}

export function parseUpdateOrganizationRequest(input: unknown): { readonly name: string } {
  const body = requireObject(input);
  if (body.name === undefined) throw new InvalidArgumentError('Nothing to update: give name');
  return { name: parseName(body.name, 'name', PROJECT_NAME_MAX) };
}

// ---- OAuth ----

export interface TokenRequest {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** Client-credentials grant; `audience` (sent by the Python SDK) is accepted and ignored. */
export function parseTokenRequest(input: unknown): TokenRequest {
  const body = requireObject(input);
  if (body.grant_type !== 'client_credentials') {
    throw new InvalidArgumentError('unsupported_grant_type: grant_type must be "client_credentials"');
  }
  const clientId = body.client_id;
  const clientSecret = body.client_secret;
  const printable = /^[\x21-\x7e]{1,256}$/;
  if (typeof clientId !== 'string' || !printable.test(clientId)) {
    throw new InvalidArgumentError('invalid_request: client_id is required (printable ASCII, at most 256 characters)');
  }
  if (typeof clientSecret !== 'string' || clientSecret.length === 0 || clientSecret.length > 256) {
    throw new InvalidArgumentError('invalid_request: client_secret is required (at most 256 characters)');
  }
  return { clientId, clientSecret };
}

// ---- paging ----

/** Server-side filters of GET /admin/audit-events; every field given must match (AND). */
export interface AuditFilter {
  /** Exact action, e.g. `api_key.create`. */
  readonly action?: string;
  /** `service_account` or `system`. */
  readonly actorType?: string;
  /** Exact actor id (the service account's id). */
  readonly actorId?: string;
  /** Exact target type, e.g. `project`, `api_key`. */
  readonly targetType?: string;
  /** Exact target id. */
  readonly targetId?: string;
  /** Events created at or after this time. */
  readonly from?: Date;
  /** Events created before this time. */
  readonly to?: Date;
}

export interface AuditPageRequest {
  readonly limit: number;
  /** Return events with a smaller id than this one (newest first). */
  readonly beforeId?: bigint;
  /** Absent when no filter was given. */
  readonly filter?: AuditFilter;
}

const AUDIT_FILTER_TEXT_MAX = 256;
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;

function auditText(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new InvalidArgumentError(`${name} must be given once`);
  if (value.length > AUDIT_FILTER_TEXT_MAX || !/^[\x21-\x7e]+$/.test(value)) {
    throw new InvalidArgumentError(`${name} must be printable ASCII without spaces, at most ${AUDIT_FILTER_TEXT_MAX} characters`);
  }
  return value;
}

/** A strict ISO 8601 date (`2026-12-05`, midnight UTC) or date-time with a zone (`2026-12-05T10:00:00Z`, `…+02:00`). */
function auditTime(query: Record<string, unknown>, name: string): Date | undefined {
  const value = query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new InvalidArgumentError(`${name} must be given once`);
  const match = ISO_8601.exec(value);
  const invalid = () => new InvalidArgumentError(`${name} must be an ISO 8601 date or date-time with a zone, e.g. 2026-12-05T10:00:00Z`);
  if (!match) throw invalid();
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (year < 1 || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) throw invalid();
  if (match[4] !== undefined && (Number(match[4]) > 23 || Number(match[5]) > 59 || Number(match[6] ?? 0) > 59)) throw invalid();
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw invalid();
  return at;
}

export function parseAuditFilter(query: Record<string, unknown>): AuditFilter | undefined {
  const filter: { -readonly [K in keyof AuditFilter]: AuditFilter[K] } = {};
  const action = auditText(query, 'action');
  const actorType = auditText(query, 'actor_type');
  const actorId = auditText(query, 'actor_id');
  const targetType = auditText(query, 'target_type');
  const targetId = auditText(query, 'target_id');
  const from = auditTime(query, 'from');
  const to = auditTime(query, 'to');
  if (action !== undefined) filter.action = action;
  if (actorType !== undefined) filter.actorType = actorType;
  if (actorId !== undefined) filter.actorId = actorId;
  if (targetType !== undefined) filter.targetType = targetType;
  if (targetId !== undefined) filter.targetId = targetId;
  if (from !== undefined) filter.from = from;
  if (to !== undefined) filter.to = to;
  if (from && to && from.getTime() >= to.getTime()) throw new InvalidArgumentError('from must be before to');
  return Object.keys(filter).length === 0 ? undefined : filter;
}

/** A short digest of the filters (FNV-1a, 64 bits): a token carries it so that it is only accepted with the same filters. */
function auditFilterDigest(filter: AuditFilter | undefined): string | undefined {
  if (!filter) return undefined;
  const canonical = JSON.stringify([
    filter.action ?? null,
    filter.actorType ?? null,
    filter.actorId ?? null,
    filter.targetType ?? null,
    filter.targetId ?? null,
    filter.from?.getTime() ?? null,
    filter.to?.getTime() ?? null,
  ]);
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(canonical, 'utf8')) {
    hash = BigInt.asUintN(64, (hash ^ BigInt(byte)) * 0x100000001b3n);
  }
  return hash.toString(16).padStart(16, '0');
}

/** The token continuing after `id`; bound to `filter` (a token without filters stays `a:<id>`). */
export function encodeAuditPaginationToken(id: bigint, filter?: AuditFilter): string {
  const digest = auditFilterDigest(filter);
  return Buffer.from(`a:${id.toString()}${digest ? `:${digest}` : ''}`, 'utf8').toString('base64url');
}

export function parseAuditPageRequest(query: Record<string, unknown>): AuditPageRequest {
  let limit = AUDIT_PAGE_DEFAULT;
  if (query.limit !== undefined) {
    const raw = query.limit;
    if (typeof raw !== 'string' || !/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > AUDIT_PAGE_MAX) {
      throw new InvalidArgumentError(`limit must be an integer from 1 to ${AUDIT_PAGE_MAX}`);
    }
    limit = Number(raw);
  }
  const filter = parseAuditFilter(query);
  const base = filter ? { limit, filter } : { limit };
  const token = query.pagination_token ?? query.paginationToken;
  if (token === undefined || token === '') return base;
  const decoded = typeof token === 'string' && token.length < 80 ? Buffer.from(token, 'base64url').toString('utf8') : '';
  const match = /^a:(\d{1,19})(?::([0-9a-f]{16}))?$/.exec(decoded);
  if (!match) throw new InvalidArgumentError('pagination_token is not valid');
  if (match[2] !== auditFilterDigest(filter)) {
    throw new InvalidArgumentError('pagination_token was issued for other filters: send the same filters as the first page');
  }
  return { ...base, beforeId: BigInt(match[1]!) };
}
