export * from './api-version.js';
export * from './index-schema.js';
