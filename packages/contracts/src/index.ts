export * from './errors.js';
export * from './data-plane/index.js';
