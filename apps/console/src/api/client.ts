// The typed admin/control-plane client, generated from the gateway's OpenAPI document (openapi-typescript
// types + openapi-fetch). Admin calls carry the session's bearer token; control-plane calls pass an Api-Key
// header per call. A 401 on an admin call ends the session (expired or revoked token).
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

type Schemas = components['schemas'];
export type Project = Schemas['Project'];
export type ApiKey = Schemas['ApiKey'];
export type ServiceAccount = Schemas['ServiceAccount'];
export type IndexModel = Schemas['IndexModel'];
export type UsageBucket = Schemas['UsageBucket'];
export type Role = Schemas['Role'];

export const ROLES: Role[] = ['ProjectEditor', 'ProjectViewer', 'ControlPlaneEditor', 'ControlPlaneViewer', 'DataPlaneEditor', 'DataPlaneViewer'];

let bearer: string | null = null;
let onUnauthorized: () => void = () => {};

export function setBearer(token: string | null, unauthorized: () => void = () => {}): void {
  bearer = token;
  onUnauthorized = unauthorized;
}

const auth: Middleware = {
  onRequest({ request, schemaPath }) {
    if (bearer && schemaPath.startsWith('/admin/')) request.headers.set('authorization', `Bearer ${bearer}`);
    return request;
  },
  onResponse({ response, schemaPath }) {
    if (response.status === 401 && schemaPath.startsWith('/admin/')) onUnauthorized();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use(auth);

/** The message of an error body in Pinecone's REST or gRPC-style shape. */
function errorMessage(error: unknown, fallback = 'Request failed'): string {
  if (error && typeof error === 'object') {
    const body = error as { message?: unknown; error?: { message?: unknown } };
    if (typeof body.message === 'string') return body.message;
    if (typeof body.error?.message === 'string') return body.error.message;
  }
  return fallback;
}

/** Turns an openapi-fetch result into its data or throws an Error carrying the status and the API's message. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    throw new ApiError(result.response.status, errorMessage(result.error, `${result.response.status} ${result.response.statusText}`));
  }
  return result.data as T;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A data-plane call on an index through the gateway, as any client makes it. Path-routed hosts
 * (<public URL>/data/<project>/<index>) are called on this page's origin, so the console works behind any
 * address the operator uses and stays within its Content-Security-Policy (connect-src 'self').
 */
export async function dataPlane<T>(host: string, path: string, apiKey: string, body?: unknown): Promise<T> {
  const url = new URL(host.includes('://') ? host : `https://${host}`);
  const base = url.pathname.startsWith('/data/') ? `${window.location.origin}${url.pathname.replace(/\/$/, '')}` : url.origin;
  const response = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'api-key': apiKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!response.ok) throw new ApiError(response.status, errorMessage(parsed, `${response.status} ${response.statusText}`));
  return parsed as T;
}
