// Pinecone's metadata filter language: $eq $ne $gt $gte $lt $lte $in $nin $exists $and $or, a bare value
// meaning $eq, several operators on one field meaning all of them. parseFilter validates an unknown value
// into a FilterNode (or throws InvalidArgumentError with a sentence saying what is wrong); compileFilter
// turns it into a predicate over a record's metadata.
//
// Semantics on a list-of-strings field: $eq/$in match when any element matches, $ne/$nin when none does.
// A missing field matches $ne, $nin and {$exists:false} only.
import { InvalidArgumentError } from '../errors.js';
import type { RecordMetadata } from './types.js';

export type Scalar = string | number | boolean;

export type FilterNode =
  | { op: 'and' | 'or'; children: FilterNode[] }
  | { op: 'eq' | 'ne'; field: string; value: Scalar }
  | { op: 'gt' | 'gte' | 'lt' | 'lte'; field: string; value: number }
  | { op: 'in' | 'nin'; field: string; values: Scalar[] }
  | { op: 'exists'; field: string; value: boolean };

export const MAX_FILTER_DEPTH = 10;
export const MAX_IN_VALUES = 10_000;
const FIELD_OPERATORS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

/**
 * Validates a filter. Returns undefined for a missing or empty filter (`{}` matches everything).
 * @throws InvalidArgumentError naming the offending operator or field.
 */
export function parseFilter(raw: unknown): FilterNode | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isPlainObject(raw)) throw new InvalidArgumentError('filter must be a JSON object');
  if (Object.keys(raw).length === 0) return undefined;
  return parseObject(raw, 1);
}

function parseObject(raw: Record<string, unknown>, depth: number): FilterNode {
  if (depth > MAX_FILTER_DEPTH) throw new InvalidArgumentError(`filter is nested too deeply (at most ${MAX_FILTER_DEPTH} levels)`);
  const parts: FilterNode[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) {
        throw new InvalidArgumentError(`filter operator ${key} needs a non-empty array of filters`);
      }
      const children = value.map((child) => {
        if (!isPlainObject(child) || Object.keys(child).length === 0) {
          throw new InvalidArgumentError(`each element of ${key} must be a non-empty filter object`);
        }
        return parseObject(child, depth + 1);
      });
      parts.push({ op: key === '$and' ? 'and' : 'or', children });
    } else if (key.startsWith('$')) {
      throw new InvalidArgumentError(`unknown filter operator ${key} at the top level of a filter`);
    } else if (key.length === 0) {
      throw new InvalidArgumentError('filter field names must not be empty');
    } else {
      parts.push(...parseField(key, value));
    }
  }
  return parts.length === 1 ? parts[0]! : { op: 'and', children: parts };
}

function parseField(field: string, raw: unknown): FilterNode[] {
  if (!isPlainObject(raw)) {
    if (isScalar(raw)) return [{ op: 'eq', field, value: raw }];
    throw new InvalidArgumentError(
      `filter value for field "${field}" must be a string, number, boolean or an operator object like {"$in": [...]}`,
    );
  }
  const entries = Object.entries(raw);
  if (entries.length === 0) throw new InvalidArgumentError(`filter for field "${field}" has no operator`);
  return entries.map(([op, value]) => parseOperator(field, op, value));
}

function parseOperator(field: string, op: string, value: unknown): FilterNode {
  if (!FIELD_OPERATORS.has(op)) {
    throw new InvalidArgumentError(`unknown filter operator ${op} on field "${field}"; use one of ${[...FIELD_OPERATORS].join(' ')}`);
  }
  switch (op) {
    case '$eq':
    case '$ne':
      if (!isScalar(value)) throw new InvalidArgumentError(`${op} on field "${field}" needs a string, number or boolean`);
      return { op: op === '$eq' ? 'eq' : 'ne', field, value };
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new InvalidArgumentError(`${op} on field "${field}" needs a finite number`);
      }
      return { op: op.slice(1) as 'gt' | 'gte' | 'lt' | 'lte', field, value };
    case '$in':
    case '$nin':
      if (!Array.isArray(value)) throw new InvalidArgumentError(`${op} on field "${field}" needs an array`);
      if (value.length > MAX_IN_VALUES) {
        throw new InvalidArgumentError(`${op} on field "${field}" has ${value.length} values; at most ${MAX_IN_VALUES} are allowed`);
      }
      for (const v of value) {
        if (!isScalar(v)) throw new InvalidArgumentError(`${op} on field "${field}" accepts only strings, numbers and booleans`);
      }
      return { op: op === '$in' ? 'in' : 'nin', field, values: value as Scalar[] };
    default: // $exists
      if (typeof value !== 'boolean') throw new InvalidArgumentError(`$exists on field "${field}" needs true or false`);
      return { op: 'exists', field, value };
  }
}

export type MetadataPredicate = (metadata: RecordMetadata | undefined) => boolean;

/** Compiles a validated filter into a predicate; undefined filter matches every record. */
export function compileFilter(node: FilterNode | undefined): MetadataPredicate {
  if (node === undefined) return () => true;
  return compileNode(node);
}

function compileNode(node: FilterNode): MetadataPredicate {
  switch (node.op) {
    case 'and': {
      const children = node.children.map(compileNode);
      return (m) => children.every((c) => c(m));
    }
    case 'or': {
      const children = node.children.map(compileNode);
      return (m) => children.some((c) => c(m));
    }
    case 'eq': {
      const { field, value } = node;
      return (m) => matchesEq(m?.[field], value);
    }
    case 'ne': {
      const { field, value } = node;
      return (m) => !matchesEq(m?.[field], value);
    }
    case 'in': {
      const { field } = node;
      const set = new Set<Scalar>(node.values);
      return (m) => matchesIn(m?.[field], set);
    }
    case 'nin': {
      const { field } = node;
      const set = new Set<Scalar>(node.values);
      return (m) => !matchesIn(m?.[field], set);
    }
    case 'exists': {
      const { field, value } = node;
      return (m) => (m !== undefined && Object.prototype.hasOwnProperty.call(m, field)) === value;
    }
    case 'gt': {
      const { field, value } = node;
      return (m) => {
        const v = m?.[field];
        return typeof v === 'number' && v > value;
      };
    }
    case 'gte': {
      const { field, value } = node;
      return (m) => {
        const v = m?.[field];
        return typeof v === 'number' && v >= value;
      };
    }
    case 'lt': {
      const { field, value } = node;
      return (m) => {
        const v = m?.[field];
        return typeof v === 'number' && v < value;
      };
    }
    case 'lte': {
      const { field, value } = node;
      return (m) => {
        const v = m?.[field];
        return typeof v === 'number' && v <= value;
      };
    }
  }
}

function matchesEq(stored: unknown, value: Scalar): boolean {
  if (stored === undefined) return false;
  if (Array.isArray(stored)) return stored.includes(value as string);
  return stored === value;
}

function matchesIn(stored: unknown, set: Set<Scalar>): boolean {
  if (stored === undefined) return false;
  if (Array.isArray(stored)) {
    for (const v of stored) if (set.has(v as string)) return true;
    return false;
  }
  return set.has(stored as Scalar);
}
