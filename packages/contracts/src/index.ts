export * from './data-plane/index.js';
export * from './errors.js';
export * from './roles.js';
