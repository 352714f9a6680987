// The one reader of data-plane request fields, shared by the gateway (namespace scope of a key) and the vector
// store (its parsers), so the two can never disagree about what a request asks for (DESIGN §5). A query
// parameter that takes one value and arrives more than once is refused, not read as its first or last value;
// so is a field given both in camelCase and in snake_case with different values.
import { isUtf8 } from 'node:buffer';
import { InvalidArgumentError } from '../errors.js';

/** A parsed query string: repeated parameters arrive as arrays. */
export type QueryParams = Record<string, string | string[] | undefined>;

/** Field names already converted (the parsers' own literal names: a small fixed set, read on every request). */
const SNAKE = new Map<string, string>();

/** snake_case of a camelCase name (`paginationToken` → `pagination_token`). */
export function snakeCase(camel: string): string {
  let snake = SNAKE.get(camel);
  if (snake === undefined) {
    snake = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    // Bounded: a caller passing names from requests could not grow it without limit.
    if (SNAKE.size < 256) SNAKE.set(camel, snake);
  }
  return snake;
}

function single(query: QueryParams, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) {
    if (value.length === 1) return value[0];
    throw new InvalidArgumentError(`query parameter ${name} must be given at most once`);
  }
  return value;
}

/** The value of a single-valued query parameter named in camelCase or snake_case (repeated: 400). */
export function queryField(query: QueryParams | null | undefined, camel: string): string | undefined {
  if (query === null || query === undefined) return undefined;
  const snake = snakeCase(camel);
  const a = single(query, camel);
  const b = snake === camel ? undefined : single(query, snake);
  if (a !== undefined && b !== undefined) {
    throw new InvalidArgumentError(`query parameter ${camel} must be given at most once (also given as ${snake})`);
  }
  return a ?? b;
}

/**
 * The value of a body field named in camelCase, given in camelCase or snake_case (gRPC-style JSON accepts
 * both). Given both ways with different values, the request is refused rather than read one way here and
 * another way elsewhere.
 */
export function bodyField(body: Readonly<Record<string, unknown>>, camel: string): unknown {
  const snake = snakeCase(camel);
  const a = body[camel];
  const b = snake === camel ? undefined : body[snake];
  if (a !== undefined && b !== undefined && JSON.stringify(a) !== JSON.stringify(b)) {
    throw new InvalidArgumentError(`${snake} is given twice (also as ${camel}) with different values`);
  }
  return a !== undefined ? a : b;
}

/** Every value of a multi-valued query parameter (`ids=a&ids=b`). */
export function queryList(query: QueryParams | null | undefined, name: string): string[] {
  const value = query?.[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * Request body bytes as a JSON value: undefined when empty or blank; a 400 when they are not UTF-8 or not
 * JSON. The one decoder of raw bodies (the store's JSON parser and upsert workers, the gateway's scope check).
 */
export function parseJsonBytes(raw: Uint8Array | undefined): unknown {
  if (raw === undefined) return undefined;
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (!isUtf8(bytes)) throw new InvalidArgumentError('request body is not valid UTF-8');
  const text = bytes.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidArgumentError('request body is not valid JSON');
  }
}

/**
 * A request body as a JSON object: the parsed value, or the raw bytes (read by parseJsonBytes). An empty or
 * missing body is `{}`; anything but an object (a JSON string included) is refused.
 */
export function jsonObjectBody(raw: unknown, what = 'request'): Record<string, unknown> {
  const value = Buffer.isBuffer(raw) ? parseJsonBytes(raw) : raw;
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgumentError(`${what} body must be a JSON object`);
  return value as Record<string, unknown>;
}
