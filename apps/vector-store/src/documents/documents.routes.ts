// Routes of the 2026-07 documents API under /internal/indexes/:indexId/namespaces/:namespace/documents/*.
// Responses name the namespace as the client sent it in the path.
import { normalizeNamespace } from '@conifer/contracts';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { DurableIndex } from '../storage/durable-index.js';
import { DocumentsService } from './documents.service.js';
import { textIndexesOf } from './text-indexes.js';

type Params = { indexId: string; namespace: string };

/**
 * Registers the routes and builds the full-text indexes of the indexes already loaded (recovery: the
 * stored documents are analysed once at start, not on the first search).
 */
export function registerDocumentRoutes(app: FastifyInstance, indexOf: (id: string) => DurableIndex, loaded: readonly DurableIndex[]): void {
  for (const index of loaded) if (index.settings.schema !== undefined) textIndexesOf(index).buildAll();
  const prefix = '/internal/indexes/:indexId/namespaces/:namespace/documents';
  const run = (work: (service: DocumentsService, namespace: string, body: unknown) => unknown | Promise<unknown>, writes = false) =>
    async (request: { params: Params; body: unknown }, reply: FastifyReply): Promise<unknown> => {
      const index = indexOf(request.params.indexId);
      const service = new DocumentsService(index);
      const namespace = normalizeNamespace(request.params.namespace);
      const response = await work(service, namespace, request.body);
      // A documents write may log several entries; all are applied here before it answers, so the sequence
      // applied now covers them (read-your-writes on other replicas, as for the vector routes).
      if (writes) void reply.header('x-conifer-log-seq', String(index.log.appliedSeq));
      if (typeof response === 'object' && response !== null && 'namespace' in response) {
        (response as { namespace: string }).namespace = request.params.namespace;
      }
      return response;
    };
  app.post<{ Params: Params }>(`${prefix}/upsert`, run((s, ns, body) => s.upsert(ns, body), true));
  app.post<{ Params: Params }>(`${prefix}/fetch`, run((s, ns, body) => s.fetch(ns, body)));
  app.post<{ Params: Params }>(`${prefix}/list`, run((s, ns, body) => s.list(ns, body)));
  app.post<{ Params: Params }>(`${prefix}/search`, run((s, ns, body) => s.search(ns, body)));
  app.post<{ Params: Params }>(`${prefix}/update`, run((s, ns, body) => s.update(ns, body), true));
  app.post<{ Params: Params }>(`${prefix}/delete`, run((s, ns, body) => s.delete(ns, body), true));
}
