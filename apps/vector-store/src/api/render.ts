// Wire shapes of the data plane, rendered from the engine's results: JSON number arrays for float32
// values, read units, pagination tokens, "__default__" and the snake_case namespace fields.
import {
  decodePaginationToken,
  displayNamespace,
  encodePaginationToken,
  float32ArrayToJson,
  float32ToShortest,
  type DescribeIndexStatsResponse,
  type FetchByMetadataRequest,
  type FetchByMetadataResponse,
  type FetchResponse,
  type ListNamespacesRequest,
  type ListNamespacesResponse,
  type ListRequest,
  type ListResponse,
  type NamespaceDescription,
  type ParsedSparseValues,
  type PineconeRecord,
  type QueryRequest,
  type QueryResponse,
  type ScoredPineconeRecord,
} from '@conifer/contracts';
import type {
  EngineRecord,
  FetchByMetadataInput,
  FetchResult,
  IndexSettings,
  ListInput,
  NamespaceSummary,
  Page,
  QueryResult,
  StatsResult,
} from '@conifer/engine';

function sparseToJson(sv: ParsedSparseValues): { indices: number[]; values: number[] } {
  return { indices: Array.from(sv.indices), values: float32ArrayToJson(sv.values) };
}

function renderRecord(record: EngineRecord): PineconeRecord {
  const out: PineconeRecord = { id: record.id, values: record.values === undefined ? [] : float32ArrayToJson(record.values) };
  if (record.sparseValues !== undefined) out.sparseValues = sparseToJson(record.sparseValues);
  if (record.metadata !== undefined) out.metadata = record.metadata;
  return out;
}

export function renderQuery(result: QueryResult, request: QueryRequest): QueryResponse {
  const matches = result.matches.map((m) => {
    const match: ScoredPineconeRecord = { id: m.id, score: float32ToShortest(m.score) };
    if (request.includeValues) {
      match.values = m.values === undefined ? [] : float32ArrayToJson(m.values);
      if (m.sparseValues !== undefined) match.sparseValues = sparseToJson(m.sparseValues);
    }
    if (request.includeMetadata && m.metadata !== undefined) match.metadata = m.metadata;
    return match;
  });
  return { matches, namespace: request.namespace, usage: { readUnits: Math.max(1, Math.ceil(result.namespaceSize / 100_000)) } };
}

export function renderFetch(result: FetchResult, namespace: string, requestedIds: number): FetchResponse {
  const vectors: Record<string, PineconeRecord> = {};
  for (const record of result.records) vectors[record.id] = renderRecord(record);
  return { vectors, namespace, usage: { readUnits: Math.max(1, Math.ceil(requestedIds / 10)) } };
}

export function fetchByMetadataInput(request: FetchByMetadataRequest): FetchByMetadataInput {
  const input: FetchByMetadataInput = { namespace: request.namespace, limit: request.limit };
  if (request.filter !== undefined) input.filter = request.filter;
  if (request.paginationToken !== undefined) input.after = decodePaginationToken(request.paginationToken);
  return input;
}

export function renderFetchByMetadata(page: Page<EngineRecord>, namespace: string): FetchByMetadataResponse {
  const vectors: Record<string, PineconeRecord> = {};
  for (const record of page.items) vectors[record.id] = renderRecord(record);
  const response: FetchByMetadataResponse = { vectors, namespace, usage: { readUnits: 1 } };
  if (page.after !== undefined) response.pagination = { next: encodePaginationToken(page.after) };
  return response;
}

export function listInput(request: ListRequest): ListInput {
  const input: ListInput = { namespace: request.namespace, prefix: request.prefix, limit: request.limit };
  if (request.paginationToken !== undefined) input.after = decodePaginationToken(request.paginationToken);
  return input;
}

export function renderList(page: Page<string>, namespace: string): ListResponse {
  const response: ListResponse = { vectors: page.items.map((id) => ({ id })), namespace, usage: { readUnits: 1 } };
  if (page.after !== undefined) response.pagination = { next: encodePaginationToken(page.after) };
  return response;
}

export function renderStats(stats: StatsResult, settings: IndexSettings): DescribeIndexStatsResponse {
  const namespaces: Record<string, { vectorCount: number }> = {};
  for (const ns of stats.namespaces) namespaces[ns.name] = { vectorCount: ns.recordCount };
  const response: DescribeIndexStatsResponse = {
    namespaces,
    indexFullness: 0,
    totalVectorCount: stats.total,
    metric: settings.metric,
    vectorType: settings.vectorType,
  };
  if (settings.dimension !== null) response.dimension = settings.dimension;
  return response;
}

export function renderNamespace(summary: NamespaceSummary): NamespaceDescription {
  return {
    name: displayNamespace(summary.name),
    record_count: summary.recordCount,
    ...(summary.schema === undefined ? {} : { schema: summary.schema }),
    ...(summary.indexedFields === undefined ? {} : { indexed_fields: { fields: summary.indexedFields } }),
  };
}

/** Namespaces ordered, filtered by prefix and paged by the names clients see ("__default__" included). */
export function renderListNamespaces(summaries: NamespaceSummary[], request: ListNamespacesRequest): ListNamespacesResponse {
  const shown = summaries
    .map(renderNamespace)
    .filter((ns) => ns.name.startsWith(request.prefix))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const after = request.paginationToken === undefined ? undefined : decodePaginationToken(request.paginationToken);
  let start = 0;
  if (after !== undefined) while (start < shown.length && shown[start]!.name <= after) start++;
  const page = shown.slice(start, start + request.limit);
  const response: ListNamespacesResponse = { namespaces: page, total_count: shown.length };
  if (start + request.limit < shown.length) response.pagination = { next: encodePaginationToken(page[page.length - 1]!.name) };
  return response;
}
