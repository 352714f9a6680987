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

export class TextFieldIndex {
  /** term → document id → term frequency */
  private readonly postings = new Map<string, Map<string, number>>();
  /** document id → its terms in order (phrase matching, removal) */
  private readonly tokens = new Map<string, string[]>();
  private totalLength = 0;

  constructor(readonly analyzer: Analyzer) {}

  get documentCount(): number {
    return this.tokens.size;
  }

  get averageLength(): number {
    return this.tokens.size === 0 ? 0 : this.totalLength / this.tokens.size;
  }

  has(id: string): boolean {
    return this.tokens.has(id);
  }

  /** Indexes (or re-indexes) a document's text; undefined removes the document. */
  set(id: string, text: string | undefined): void {
    this.remove(id);
    if (text === undefined) return;
    const terms = this.analyzer.analyze(text);
    this.tokens.set(id, terms);
    this.totalLength += terms.length;
    const tf = termWeights(terms);
    for (const [term, n] of tf) {
      let posting = this.postings.get(term);
      if (posting === undefined) {
        posting = new Map();
        this.postings.set(term, posting);
      }
      posting.set(id, n);
    }
  }

  remove(id: string): void {
    const terms = this.tokens.get(id);
    if (terms === undefined) return;
    this.tokens.delete(id);
    this.totalLength -= terms.length;
    for (const term of new Set(terms)) {
      const posting = this.postings.get(term);
      if (posting === undefined) continue;
      posting.delete(id);
      if (posting.size === 0) this.postings.delete(term);
    }
  }

  documentFrequency(term: string): number {
    return this.postings.get(term)?.size ?? 0;
  }

  /**
   * Adds the BM25 score of every document containing at least one of the query terms (OR semantics)
   * to `scores`. `accept` restricts the documents considered (filters).
   */
  scoreInto(queryTerms: readonly string[], scores: Map<string, number>, accept?: (id: string) => boolean): void {
    const n = this.documentCount;
    if (n === 0) return;
    const avg = this.averageLength;
    for (const [term, weight] of termWeights(queryTerms)) {
      const posting = this.postings.get(term);
      if (posting === undefined) continue;
      const idf = bm25Idf(n, posting.size) * weight;
      for (const [id, tf] of posting) {
        if (accept !== undefined && !accept(id)) continue;
        const length = this.tokens.get(id)!.length;
        const s = (idf * tf * (BM25_K1 + 1)) / (tf + BM25_K1 * (1 - BM25_B + (BM25_B * length) / avg));
        scores.set(id, (scores.get(id) ?? 0) + s);
      }
    }
  }

  /** Ids of the documents containing the term. */
  idsWith(term: string): Iterable<string> {
    return this.postings.get(term)?.keys() ?? [];
  }

  /** Whether the document's text contains every term / any term / the terms as a consecutive phrase. */
  containsAll(id: string, terms: readonly string[]): boolean {
    return terms.every((t) => this.postings.get(t)?.has(id) === true);
  }

  containsAny(id: string, terms: readonly string[]): boolean {
    return terms.some((t) => this.postings.get(t)?.has(id) === true);
  }

  containsPhrase(id: string, terms: readonly string[]): boolean {
    if (terms.length === 0) return false;
    if (!this.containsAll(id, terms)) return false;
    const doc = this.tokens.get(id)!;
    outer: for (let i = 0; i + terms.length <= doc.length; i++) {
      for (let j = 0; j < terms.length; j++) if (doc[i + j] !== terms[j]) continue outer;
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

/** The k best (id, score) pairs, highest first; ties broken by id for a stable order. A bounded heap. */
export function topScores(scores: ReadonlyMap<string, number>, k: number): Array<{ id: string; score: number }> {
  const heap: Array<{ id: string; score: number }> = [];
  const up = (i: number): void => {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!below(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  };
  const down = (i: number): void => {
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
  };
  for (const [id, score] of scores) {
    const entry = { id, score };
    if (heap.length < k) {
      heap.push(entry);
      up(heap.length - 1);
    } else if (k > 0 && below(heap[0]!, entry)) {
      heap[0] = entry;
      down(0);
    }
  }
  return heap.sort((a, b) => (below(a, b) ? 1 : below(b, a) ? -1 : 0));
}
