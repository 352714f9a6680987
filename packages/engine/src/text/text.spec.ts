import { describe, expect, it } from '@jest/globals';
import { Analyzer, analyzerFor, DEFAULT_TEXT_ANALYSIS, isSupportedLanguage } from './analyzer.js';
import { bm25BruteForce, TextFieldIndex, topScores } from './bm25.js';

describe('Analyzer', () => {
  it('splits on word boundaries and lowercases, without stemming by default', () => {
    expect(new Analyzer(DEFAULT_TEXT_ANALYSIS).analyze('Black-throated Blue WARBLER, migrating!')).toEqual([
      'black',
      'throated',
      'blue',
      'warbler',
      'migrating',
    ]);
  });
  it('follows UAX #29 word rules: joins across . and apostrophes, splits hyphens, segments unspaced scripts', () => {
    const plain = new Analyzer(DEFAULT_TEXT_ANALYSIS);
    expect(plain.analyze("Don't use e.g. state-of-the-art (v2.5) café_au_lait!")).toEqual([
      "don't",
      'use',
      'e.g',
      'state',
      'of',
      'the',
      'art',
      'v2.5',
      'café_au_lait',
    ]);
    const segmenter = new Intl.Segmenter('ja', { granularity: 'word' });
    const expected = [...segmenter.segment('東京都に住む')].filter((s) => s.isWordLike).map((s) => s.segment);
    expect(expected.length).toBeGreaterThan(1);
    expect(new Analyzer({ language: 'en', stemming: false, stopWords: false }).analyze('Tokyo 東京都に住む')).toEqual(['tokyo', ...expected]);
  });
  it('stems and removes stop words in the field language', () => {
    const en = analyzerFor({ language: 'en', stemming: true, stopWords: true });
    expect(en.analyze('The birds are migrating to the south')).toEqual(['bird', 'migrat', 'south']);
    const de = analyzerFor({ language: 'de', stemming: true, stopWords: false });
    expect(de.analyze('Häuser')).toEqual(['haus']);
  });
  it('keeps stop words when only stemming is asked', () => {
    expect(analyzerFor({ language: 'en', stemming: true, stopWords: false }).analyze('the runs')).toEqual(['the', 'run']);
  });
  it('knows its languages', () => {
    expect(isSupportedLanguage('en')).toBe(true);
    expect(isSupportedLanguage('xx')).toBe(false);
    expect(() => new Analyzer({ language: 'xx', stemming: false, stopWords: false })).toThrow(RangeError);
  });
});

describe('TextFieldIndex', () => {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa'];
  let seed = 7;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const text = (): string => Array.from({ length: 1 + Math.floor(rand() * 30) }, () => words[Math.floor(rand() ** 2 * words.length)]).join(' ');

  it('scores exactly as the brute-force BM25, through updates and removals', () => {
    const analyzer = analyzerFor(DEFAULT_TEXT_ANALYSIS);
    const index = new TextFieldIndex(analyzer);
    const docs = new Map<string, string[]>();
    for (let i = 0; i < 300; i++) {
      const t = text();
      index.set(`d${i}`, t);
      docs.set(`d${i}`, analyzer.analyze(t));
    }
    for (let i = 0; i < 100; i += 3) {
      index.remove(`d${i}`);
      docs.delete(`d${i}`);
      const t = text();
      index.set(`d${i + 1}`, t);
      docs.set(`d${i + 1}`, analyzer.analyze(t));
    }
    for (const query of [['kappa'], ['iota', 'theta'], ['alpha', 'kappa', 'kappa'], ['missing']]) {
      const got = new Map<string, number>();
      index.scoreInto(query, got);
      const want = bm25BruteForce(docs, query);
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [id, s] of want) expect(got.get(id)).toBeCloseTo(s, 9);
      expect(topScores(got, 10).map((m) => m.id)).toEqual(topScores(want, 10).map((m) => m.id));
      expect(index.top(query, 10).map((m) => m.id)).toEqual(topScores(want, 10).map((m) => m.id));
      const even = (id: string): boolean => Number(id.slice(1)) % 2 === 0;
      const wantEven = new Map([...want].filter(([id]) => even(id)));
      expect(index.top(query, 5, even).map((m) => m.id)).toEqual(topScores(wantEven, 5).map((m) => m.id));
    }
    expect(index.documentCount).toBe(docs.size);
  });

  it('ranks a rarer and more frequent term higher, and restricts by accept', () => {
    const index = new TextFieldIndex(analyzerFor(DEFAULT_TEXT_ANALYSIS));
    index.set('a', 'red fox red fox');
    index.set('b', 'red dog');
    index.set('c', 'blue whale');
    const scores = new Map<string, number>();
    index.scoreInto(['red', 'fox'], scores);
    expect(topScores(scores, 3).map((m) => m.id)).toEqual(['a', 'b']);
    const only = new Map<string, number>();
    index.scoreInto(['red'], only, (id) => id !== 'a');
    expect([...only.keys()]).toEqual(['b']);
  });

  it('matches phrases, all and any terms', () => {
    const index = new TextFieldIndex(analyzerFor(DEFAULT_TEXT_ANALYSIS));
    index.set('a', 'machine learning models');
    index.set('b', 'learning machine');
    expect(index.containsPhrase('a', ['machine', 'learning'])).toBe(true);
    expect(index.containsPhrase('b', ['machine', 'learning'])).toBe(false);
    expect(index.containsAll('b', ['machine', 'learning'])).toBe(true);
    expect(index.containsAny('b', ['models', 'learning'])).toBe(true);
    expect(index.containsAny('b', ['models'])).toBe(false);
    index.set('a', undefined);
    expect(index.has('a')).toBe(false);
    expect(index.documentFrequency('models')).toBe(0);
  });
});

describe('topScores', () => {
  it('returns the k best, highest first, ties by id', () => {
    const scores = new Map<string, number>();
    for (let i = 0; i < 500; i++) scores.set(`d${i}`, (i * 7919) % 101);
    const want = [...scores].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
    expect(topScores(scores, 10)).toEqual(want.slice(0, 10));
    expect(topScores(scores, 0)).toEqual([]);
    expect(topScores(new Map([['a', 1]]), 5)).toEqual([{ id: 'a', score: 1 }]);
  });
});
