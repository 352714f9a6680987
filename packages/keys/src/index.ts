export * from './api-key.js';
export * from './base62.js';
export * from './client-credentials.js';
export * from './derived-keys.js';
