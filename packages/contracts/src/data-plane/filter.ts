// Pinecone's metadata filter language: $eq $ne $gt $gte $lt $lte $in $nin $exists $and $or, a bare value
// meaning $eq, several operators on one field meaning all of them. parseFilter validates an unknown value
// into a FilterNode (or throws InvalidArgumentError with a sentence saying what is wrong); compileFilter
// turns it into a predicate over a record's metadata.
//
// Semantics on a list-of-strings field: $eq/$in match when any element matches, $ne/$nin when none does.
// A missing field matches $ne, $nin and {$exists:false} only.
import { InvalidArgumentError } from '../errors.js';
import type { RecordMetadata } from './metadata.js';
import { isWellFormedUnicode } from './unicode.js';

export type Scalar = string | number | boolean;

export type FilterNode =
  | { op: 'and' | 'or'; children: FilterNode[] }
  | { op: 'eq' | 'ne'; field: string; value: Scalar }
  | { op: 'gt' | 'gte' | 'lt' | 'lte'; field: string; value: number }
  | { op: 'in' | 'nin'; field: string; values: Scalar[] }
  | { op: 'exists'; field: string; value: boolean }
  /** Not from the wire: a filter the caller already evaluated (the store's api/cooperative-filter.ts), as a predicate. */
  | { op: 'precomputed'; test: MetadataPredicate };

export const MAX_FILTER_DEPTH = 10;
export const MAX_IN_VALUES = 10_000;
/**
 * Bounds on one filter (issue 14 item 10: a 200,000-clause $and stalled the store for seconds). Pinecone
 * documents 10,000 values per $in/$nin; the totals below are Conifer's: far above any hand- or
 * tool-written filter, low enough that parsing and evaluating one stays cheap.
 */
export const FILTER_LIMITS = {
  /** Operators and clauses in the whole filter ($and/$or count, each field operator counts). */
  maxNodes: 1000,
  /** Values in all $in/$nin lists together. */
  maxValues: 10_000,
  /** Characters of field names and string values together. */
  maxChars: 1_000_000,
} as const;
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
  return parseObject(raw, 1, { nodes: 0, values: 0, chars: 0 });
}

interface FilterBudget {
  nodes: number;
  values: number;
  chars: number;
}

function spend(budget: FilterBudget, nodes: number, values: number, chars: number): void {
  budget.nodes += nodes;
  budget.values += values;
  budget.chars += chars;
  if (budget.nodes > FILTER_LIMITS.maxNodes) {
    throw new InvalidArgumentError(`filter has more than ${FILTER_LIMITS.maxNodes} operators and clauses; simplify it (e.g. one $in instead of many $eq)`);
  }
  if (budget.values > FILTER_LIMITS.maxValues) {
    throw new InvalidArgumentError(`filter has more than ${FILTER_LIMITS.maxValues} $in/$nin values in total`);
  }
  if (budget.chars > FILTER_LIMITS.maxChars) {
    throw new InvalidArgumentError(`filter is larger than ${FILTER_LIMITS.maxChars} characters of names and values`);
  }
}

function parseObject(raw: Record<string, unknown>, depth: number, budget: FilterBudget): FilterNode {
  if (depth > MAX_FILTER_DEPTH) throw new InvalidArgumentError(`filter is nested too deeply (at most ${MAX_FILTER_DEPTH} levels)`);
  const parts: FilterNode[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) {
        throw new InvalidArgumentError(`filter operator ${key} needs a non-empty array of filters`);
      }
      spend(budget, 1, 0, 0);
      const children = value.map((child) => {
        if (!isPlainObject(child) || Object.keys(child).length === 0) {
          throw new InvalidArgumentError(`each element of ${key} must be a non-empty filter object`);
        }
        return parseObject(child, depth + 1, budget);
      });
      parts.push({ op: key === '$and' ? 'and' : 'or', children });
    } else if (key.startsWith('$')) {
      throw new InvalidArgumentError(`unknown filter operator ${key} at the top level of a filter`);
    } else if (key.length === 0) {
      throw new InvalidArgumentError('filter field names must not be empty');
    } else {
      checkText(key, 'filter field name');
      parts.push(...parseField(key, value, budget));
    }
  }
  return parts.length === 1 ? parts[0]! : { op: 'and', children: parts };
}

function parseField(field: string, raw: unknown, budget: FilterBudget): FilterNode[] {
  if (!isPlainObject(raw)) {
    if (isScalar(raw)) {
      spend(budget, 1, 0, field.length + scalarChars(raw, field));
      return [{ op: 'eq', field, value: raw }];
    }
    throw new InvalidArgumentError(
      `filter value for field "${field}" must be a string, number, boolean or an operator object like {"$in": [...]}`,
    );
  }
  const entries = Object.entries(raw);
  if (entries.length === 0) throw new InvalidArgumentError(`filter for field "${field}" has no operator`);
  return entries.map(([op, value]) => {
    const node = parseOperator(field, op, value);
    const values = node.op === 'in' || node.op === 'nin' ? node.values : 'value' in node ? [node.value] : [];
    let chars = field.length;
    for (const v of values) chars += scalarChars(v, field);
    spend(budget, 1, node.op === 'in' || node.op === 'nin' ? values.length : 0, chars);
    return node;
  });
}

/** Characters a scalar counts for; strings must be well-formed Unicode (as stored metadata must be). */
function scalarChars(value: Scalar, field: string): number {
  if (typeof value !== 'string') return 8;
  checkText(value, `filter value for field "${field}"`);
  return value.length;
}

function checkText(value: string, what: string): void {
  if (!isWellFormedUnicode(value)) throw new InvalidArgumentError(`${what} is not well-formed Unicode (lone UTF-16 surrogate)`);
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
    case 'precomputed':
      return node.test;
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
