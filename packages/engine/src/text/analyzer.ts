// The text-analysis pipeline of a full-text-search field: Unicode word segmentation, lowercasing, a token
// length cap, optional stop-word removal and optional Snowball stemming in the field's language. The same
// pipeline analyses documents and queries. Segmentation follows UAX #29's word rules: runs of letters, marks
// and digits, joined across . ' ’ between two of them ("e.g", "don't"), split on hyphens and other
// punctuation; text in scripts written without spaces (Han, Kana, Thai, Lao, Khmer, Myanmar) goes through
// the runtime's Intl.Segmenter (ICU's dictionary-based UAX #29), which is ten times slower than the regex.
import { LANGUAGES } from './languages.js';

/** The `full_text_search` settings of a `string` field (2026-07 schema, defaults applied). */
export interface TextAnalysisSettings {
  /** ISO 639-1 code; see SUPPORTED_LANGUAGES. */
  readonly language: string;
  readonly stemming: boolean;
  /** Remove the language's stop words (only with stemming, as at Pinecone). */
  readonly stopWords: boolean;
}

export const DEFAULT_TEXT_ANALYSIS: TextAnalysisSettings = { language: 'en', stemming: false, stopWords: false };

/** Tokens longer than this (in UTF-16 units) are dropped, as Lucene's standard analyzer does. */
export const MAX_TOKEN_LENGTH = 255;

export const SUPPORTED_LANGUAGES: readonly string[] = Object.keys(LANGUAGES).sort();

export function isSupportedLanguage(code: string): boolean {
  return Object.hasOwn(LANGUAGES, code);
}

const WORD = /[\p{L}\p{M}\p{N}\p{Pc}]+(?:[.'’][\p{L}\p{M}\p{N}\p{Pc}]+)*/gu;
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;

export class Analyzer {
  private readonly segmenter: Intl.Segmenter;
  private readonly stem: ((word: string) => string) | undefined;
  private readonly stopWords: ReadonlySet<string> | undefined;

  constructor(readonly settings: TextAnalysisSettings) {
    const language = LANGUAGES[settings.language];
    if (language === undefined) throw new RangeError(`unsupported language "${settings.language}"`);
    this.segmenter = new Intl.Segmenter(settings.language, { granularity: 'word' });
    this.stem = settings.stemming ? language.stem : undefined;
    this.stopWords = settings.stemming && settings.stopWords ? new Set(language.stopWords) : undefined;
  }

  /** The terms of a text, in order (repeats kept). */
  analyze(text: string): string[] {
    const out: string[] = [];
    for (const match of text.matchAll(WORD)) {
      const word = match[0];
      if (UNSPACED.test(word)) {
        for (const segment of this.segmenter.segment(word)) if (segment.isWordLike) this.push(segment.segment, out);
      } else {
        this.push(word, out);
      }
    }
    return out;
  }

  private push(word: string, out: string[]): void {
    let token = word.toLowerCase();
    if (token.length > MAX_TOKEN_LENGTH) return;
    if (this.stopWords?.has(token)) return;
    if (this.stem !== undefined) token = this.stem(token);
    if (token.length > 0) out.push(token);
  }
}

const cache = new Map<string, Analyzer>();

/** A shared analyzer for these settings (analyzers are stateless). */
export function analyzerFor(settings: TextAnalysisSettings): Analyzer {
  const key = `${settings.language}|${settings.stemming ? 1 : 0}|${settings.stopWords ? 1 : 0}`;
  let analyzer = cache.get(key);
  if (analyzer === undefined) {
    analyzer = new Analyzer(settings);
    cache.set(key, analyzer);
  }
  return analyzer;
}
