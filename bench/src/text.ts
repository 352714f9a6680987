// Full-text search (BM25) through the gateway: the 2026-07 documents API on a synthetic corpus with a Zipf
// vocabulary, against a brute-force BM25 written here (no inverted index, every document scored), so the
// recall figure checks Conifer's inverted index and scoring, not the reference's.
import { rng } from '@conifer/test-utils';

export interface TextDocument {
  id: string;
  tokens: string[];
  bucket: number;
}

export interface Scored {
  id: string;
  score: number;
}

const K1 = 1.2;
const B = 0.75;

/** Pseudo-words made of syllables: ASCII lowercase, no stop words, unchanged by the tokeniser. */
function vocabulary(size: number, random: () => number): string[] {
  const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'po', 'da', 'fu', 'gi', 'ha', 'je', 'wu'];
  const words = new Set<string>();
  while (words.size < size) {
    const n = 2 + Math.floor(random() * 3);
    let w = '';
    for (let i = 0; i < n; i++) w += syllables[Math.floor(random() * syllables.length)];
    words.add(w);
  }
  return [...words];
}

/** A corpus of n documents of 10–120 words drawn from a Zipf(1.07) distribution over the vocabulary. */
export function makeCorpus({ n, vocabularySize = 20_000, seed = 7 }: { n: number; vocabularySize?: number; seed?: number }): {
  docs: TextDocument[];
  queries: (count: number) => string[][];
} {
  const random = rng(seed);
  const words = vocabulary(vocabularySize, random);
  const cumulative = new Float64Array(words.length);
  let total = 0;
  for (let i = 0; i < words.length; i++) cumulative[i] = total += 1 / (i + 1) ** 1.07;
  const draw = () => {
    const x = random() * total;
    let lo = 0;
    let hi = words.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return words[lo]!;
  };
  const docs: TextDocument[] = [];
  for (let j = 0; j < n; j++) {
    const length = 10 + Math.floor(random() * 111);
    const tokens = Array.from({ length }, draw);
    docs.push({ id: `d${j}`, tokens, bucket: j % 10 });
  }
  /** Queries of 1–3 words of middling frequency (ranks 20–2000), as users type them. */
  const queries = (count: number): string[][] =>
    Array.from({ length: count }, () => {
      const k = 1 + Math.floor(random() * 3);
      return Array.from({ length: k }, () => words[20 + Math.floor(random() ** 2 * 1980)]!);
    });
  return { docs, queries };
}

/** Brute-force BM25 top-k over the documents passing `accept` (Lucene's idf, k1 1.2, b 0.75). */
export function bruteForceTopK(docs: TextDocument[], query: string[], k: number, accept: (d: TextDocument) => boolean = () => true): Scored[] {
  const pool = docs.filter(accept);
  const n = docs.length;
  let totalLength = 0;
  for (const d of docs) totalLength += d.tokens.length;
  const avg = totalLength / n;
  const weights = new Map<string, number>();
  for (const t of query) weights.set(t, (weights.get(t) ?? 0) + 1);
  const idf = new Map<string, number>();
  for (const t of weights.keys()) {
    let df = 0;
    for (const d of docs) if (d.tokens.includes(t)) df++;
    idf.set(t, Math.log(1 + (n - df + 0.5) / (df + 0.5)));
  }
  const scored: Scored[] = [];
  for (const d of pool) {
    let s = 0;
    for (const [t, w] of weights) {
      let tf = 0;
      for (const x of d.tokens) if (x === t) tf++;
      if (tf > 0) s += (idf.get(t)! * w * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * d.tokens.length) / avg));
    }
    if (s > 0) scored.push({ id: d.id, score: s });
  }
  scored.sort((a, b) => b.score - a.score);
  return scored.slice(0, k);
}

/**
 * recall@k with ties: a returned id counts when the reference ranks it in its top k, or when its reference
 * score equals the k-th reference score (equal scores may be ordered either way).
 */
export function textRecall(expected: Scored[], got: { _id: string; _score: number }[], k: number): number {
  if (expected.length === 0) return got.length === 0 ? 1 : 0;
  const kth = expected[Math.min(k, expected.length) - 1]!.score;
  const top = new Set(expected.map((e) => e.id));
  let hits = 0;
  for (const m of got) if (top.has(m._id) || Math.abs(m._score - kth) < 1e-4 * kth) hits++;
  return Math.min(1, hits / Math.min(k, expected.length));
}
