// An in-memory inverted index over one text field of one namespace, scored with Okapi BM25 as Lucene
// does (k1 = 1.2, b = 0.75, idf = ln(1 + (N − n + 0.5) / (n + 0.5)), N = documents with the field).
// Documents are keyed by their id, so the index survives slot compaction in the record store; it is
// derived state, rebuilt from the stored documents when missing.
import type { Analyzer } from './analyzer.js';

export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

export function bm25Idf(documentCount: number, documentFrequency: number): number {
  return Math.log(1 + (documentCount - documentFrequency + 0.5) / (documentFrequency + 0.5));
}

/** Query terms with their multiplicity (a repeated query term counts each time, as in Lucene). */
export function termWeights(terms: readonly string[]): Map<string, number> {
  const weights = new Map<string, number>();
  for (const t of terms) weights.set(t, (weights.get(t) ?? 0) + 1);
  return weights;
}

/** A growable list of (document number, term frequency) pairs. */
class Postings {
  docs = new Int32Array(4);
  tfs = new Uint16Array(4);
  length = 0;
  /** Live documents holding the term (entries of removed documents stay until compaction). */
  df = 0;

  push(doc: number, tf: number): void {
    if (this.length === this.docs.length) {
      const docs = new Int32Array(this.length * 2);
      docs.set(this.docs);
      this.docs = docs;
      const tfs = new Uint16Array(this.length * 2);
      tfs.set(this.tfs);
      this.tfs = tfs;
    }
    this.docs[this.length] = doc;
    this.tfs[this.length] = Math.min(tf, 0xffff);
    this.length++;
  }
}

/**
 * Terms and documents are numbered; postings are typed arrays appended to; a re-indexed or removed
 * document leaves dead entries that scoring skips until a compaction (when the dead outnumber the live)
 * renumbers everything. Scores are accumulated in a typed array over document numbers.
 */
export class TextFieldIndex {
  private readonly termIds = new Map<string, number>();
  private postings: Postings[] = [];
  private readonly docNumbers = new Map<string, number>();
  private docIds: (string | undefined)[] = [];
  /** Term ids of each document in order (undefined: removed). */
  private docTerms: (Int32Array | undefined)[] = [];
  private liveDocs = 0;
  private totalLength = 0;
  private accumulator = new Float64Array(0);

  constructor(readonly analyzer: Analyzer) {}

  get documentCount(): number {
    return this.liveDocs;
  }

  get averageLength(): number {
    return this.liveDocs === 0 ? 0 : this.totalLength / this.liveDocs;
  }

  has(id: string): boolean {
    return this.docNumbers.has(id);
  }

  /** Ids of the indexed documents. */
  ids(): IterableIterator<string> {
    return this.docNumbers.keys();
  }

  private termId(term: string): number {
    let id = this.termIds.get(term);
    if (id === undefined) {
      id = this.postings.length;
      this.termIds.set(term, id);
      this.postings.push(new Postings());
    }
    return id;
  }

  /** Indexes (or re-indexes) a document's text; undefined removes the document. */
  set(id: string, text: string | undefined): void {
    this.remove(id);
    if (text === undefined) return;
    const terms = this.analyzer.analyze(text);
    const ids = new Int32Array(terms.length);
    for (let i = 0; i < terms.length; i++) ids[i] = this.termId(terms[i]!);
    this.add(id, ids);
  }

  private add(id: string, terms: Int32Array): void {
    const doc = this.docIds.length;
    this.docIds.push(id);
    this.docTerms.push(terms);
    this.docNumbers.set(id, doc);
    this.liveDocs++;
    this.totalLength += terms.length;
    const sorted = terms.slice().sort();
    for (let i = 0; i < sorted.length; ) {
      let j = i + 1;
      while (j < sorted.length && sorted[j] === sorted[i]) j++;
      const postings = this.postings[sorted[i]!]!;
      postings.push(doc, j - i);
      postings.df++;
      i = j;
    }
  }

  remove(id: string): void {
    const doc = this.docNumbers.get(id);
    if (doc === undefined) return;
    const terms = this.docTerms[doc]!;
    this.docNumbers.delete(id);
    this.docIds[doc] = undefined;
    this.docTerms[doc] = undefined;
    this.liveDocs--;
    this.totalLength -= terms.length;
    for (const term of new Set(terms)) this.postings[term]!.df--;
    if (this.docIds.length > 64 && this.docIds.length > 2 * this.liveDocs) this.compact();
  }

  /** Renumbers the live documents and rebuilds the postings without dead entries. */
  private compact(): void {
    const live: Array<[string, Int32Array]> = [];
    for (let doc = 0; doc < this.docIds.length; doc++) {
      const id = this.docIds[doc];
      if (id !== undefined) live.push([id, this.docTerms[doc]!]);
    }
    this.docIds = [];
    this.docTerms = [];
    this.docNumbers.clear();
    this.postings = this.postings.map(() => new Postings());
    this.liveDocs = 0;
    this.totalLength = 0;
    for (const [id, terms] of live) this.add(id, terms);
  }

  documentFrequency(term: string): number {
    const id = this.termIds.get(term);
    return id === undefined ? 0 : this.postings[id]!.df;
  }

  /** Accumulates BM25 scores over document numbers; returns the documents touched (reset with `release`). */
  private accumulate(queryTerms: readonly string[]): number[] {
    const touched: number[] = [];
    const n = this.liveDocs;
    if (n === 0) return touched;
    const avg = this.averageLength;
    if (this.accumulator.length < this.docIds.length) this.accumulator = new Float64Array(Math.max(this.docIds.length, this.accumulator.length * 2));
    const acc = this.accumulator;
    for (const [term, weight] of termWeights(queryTerms)) {
      const id = this.termIds.get(term);
      if (id === undefined) continue;
      const postings = this.postings[id]!;
      if (postings.df === 0) continue;
      const idf = bm25Idf(n, postings.df) * weight;
      const { docs, tfs, length } = postings;
      for (let i = 0; i < length; i++) {
        const doc = docs[i]!;
        const terms = this.docTerms[doc];
        if (terms === undefined) continue;
        const tf = tfs[i]!;
        if (acc[doc] === 0) touched.push(doc);
        acc[doc] += (idf * tf * (BM25_K1 + 1)) / (tf + BM25_K1 * (1 - BM25_B + (BM25_B * terms.length) / avg));
      }
    }
    return touched;
  }

  /**
   * Adds the BM25 score of every document containing at least one of the query terms (OR semantics)
   * to `scores`. `accept` restricts the documents considered (filters).
   */
  scoreInto(queryTerms: readonly string[], scores: Map<string, number>, accept?: (id: string) => boolean): void {
    for (const doc of this.accumulate(queryTerms)) {
      const s = this.accumulator[doc]!;
      this.accumulator[doc] = 0;
      const id = this.docIds[doc]!;
      if (accept !== undefined && !accept(id)) continue;
      scores.set(id, (scores.get(id) ?? 0) + s);
    }
  }

  /** The k best documents for the query (one field alone), highest first, ties by id. */
  top(queryTerms: readonly string[], k: number, accept?: (id: string) => boolean): Array<{ id: string; score: number }> {
    const heap = new TopHeap(k);
    for (const doc of this.accumulate(queryTerms)) {
      const s = this.accumulator[doc]!;
      this.accumulator[doc] = 0;
      const id = this.docIds[doc]!;
      if (heap.wouldKeep(id, s) && (accept === undefined || accept(id))) heap.push(id, s);
    }
    return heap.sorted();
  }

  /** Ids of the documents containing the term. */
  *idsWith(term: string): Iterable<string> {
    const id = this.termIds.get(term);
    if (id === undefined) return;
    const postings = this.postings[id]!;
    for (let i = 0; i < postings.length; i++) {
      const doc = this.docIds[postings.docs[i]!];
      if (doc !== undefined) yield doc;
    }
  }

  private termsOf(id: string): Int32Array | undefined {
    const doc = this.docNumbers.get(id);
    return doc === undefined ? undefined : this.docTerms[doc];
  }

  private idsOf(terms: readonly string[]): number[] | undefined {
    const out: number[] = [];
    for (const t of terms) {
      const id = this.termIds.get(t);
      if (id === undefined) return undefined;
      out.push(id);
    }
    return out;
  }

  /** Whether the document's text contains every term / any term / the terms as a consecutive phrase. */
  containsAll(id: string, terms: readonly string[]): boolean {
    const doc = this.termsOf(id);
    const wanted = this.idsOf(terms);
    return doc !== undefined && wanted !== undefined && wanted.every((t) => doc.includes(t));
  }

  containsAny(id: string, terms: readonly string[]): boolean {
    const doc = this.termsOf(id);
    if (doc === undefined) return false;
    return terms.some((t) => {
      const termId = this.termIds.get(t);
      return termId !== undefined && doc.includes(termId);
    });
  }

  containsPhrase(id: string, terms: readonly string[]): boolean {
    if (terms.length === 0) return false;
    const doc = this.termsOf(id);
    const wanted = this.idsOf(terms);
    if (doc === undefined || wanted === undefined) return false;
    outer: for (let i = 0; i + wanted.length <= doc.length; i++) {
      for (let j = 0; j < wanted.length; j++) if (doc[i + j] !== wanted[j]) continue outer;
      return true;
    }
    return false;
  }
}

/**
 * Brute-force BM25 over analysed documents (tests and the bench's recall reference): no inverted index,
 * every document scored from its token list.
 */
export function bm25BruteForce(documents: ReadonlyMap<string, readonly string[]>, queryTerms: readonly string[]): Map<string, number> {
  const n = documents.size;
  const scores = new Map<string, number>();
  if (n === 0) return scores;
  let total = 0;
  for (const terms of documents.values()) total += terms.length;
  const avg = total / n;
  const weights = termWeights(queryTerms);
  const df = new Map<string, number>();
  for (const term of weights.keys()) {
    let count = 0;
    for (const terms of documents.values()) if (terms.includes(term)) count++;
    df.set(term, count);
  }
  for (const [id, terms] of documents) {
    let s = 0;
    for (const [term, weight] of weights) {
      const tf = terms.filter((t) => t === term).length;
      if (tf === 0) continue;
      s += (bm25Idf(n, df.get(term)!) * weight * tf * (BM25_K1 + 1)) / (tf + BM25_K1 * (1 - BM25_B + (BM25_B * terms.length) / avg));
    }
    if (s > 0) scores.set(id, s);
  }
  return scores;
}

/** Whether a ranks below b: lower score, or the same score and a later id (ties broken by id). */
function below(a: { id: string; score: number }, b: { id: string; score: number }): boolean {
  return a.score < b.score || (a.score === b.score && a.id > b.id);
}

/** A bounded min-heap keeping the k best (id, score) pairs. */
class TopHeap {
  private readonly heap: Array<{ id: string; score: number }> = [];
  constructor(private readonly k: number) {}

  wouldKeep(id: string, score: number): boolean {
    if (this.k <= 0) return false;
    return this.heap.length < this.k || below(this.heap[0]!, { id, score });
  }

  push(id: string, score: number): void {
    const heap = this.heap;
    const entry = { id, score };
    if (heap.length < this.k) {
      heap.push(entry);
      let i = heap.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!below(heap[i]!, heap[parent]!)) break;
        [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
        i = parent;
      }
      return;
    }
    if (!this.wouldKeep(id, score)) return;
    heap[0] = entry;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && below(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && below(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  }

  sorted(): Array<{ id: string; score: number }> {
    return [...this.heap].sort((a, b) => (below(a, b) ? 1 : below(b, a) ? -1 : 0));
  }
}

/** The k best (id, score) pairs, highest first; ties broken by id for a stable order. */
export function topScores(scores: ReadonlyMap<string, number>, k: number): Array<{ id: string; score: number }> {
  const heap = new TopHeap(k);
  for (const [id, score] of scores) heap.push(id, score);
  return heap.sorted();
}
