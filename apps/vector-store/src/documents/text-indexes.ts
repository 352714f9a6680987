// The full-text indexes of one index: per namespace, one BM25 inverted index per string field declared
// with full_text_search. Derived state, never written to disk: built from the stored documents when the
// server starts (after the WAL replay: recovery) and on a namespace's first write, then kept up to date by
// the mutations the durable index applies. Deletes by filter are reconciled against the stored records;
// only a vector-API metadata update by filter that touches a text field drops a namespace's indexes for a
// rebuild on next use.
import { analyzerFor, TextFieldIndex, type Mutation } from '@conifer/engine';
import type { DurableIndex } from '../storage/durable-index.js';
import { documentSchemaOf, type DocumentSchema } from './index-schema.js';

export class TextIndexes {
  private readonly namespaces = new Map<string, Map<string, TextFieldIndex>>();
  private schemaSource: unknown;
  /** Namespaces built from scratch (tests, metrics). */
  builds = 0;

  constructor(private readonly durable: DurableIndex) {
    durable.appliedHooks.push((mutation) => this.onApplied(mutation));
  }

  private schema(): DocumentSchema | undefined {
    const source = this.durable.settings.schema;
    if (source !== this.schemaSource) {
      // The schema grew: fields may have become full-text fields.
      this.namespaces.clear();
      this.schemaSource = source;
    }
    return source === undefined ? undefined : documentSchemaOf(source);
  }

  /** The index of a full-text field in a namespace (undefined when the field is not one). */
  field(namespace: string, field: string): TextFieldIndex | undefined {
    const schema = this.schema();
    if (schema === undefined) return undefined;
    let fields = this.namespaces.get(namespace);
    if (fields === undefined) {
      fields = this.build(schema, namespace);
      this.namespaces.set(namespace, fields);
    }
    return fields.get(field);
  }

  /** Builds every namespace's indexes now (server start). */
  buildAll(): void {
    const schema = this.schema();
    if (schema === undefined || schema.text.length === 0) return;
    for (const namespace of this.durable.index.namespaces.names()) {
      if (!this.namespaces.has(namespace)) this.namespaces.set(namespace, this.build(schema, namespace));
    }
  }

  private build(schema: DocumentSchema, namespace: string): Map<string, TextFieldIndex> {
    this.builds++;
    const fields = new Map<string, TextFieldIndex>();
    for (const name of schema.text) {
      const spec = schema.fields.get(name);
      if (spec?.kind === 'string' && spec.fullTextSearch !== undefined) fields.set(name, new TextFieldIndex(analyzerFor(spec.fullTextSearch)));
    }
    const ns = this.durable.index.namespaces.get(namespace);
    if (ns === undefined) return fields;
    for (let slot = 0; slot < ns.slotCount; slot++) {
      if (!ns.isLive(slot)) continue;
      const metadata = ns.metadataOf(slot);
      if (metadata === undefined) continue;
      for (const [name, index] of fields) {
        const text = metadata[name];
        if (typeof text === 'string') index.set(ns.idOf(slot), text);
      }
    }
    return fields;
  }

  private reindex(fields: Map<string, TextFieldIndex>, namespace: string, id: string): void {
    const ns = this.durable.index.namespaces.get(namespace);
    const slot = ns?.slotOf(id);
    const metadata = slot === undefined ? undefined : ns!.metadataOf(slot);
    for (const [name, index] of fields) {
      const text = metadata?.[name];
      index.set(id, typeof text === 'string' ? text : undefined);
    }
  }

  private onApplied(m: Mutation): void {
    let fields = this.namespaces.get(m.namespace);
    if (fields === undefined) {
      // First write to a namespace: index it whole now (it includes this mutation), not on a search.
      const schema = this.schema();
      if (schema === undefined || schema.text.length === 0 || m.type === 'deleteNamespace') return;
      fields = this.build(schema, m.namespace);
      this.namespaces.set(m.namespace, fields);
      return;
    }
    switch (m.type) {
      case 'upsert':
        for (const record of m.records) this.reindex(fields, m.namespace, record.id);
        return;
      case 'update':
        this.reindex(fields, m.namespace, m.id);
        return;
      case 'deleteIds':
        for (const id of m.ids) for (const index of fields.values()) index.remove(id);
        return;
      case 'createNamespace':
        return;
      case 'deleteByFilter': {
        const ns = this.durable.index.namespaces.get(m.namespace);
        for (const index of fields.values()) {
          for (const id of [...index.ids()]) if (ns?.slotOf(id) === undefined) index.remove(id);
        }
        return;
      }
      case 'deleteAll': {
        for (const [name, index] of fields) fields.set(name, new TextFieldIndex(index.analyzer));
        return;
      }
      case 'updateByFilter': {
        if (Object.keys(m.setMetadata).some((key) => fields.has(key))) this.namespaces.delete(m.namespace);
        return;
      }
      case 'deleteNamespace':
        this.namespaces.delete(m.namespace);
    }
  }
}

const states = new WeakMap<DurableIndex, TextIndexes>();

export function textIndexesOf(durable: DurableIndex): TextIndexes {
  let state = states.get(durable);
  if (state === undefined) {
    state = new TextIndexes(durable);
    states.set(durable, state);
  }
  return state;
}
