// The namespaces of one index, by engine name ("" is the default namespace).
import { filterableFields, type IndexSchema } from '@conifer/contracts';
import { NamespaceStore } from './namespace-store.js';

export class NamespaceCatalog {
  private readonly byName = new Map<string, NamespaceStore>();

  /**
   * `indexSchema`: the index's schema, whose filterable fields get posting lists unless a namespace has its
   * own; `sketched`: namespaces keep int8 sketches of their values (cosine indexes).
   */
  constructor(
    private readonly dimension: number,
    private readonly indexSchema?: IndexSchema,
    private readonly sketched = false,
  ) {}

  get(name: string): NamespaceStore | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The namespace, created empty when missing. */
  obtain(name: string, schema?: IndexSchema): NamespaceStore {
    let ns = this.byName.get(name);
    if (ns === undefined) {
      // Which metadata fields get posting lists: the namespace's schema, else the index's, else all.
      const indexed = filterableFields(schema ?? this.indexSchema);
      ns = new NamespaceStore(this.dimension, indexed === undefined ? undefined : new Set(indexed), schema, this.sketched);
      this.byName.set(name, ns);
    }
    return ns;
  }

  delete(name: string): void {
    this.byName.delete(name);
  }

  entries(): IterableIterator<[string, NamespaceStore]> {
    return this.byName.entries();
  }

  stores(): IterableIterator<NamespaceStore> {
    return this.byName.values();
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  get liveCount(): number {
    let n = 0;
    for (const ns of this.byName.values()) n += ns.liveCount;
    return n;
  }
}
