// The 2026-07 documents API over one durable index: upsert, fetch, list, search, update, delete.
// Documents are the index's records (see document-model.ts), so writes go through the same WAL as
// vectors; full-text search uses the derived BM25 indexes of text-indexes.ts.
import {
  bodyField,
  compileFilter,
  DATA_PLANE_LIMITS,
  decodePaginationToken,
  encodePaginationToken,
  float32ToShortest,
  InvalidArgumentError,
  parseDenseValues,
  parseSparseValues,
  validateId,
  type MetadataPredicate,
  type RecordMetadata,
} from '@conifer/contracts';
import { analyzerFor, reportedScore, sparseDot, TopK, topScores, upperBound, type NamespaceStore, type StoredRecordInput } from '@conifer/engine';
import type { DurableIndex } from '../storage/durable-index.js';
import { checkFieldName, denseValue, documentToRecord, isObject, metadataValue, recordToDocument, sparseValue } from './document-model.js';
import { parseDocumentFilter, type DocumentFilter } from './document-filter.js';
import { documentSchemaOf, type DocumentSchema } from './index-schema.js';
import { parseQueryString, type QueryStringNode } from './query-string.js';
import { textIndexesOf, type TextIndexes } from './text-indexes.js';

type Body = Record<string, unknown>;

const DOCUMENT_LIMITS = {
  maxUpsertDocuments: 1000,
  maxIds: 1000,
  defaultFetchLimit: 100,
  maxFetchLimit: 10_000,
  /** Documents one update or delete by filter may change (each becomes part of one WAL record). */
  maxFilterMatches: 10_000,
  maxQueryBytes: 10 * 1024,
  maxTextTopK: 1000,
} as const;


function asBody(raw: unknown, operation: string): Body {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) throw new InvalidArgumentError(`${operation} body must be a JSON object`);
  return raw;
}

function schemaOf(index: DurableIndex): DocumentSchema {
  const schema = index.settings.schema;
  if (schema === undefined) {
    throw new InvalidArgumentError(
      'this index has no document schema: create it with a schema (API version 2026-07) to use the documents API, or use the vectors API',
    );
  }
  const parsed = documentSchemaOf(schema);
  if (index.settings.vectorType === 'dense' && parsed.dense === undefined) {
    // A vectors-API index whose schema lists only metadata fields: its records need values the documents
    // API could not name.
    throw new InvalidArgumentError('this index has no dense_vector field in its schema: use the vectors API');
  }
  return parsed;
}

function stringList(raw: unknown, what: string): string[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw) || !raw.every((v) => typeof v === 'string')) throw new InvalidArgumentError(`${what} must be a list of strings`);
  return raw as string[];
}

function idList(raw: unknown, what: string): string[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw new InvalidArgumentError(`${what} must be a list of ids`);
  if (raw.length === 0) throw new InvalidArgumentError(`${what} must contain at least one id`);
  if (raw.length > DOCUMENT_LIMITS.maxIds) throw new InvalidArgumentError(`${what} holds ${raw.length} ids; at most ${DOCUMENT_LIMITS.maxIds} are allowed`);
  return raw.map((id, i) => validateId(id, `${what}[${i}]`));
}

function limitOf(raw: unknown, fallback: number, max: number): number {
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1 || raw > max) {
    throw new InvalidArgumentError(`limit must be an integer between 1 and ${max}`);
  }
  return raw;
}

function tokenOf(raw: unknown): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string') throw new InvalidArgumentError('pagination_token must be a string');
  return decodePaginationToken(raw);
}

/** `include_fields`: undefined = the operation's default; `'all'` for ["*"]. */
function includeOf(raw: unknown): ReadonlySet<string> | 'all' | undefined {
  const list = stringList(raw, 'include_fields');
  if (list === undefined || list.length === 0) return undefined;
  if (list.includes('*')) return 'all';
  return new Set(list);
}

/** Document writes of one index run one at a time (updates read, merge and write whole records). */
const writeQueues = new WeakMap<DurableIndex, Promise<unknown>>();
function serialized<T>(index: DurableIndex, work: () => Promise<T>): Promise<T> {
  const previous = writeQueues.get(index) ?? Promise.resolve();
  const next = previous.then(work, work);
  writeQueues.set(
    index,
    next.catch(() => undefined),
  );
  return next;
}

interface Clause {
  readonly type: 'dense_vector' | 'sparse_vector' | 'text' | 'query_string';
  readonly fields: readonly string[];
  readonly query?: string;
  readonly values?: Float32Array;
  readonly sparse?: ReturnType<typeof parseSparseValues>;
}

export class DocumentsService {
  constructor(private readonly index: DurableIndex) {
    textIndexesOf(index); // maintained from the first write on
  }

  private get text(): TextIndexes {
    return textIndexesOf(this.index);
  }

  private ns(namespace: string): NamespaceStore | undefined {
    return this.index.index.namespaces.get(namespace);
  }

  private document(schema: DocumentSchema, ns: NamespaceStore, slot: number, include: ReadonlySet<string> | 'all'): Record<string, unknown> {
    const dim = this.index.settings.dimension ?? 0;
    return recordToDocument(schema, ns.idOf(slot), dim > 0 ? ns.valuesOf(slot) : undefined, ns.sparseOf(slot), ns.metadataOf(slot), include);
  }

  // ---------------------------------------------------------------- upsert

  async upsert(namespace: string, raw: unknown): Promise<{ upserted_count: number }> {
    const schema = schemaOf(this.index);
    const body = asBody(raw, 'upsert');
    const documents = body.documents;
    if (!Array.isArray(documents) || documents.length === 0) throw new InvalidArgumentError('documents must be a non-empty array');
    if (documents.length > DOCUMENT_LIMITS.maxUpsertDocuments) {
      throw new InvalidArgumentError(`${documents.length} documents in one upsert; at most ${DOCUMENT_LIMITS.maxUpsertDocuments} are allowed`);
    }
    const byId = new Map<string, StoredRecordInput>();
    documents.forEach((doc, i) => {
      const record = documentToRecord(schema, this.index.settings.dimension, doc, `documents[${i}]`);
      byId.delete(record.id); // last one wins
      byId.set(record.id, record);
    });
    await serialized(this.index, () => this.index.mutate({ type: 'upsert', namespace, records: [...byId.values()] }));
    return { upserted_count: documents.length };
  }

  // ---------------------------------------------------------------- fetch and list

  fetch(namespace: string, raw: unknown): Record<string, unknown> {
    const schema = schemaOf(this.index);
    const body = asBody(raw, 'fetch');
    const ids = idList(body.ids, 'ids');
    const hasFilter = body.filter !== undefined && body.filter !== null;
    if ((ids === undefined) === !hasFilter) throw new InvalidArgumentError('fetch needs exactly one of ids and filter');
    const include = includeOf(bodyField(body, 'includeFields')) ?? 'all';
    const limit = limitOf(body.limit, DOCUMENT_LIMITS.defaultFetchLimit, DOCUMENT_LIMITS.maxFetchLimit);
    const after = tokenOf(bodyField(body, 'paginationToken'));
    const ns = this.ns(namespace);
    const documents: Record<string, unknown> = {};
    const response: Record<string, unknown> = { documents, namespace: '', usage: { read_units: 1 } };
    if (ids !== undefined) {
      if (after !== undefined) throw new InvalidArgumentError('pagination_token is only valid together with filter');
      if (ns !== undefined) {
        for (const id of ids) {
          const slot = ns.slotOf(id);
          if (slot !== undefined) documents[id] = this.document(schema, ns, slot, include);
        }
      }
      response.usage = { read_units: Math.max(1, Math.ceil(ids.length / 10)) };
      return response;
    }
    const filter = parseDocumentFilter(body.filter, schema, { allowText: false, required: true, operation: 'a fetch by filter' })!;
    if (ns === undefined) return response;
    const predicate = compileFilter(filter.metadata);
    const sorted = ns.sortedIds();
    let i = after === undefined ? 0 : upperBound(sorted, after);
    let last: string | undefined;
    let taken = 0;
    for (; i < sorted.length; i++) {
      const slot = ns.slotOf(sorted[i]!)!;
      if (!predicate(ns.metadataOf(slot))) continue;
      if (taken === limit) {
        response.pagination = { next: encodePaginationToken(last!) };
        break;
      }
      documents[sorted[i]!] = this.document(schema, ns, slot, include);
      last = sorted[i]!;
      taken++;
    }
    return response;
  }

  list(namespace: string, raw: unknown): Record<string, unknown> {
    schemaOf(this.index);
    const body = asBody(raw, 'list');
    const prefix = body.prefix ?? '';
    if (typeof prefix !== 'string') throw new InvalidArgumentError('prefix must be a string');
    const limit = limitOf(body.limit, DATA_PLANE_LIMITS.defaultListLimit, DATA_PLANE_LIMITS.maxListLimit);
    const token = bodyField(body, 'paginationToken');
    if (token !== undefined && token !== null && token !== '' && typeof token !== 'string') {
      throw new InvalidArgumentError('pagination_token must be a string');
    }
    const page = this.index.index.list({ namespace, prefix, limit, ...(typeof token === 'string' && token !== '' ? { after: decodePaginationToken(token) } : {}) });
    const response: Record<string, unknown> = { documents: page.items.map((id) => ({ _id: id })), namespace: '', usage: { read_units: 1 } };
    if (page.after !== undefined) response.pagination = { next: encodePaginationToken(page.after) };
    return response;
  }

  // ---------------------------------------------------------------- search

  private parseClauses(schema: DocumentSchema, raw: unknown): Clause[] {
    if (!Array.isArray(raw) || raw.length === 0) throw new InvalidArgumentError('score_by must be a non-empty array of scoring methods');
    const clauses = raw.map((item, i): Clause => {
      const what = `score_by[${i}]`;
      if (!isObject(item)) throw new InvalidArgumentError(`${what} must be an object`);
      const type = item.type;
      if (type !== 'dense_vector' && type !== 'sparse_vector' && type !== 'text' && type !== 'query_string') {
        throw new InvalidArgumentError(`${what}.type must be one of dense_vector, sparse_vector, text, query_string`);
      }
      const list = stringList(item.fields, `${what}.fields`);
      const single = item.field;
      if (single !== undefined && single !== null && typeof single !== 'string') throw new InvalidArgumentError(`${what}.field must be a string`);
      if (list !== undefined && typeof single === 'string') throw new InvalidArgumentError(`${what}: give either fields or field, not both`);
      const fields = list ?? (typeof single === 'string' ? [single] : []);
      let query: string | undefined;
      if (type === 'text' || type === 'query_string') {
        if (typeof item.query !== 'string') throw new InvalidArgumentError(`${what}.query is required for ${type} scoring`);
        query = item.query.trim();
        if (query.length === 0) throw new InvalidArgumentError(`${what}.query must not be empty`);
        if (Buffer.byteLength(query) > DOCUMENT_LIMITS.maxQueryBytes) throw new InvalidArgumentError(`${what}.query is longer than 10 KB`);
      }
      if (type === 'query_string') {
        if (fields.length > 0) throw new InvalidArgumentError(`${what}: query_string scoring takes no fields (name them in the query)`);
        return { type, fields, query: query! };
      }
      if (fields.length === 0) throw new InvalidArgumentError(`${what}: fields is required for ${type} scoring`);
      if (type !== 'text' && fields.length !== 1) throw new InvalidArgumentError(`${what}: ${type} scoring takes exactly one field`);
      for (const name of fields) {
        const spec = schema.fields.get(name);
        const ok =
          type === 'text'
            ? spec?.kind === 'string' && spec.fullTextSearch !== undefined
            : spec?.kind === type;
        if (!ok) {
          const wanted = type === 'text' ? 'a string field declared with full_text_search' : `a ${type} field`;
          throw new InvalidArgumentError(`${what}: "${name}" is not ${wanted} of the index schema`);
        }
      }
      if (type === 'dense_vector') {
        const values = parseDenseValues(item.values, `${what}.values`);
        const spec = schema.fields.get(fields[0]!);
        if (spec?.kind === 'dense_vector' && values.length !== spec.dimension) {
          throw new InvalidArgumentError(`${what}.values: vector dimension ${values.length} does not match the field's dimension ${spec.dimension}`);
        }
        return { type, fields, values };
      }
      if (type === 'sparse_vector') {
        const sparse = parseSparseValues(bodyField(item, 'sparseValues'), `${what}.sparse_values`);
        return { type, fields, sparse };
      }
      return { type, fields, query: query! };
    });
    if (clauses.length > 1 && clauses.some((c) => c.type === 'dense_vector' || c.type === 'sparse_vector')) {
      throw new InvalidArgumentError('a dense_vector or sparse_vector scoring method must appear on its own in score_by');
    }
    return clauses;
  }

  /** Whether the document at `slot` passes the filter (metadata and text-match conditions). */
  private acceptor(ns: NamespaceStore, namespace: string, filter: DocumentFilter | undefined): (slot: number) => boolean {
    const predicate: MetadataPredicate | undefined = filter?.metadata === undefined ? undefined : compileFilter(filter.metadata);
    const text = (filter?.text ?? []).map((c) => ({ ...c, index: this.text.field(namespace, c.field)! }));
    return (slot) => {
      if (!ns.isLive(slot)) return false;
      if (predicate !== undefined && !predicate(ns.metadataOf(slot))) return false;
      if (text.length === 0) return true;
      const id = ns.idOf(slot);
      for (const c of text) {
        const ok =
          c.operator === '$match_phrase'
            ? c.index.containsPhrase(id, c.terms)
            : c.operator === '$match_all'
              ? c.terms.length > 0 && c.index.containsAll(id, c.terms)
              : c.index.containsAny(id, c.terms);
        if (!ok) return false;
      }
      return true;
    };
  }

  /** Slots worth testing: those holding a text-match filter's terms when there is one, else every slot. */
  private candidateSlots(ns: NamespaceStore, namespace: string, filter: DocumentFilter | undefined): Iterable<number> {
    const first = filter?.text[0];
    if (first === undefined) return { [Symbol.iterator]: () => range(ns.slotCount) };
    const index = this.text.field(namespace, first.field)!;
    const ids = new Set<string>();
    const terms = first.operator === '$match_any' ? first.terms : first.terms.slice(0, 1);
    for (const term of terms) for (const id of index.idsWith(term)) ids.add(id);
    const slots: number[] = [];
    for (const id of ids) {
      const slot = ns.slotOf(id);
      if (slot !== undefined) slots.push(slot);
    }
    return slots;
  }

  search(namespace: string, raw: unknown): Record<string, unknown> {
    const schema = schemaOf(this.index);
    const body = asBody(raw, 'search');
    const clauses = this.parseClauses(schema, bodyField(body, 'scoreBy'));
    const vectorSearch = clauses[0]!.type === 'dense_vector';
    const maxTopK = vectorSearch ? DATA_PLANE_LIMITS.maxTopK : DOCUMENT_LIMITS.maxTextTopK;
    const topK = bodyField(body, 'topK');
    if (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 1 || topK > maxTopK) {
      throw new InvalidArgumentError(`top_k must be an integer between 1 and ${maxTopK}`);
    }
    const include = includeOf(bodyField(body, 'includeFields')) ?? new Set<string>();
    const filter = parseDocumentFilter(body.filter, schema, { allowText: true, required: false, operation: 'search' });
    const response: Record<string, unknown> = { matches: [], namespace: '', usage: { read_units: 1 } };
    const ns = this.ns(namespace);
    if (ns === undefined || ns.liveCount === 0) return response;
    response.usage = { read_units: Math.max(1, Math.ceil(ns.liveCount / 100_000)) };
    let ranked: Array<{ slot: number; score: number }>;
    const clause = clauses[0]!;
    if (clause.type === 'dense_vector') ranked = this.denseSearch(ns, namespace, clause.values!, filter, topK);
    else if (clause.type === 'sparse_vector') ranked = this.sparseSearch(ns, namespace, clause.sparse!, filter, topK);
    else ranked = this.textSearch(schema, ns, namespace, clauses, filter, topK);
    response.matches = ranked.map(({ slot, score }) => {
      const doc = this.document(schema, ns, slot, include);
      const { _id, ...fields } = doc;
      return { _id, _score: Number.isFinite(score) ? float32ToShortest(score) : null, ...fields };
    });
    return response;
  }

  private denseSearch(ns: NamespaceStore, namespace: string, vector: Float32Array, filter: DocumentFilter | undefined, topK: number): Array<{ slot: number; score: number }> {
    const metric = this.index.settings.metric;
    if (filter === undefined || filter.text.length === 0) {
      // The vector index's own planner (ANN, filtered ANN or exact).
      const result = this.index.index.query({
        namespace,
        topK,
        vector,
        includeValues: false,
        includeMetadata: false,
        ...(filter?.metadata === undefined ? {} : { filter: filter.metadata }),
      });
      return result.matches.map((m) => ({ slot: ns.slotOf(m.id)!, score: m.score }));
    }
    // Text-match filters are usually selective: score the documents holding their terms exactly.
    const score = ns.scorer(metric, vector, undefined);
    const accept = this.acceptor(ns, namespace, filter);
    const top = new TopK(topK);
    for (const slot of this.candidateSlots(ns, namespace, filter)) {
      if (!accept(slot)) continue;
      top.push(score(slot), slot);
    }
    return top.sorted().map(({ slot, score }) => ({ slot, score: reportedScore(metric, score) }));
  }

  private sparseSearch(
    ns: NamespaceStore,
    namespace: string,
    sparse: ReturnType<typeof parseSparseValues>,
    filter: DocumentFilter | undefined,
    topK: number,
  ): Array<{ slot: number; score: number }> {
    const accept = this.acceptor(ns, namespace, filter);
    const top = new TopK(topK);
    for (const slot of this.candidateSlots(ns, namespace, filter)) {
      const stored = ns.sparseOf(slot);
      if (stored === undefined || !accept(slot)) continue;
      top.push(sparseDot(sparse, stored), slot);
    }
    return top.sorted();
  }

  private textSearch(
    schema: DocumentSchema,
    ns: NamespaceStore,
    namespace: string,
    clauses: readonly Clause[],
    filter: DocumentFilter | undefined,
    topK: number,
  ): Array<{ slot: number; score: number }> {
    const accept = filter === undefined ? undefined : this.acceptor(ns, namespace, filter);
    const acceptId = accept === undefined ? undefined : (id: string): boolean => accept(ns.slotOf(id) ?? -1);
    const only = clauses[0]!;
    if (clauses.length === 1 && only.type === 'text' && only.fields.length === 1) {
      // One field: the top k straight from the index's score accumulator.
      const index = this.text.field(namespace, only.fields[0]!)!;
      return index.top(index.analyzer.analyze(only.query!), topK, acceptId).map(({ id, score }) => ({ slot: ns.slotOf(id)!, score }));
    }
    const scores = new Map<string, number>();
    for (const clause of clauses) {
      if (clause.type === 'text') {
        for (const field of clause.fields) {
          const index = this.text.field(namespace, field)!;
          index.scoreInto(index.analyzer.analyze(clause.query!), scores, acceptId);
        }
      } else {
        const node = parseQueryString(clause.query!, schema);
        const clauseScores = this.evaluateQueryString(node, namespace, acceptId);
        for (const [id, s] of clauseScores) scores.set(id, (scores.get(id) ?? 0) + s);
      }
    }
    return topScores(scores, topK).map(({ id, score }) => ({ slot: ns.slotOf(id)!, score }));
  }

  /** Scores of the documents matching a query-string tree (BM25 of the matching positive terms). */
  private evaluateQueryString(node: QueryStringNode, namespace: string, accept: ((id: string) => boolean) | undefined): Map<string, number> {
    const index = (field: string) => this.text.field(namespace, field)!;
    const evaluate = (n: QueryStringNode): Map<string, number> => {
      switch (n.kind) {
        case 'terms': {
          const scores = new Map<string, number>();
          const terms = analyzerFor(index(n.field).analyzer.settings).analyze(n.text);
          if (terms.length === 0) return scores;
          const fieldIndex = index(n.field);
          if (n.phrase && terms.length > 1) {
            fieldIndex.scoreInto(terms, scores, (id) => (accept === undefined || accept(id)) && fieldIndex.containsPhrase(id, terms));
          } else {
            fieldIndex.scoreInto(terms, scores, accept);
          }
          if (n.boost !== 1) for (const [id, s] of scores) scores.set(id, s * n.boost);
          return scores;
        }
        case 'or': {
          const out = new Map<string, number>();
          for (const child of n.children) for (const [id, s] of evaluate(child)) out.set(id, (out.get(id) ?? 0) + s);
          return out;
        }
        case 'and': {
          const parts = n.must.map(evaluate);
          const optional = n.should.map(evaluate);
          const excluded = n.not.map(evaluate);
          let out: Map<string, number>;
          if (parts.length > 0) {
            out = new Map(parts[0]!);
            for (const part of parts.slice(1)) {
              for (const id of [...out.keys()]) {
                const s = part.get(id);
                if (s === undefined) out.delete(id);
                else out.set(id, out.get(id)! + s);
              }
            }
            for (const part of optional) for (const [id, s] of part) if (out.has(id)) out.set(id, out.get(id)! + s);
          } else {
            out = new Map();
            for (const part of optional) for (const [id, s] of part) out.set(id, (out.get(id) ?? 0) + s);
          }
          for (const part of excluded) for (const id of part.keys()) out.delete(id);
          return out;
        }
      }
    };
    return evaluate(node);
  }

  // ---------------------------------------------------------------- update and delete

  async update(namespace: string, raw: unknown): Promise<{ matched_records: number }> {
    const schema = schemaOf(this.index);
    const body = asBody(raw, 'update');
    const documents = body.documents;
    const setFields = bodyField(body, 'setFields');
    const removeFields = stringList(bodyField(body, 'removeFields'), 'remove_fields') ?? [];
    const hasFilter = body.filter !== undefined && body.filter !== null;
    if (setFields !== undefined && setFields !== null && !isObject(setFields)) throw new InvalidArgumentError('set_fields must be an object');
    const setEntries = isObject(setFields) ? Object.entries(setFields) : [];
    if (documents !== undefined && documents !== null) {
      if (hasFilter) throw new InvalidArgumentError('documents and filter are mutually exclusive');
      if (setEntries.length > 0 || removeFields.length > 0) throw new InvalidArgumentError('set_fields and remove_fields are only valid together with filter');
      if (!Array.isArray(documents) || documents.length === 0) throw new InvalidArgumentError('documents must be a non-empty array');
      if (documents.length > DOCUMENT_LIMITS.maxUpsertDocuments) {
        throw new InvalidArgumentError(`${documents.length} documents in one update; at most ${DOCUMENT_LIMITS.maxUpsertDocuments} are allowed`);
      }
      const changes = documents.map((doc, i) => {
        const what = `documents[${i}]`;
        if (!isObject(doc)) throw new InvalidArgumentError(`${what} must be an object`);
        const id = validateId(doc._id, `${what}._id`);
        const remove = stringList(doc._remove_fields, `${what}._remove_fields`) ?? [];
        const set = Object.entries(doc).filter(([k]) => k !== '_id' && k !== '_remove_fields');
        return { id, patch: this.patch(schema, set, remove, what) };
      });
      return serialized(this.index, async () => {
        const ns = this.ns(namespace);
        const records = new Map<string, StoredRecordInput>();
        for (const { id, patch } of changes) {
          const current = records.get(id) ?? this.current(ns, id);
          if (current !== undefined) records.set(id, patch(current));
        }
        await this.upsertInChunks(namespace, [...records.values()]);
        return { matched_records: changes.filter((c) => records.has(c.id)).length };
      });
    }
    if (!hasFilter) throw new InvalidArgumentError('update needs documents, or a filter with set_fields or remove_fields');
    const filter = parseDocumentFilter(body.filter, schema, { allowText: false, required: true, operation: 'an update by filter' })!;
    const patch = this.patch(schema, setEntries, removeFields, 'set_fields');
    return serialized(this.index, async () => {
      const ns = this.ns(namespace);
      if (ns === undefined) return { matched_records: 0 };
      const predicate = compileFilter(filter.metadata);
      const slots: number[] = [];
      for (let slot = 0; slot < ns.slotCount; slot++) if (ns.isLive(slot) && predicate(ns.metadataOf(slot))) slots.push(slot);
      if (setEntries.length === 0 && removeFields.length === 0) return { matched_records: slots.length };
      if (slots.length > DOCUMENT_LIMITS.maxFilterMatches) {
        throw new InvalidArgumentError(
          `the filter matches ${slots.length} documents; an update by filter may change at most ${DOCUMENT_LIMITS.maxFilterMatches}`,
        );
      }
      const records = slots.map((slot) => patch(this.current(ns, ns.idOf(slot))!));
      await this.upsertInChunks(namespace, records);
      return { matched_records: records.length };
    });
  }

  /**
   * Logs merged records as upserts of at most ~32 MB each: whole documents are rewritten, and one WAL
   * record must stay far below the log's record-size bound. (A crash between two chunks leaves the
   * first applied: the call was not acknowledged.)
   */
  private async upsertInChunks(namespace: string, records: StoredRecordInput[]): Promise<void> {
    const limit = 32 * 1024 * 1024;
    let chunk: StoredRecordInput[] = [];
    let bytes = 0;
    for (const record of records) {
      const size =
        64 +
        record.id.length * 3 +
        (record.values?.length ?? 0) * 4 +
        (record.sparseValues?.indices.length ?? 0) * 8 +
        (record.metadata === undefined ? 0 : Buffer.byteLength(JSON.stringify(record.metadata)));
      if (chunk.length > 0 && bytes + size > limit) {
        await this.index.mutate({ type: 'upsert', namespace, records: chunk });
        chunk = [];
        bytes = 0;
      }
      chunk.push(record);
      bytes += size;
    }
    if (chunk.length > 0) await this.index.mutate({ type: 'upsert', namespace, records: chunk });
  }

  private current(ns: NamespaceStore | undefined, id: string): StoredRecordInput | undefined {
    const slot = ns?.slotOf(id);
    if (ns === undefined || slot === undefined) return undefined;
    const record: StoredRecordInput = { id };
    if ((this.index.settings.dimension ?? 0) > 0) record.values = ns.valuesOf(slot).slice();
    const sparse = ns.sparseOf(slot);
    if (sparse !== undefined) record.sparseValues = sparse;
    const metadata = ns.metadataOf(slot);
    if (metadata !== undefined) record.metadata = { ...metadata };
    return record;
  }

  /** Validates field changes up front and returns the function applying them to a stored record. */
  private patch(schema: DocumentSchema, set: Array<[string, unknown]>, remove: readonly string[], what: string): (record: StoredRecordInput) => StoredRecordInput {
    const dim = this.index.settings.dimension ?? 0;
    const values: { dense?: Float32Array; sparse?: ReturnType<typeof parseSparseValues> } = {};
    const metadata: RecordMetadata = {};
    for (const [name, value] of set) {
      checkFieldName(name, what);
      if (value === null || value === undefined) throw new InvalidArgumentError(`${what}.${name}: use remove_fields to remove a field`);
      if (name === schema.dense) values.dense = denseValue(schema, name, value, dim, what);
      else if (name === schema.sparse) values.sparse = sparseValue(name, value, what);
      else metadata[name] = metadataValue(schema, name, value, what);
    }
    for (const name of remove) {
      if (name === schema.dense) throw new InvalidArgumentError(`${what}: the dense_vector field "${name}" cannot be removed`);
      if (set.some(([k]) => k === name)) throw new InvalidArgumentError(`${what}: "${name}" is both set and removed`);
    }
    return (record) => {
      const next: StoredRecordInput = { ...record };
      if (values.dense !== undefined) next.values = values.dense;
      if (values.sparse !== undefined) next.sparseValues = values.sparse;
      const md: RecordMetadata = { ...record.metadata, ...metadata };
      for (const name of remove) {
        if (name === schema.sparse) delete next.sparseValues;
        else delete md[name];
      }
      if (Object.keys(md).length > 0) next.metadata = md;
      else delete next.metadata;
      return next;
    };
  }

  async delete(namespace: string, raw: unknown): Promise<{ matched_records: number }> {
    const schema = schemaOf(this.index);
    const body = asBody(raw, 'delete');
    const ids = idList(body.ids, 'ids');
    const deleteAll = bodyField(body, 'deleteAll');
    if (deleteAll !== undefined && deleteAll !== null && typeof deleteAll !== 'boolean') throw new InvalidArgumentError('delete_all must be a boolean');
    const hasFilter = body.filter !== undefined && body.filter !== null;
    const chosen = [ids !== undefined, hasFilter, deleteAll === true].filter(Boolean).length;
    if (chosen !== 1) throw new InvalidArgumentError('delete needs exactly one of ids, filter and delete_all');
    if (ids !== undefined) {
      return { matched_records: await serialized(this.index, () => this.index.mutate({ type: 'deleteIds', namespace, ids })) };
    }
    if (deleteAll === true) {
      return { matched_records: await serialized(this.index, () => this.index.mutate({ type: 'deleteAll', namespace })) };
    }
    const filter = parseDocumentFilter(body.filter, schema, { allowText: false, required: true, operation: 'a delete by filter' })!;
    return { matched_records: await serialized(this.index, () => this.index.mutate({ type: 'deleteByFilter', namespace, filter: filter.metadata! })) };
  }
}

function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}
