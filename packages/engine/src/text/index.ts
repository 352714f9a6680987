export * from './analyzer.js';
export * from './bm25.js';
export { LANGUAGES, type LanguageSupport } from './languages.js';
