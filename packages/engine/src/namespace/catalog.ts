// The namespaces of one index, by engine name ("" is the default namespace).
import { NamespaceStore } from './namespace-store.js';

export class NamespaceCatalog {
  private readonly byName = new Map<string, NamespaceStore>();

  constructor(private readonly dimension: number) {}

  get(name: string): NamespaceStore | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The namespace, created empty when missing. */
  obtain(name: string): NamespaceStore {
    let ns = this.byName.get(name);
    if (ns === undefined) {
      ns = new NamespaceStore(this.dimension);
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
