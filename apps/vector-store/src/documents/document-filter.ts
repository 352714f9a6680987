// Filters of the documents API: the data-plane metadata filter, plus the text-match operators on
// full-text-search fields (`{"body":{"$match_phrase":"machine learning"}}`, `$match_all`, `$match_any`).
// Text-match conditions are accepted at the top level of the filter or inside a top-level `$and`.
import { InvalidArgumentError, parseFilter, type FilterNode } from '@conifer/contracts';
import { analyzerFor } from '@conifer/engine';
import { isObject } from './document-model.js';
import type { DocumentSchema } from './index-schema.js';

type TextMatchOperator = '$match_phrase' | '$match_all' | '$match_any';
const TEXT_OPERATORS: ReadonlySet<string> = new Set(['$match_phrase', '$match_all', '$match_any']);

interface TextCondition {
  readonly field: string;
  readonly operator: TextMatchOperator;
  /** The query text, analysed as the field is. */
  readonly terms: readonly string[];
}

export interface DocumentFilter {
  readonly metadata?: FilterNode;
  readonly text: readonly TextCondition[];
}

function mentionsTextOperator(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(mentionsTextOperator);
  if (!isObject(value)) return false;
  return Object.entries(value).some(([k, v]) => TEXT_OPERATORS.has(k) || mentionsTextOperator(v));
}

/**
 * Reads a documents-API filter. `allowText` is false where Pinecone selects on metadata alone (update,
 * delete, fetch); `required` refuses a missing or empty filter.
 */
export function parseDocumentFilter(
  raw: unknown,
  schema: DocumentSchema,
  options: { allowText: boolean; required: boolean; operation: string },
): DocumentFilter | undefined {
  if (raw === undefined || raw === null || (isObject(raw) && Object.keys(raw).length === 0)) {
    if (options.required) throw new InvalidArgumentError(`filter must not be empty in ${options.operation}`);
    return undefined;
  }
  if (!isObject(raw)) throw new InvalidArgumentError('filter must be a JSON object');
  if (!mentionsTextOperator(raw)) {
    const metadata = parseFilter(raw);
    return metadata === undefined ? { text: [] } : { metadata, text: [] };
  }
  if (!options.allowText) {
    throw new InvalidArgumentError(
      `text-match operators ($match_phrase, $match_all, $match_any) are not supported in ${options.operation}: documents are selected on metadata alone`,
    );
  }
  const conjuncts: Record<string, unknown>[] = [];
  const flatten = (node: Record<string, unknown>): void => {
    const keys = Object.keys(node);
    if (keys.length === 1 && keys[0] === '$and') {
      const list = node.$and;
      if (!Array.isArray(list) || list.length === 0) throw new InvalidArgumentError('$and must be a non-empty array');
      for (const item of list) {
        if (!isObject(item)) throw new InvalidArgumentError('$and must hold filter objects');
        flatten(item);
      }
      return;
    }
    for (const key of keys) conjuncts.push({ [key]: node[key] });
  };
  flatten(raw);
  const text: TextCondition[] = [];
  const rest: Record<string, unknown>[] = [];
  for (const conjunct of conjuncts) {
    const [field, condition] = Object.entries(conjunct)[0]!;
    if (!isObject(condition) || !Object.keys(condition).some((k) => TEXT_OPERATORS.has(k))) {
      if (mentionsTextOperator(condition)) {
        throw new InvalidArgumentError('text-match operators are supported at the top level of the filter or inside $and, not under $or');
      }
      rest.push(conjunct);
      continue;
    }
    const operators = Object.keys(condition);
    if (operators.length !== 1) throw new InvalidArgumentError(`filter.${field}: a text-match operator must be the only operator on its field`);
    const operator = operators[0] as TextMatchOperator;
    const spec = schema.fields.get(field);
    if (spec?.kind !== 'string' || spec.fullTextSearch === undefined) {
      throw new InvalidArgumentError(`filter.${field}: ${operator} needs a string field declared with full_text_search`);
    }
    const query = condition[operator];
    if (typeof query !== 'string' || query.trim().length === 0) {
      throw new InvalidArgumentError(`filter.${field}.${operator} must be a non-empty string`);
    }
    text.push({ field, operator, terms: analyzerFor(spec.fullTextSearch).analyze(query) });
  }
  const metadata = rest.length === 0 ? undefined : parseFilter(rest.length === 1 ? rest[0] : { $and: rest });
  return metadata === undefined ? { text } : { metadata, text };
}
