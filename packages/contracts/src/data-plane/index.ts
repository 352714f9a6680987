export * from './filter.js';
export * from './float.js';
export * from './metadata.js';
export * from './parsers.js';
export * from './types.js';
export * from './request-fields.js';
export * from './unicode.js';
