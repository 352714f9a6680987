export * from './api-version.js';
export * from './index-schema.js';
export * from './vector-settings.js';
