export * from './data-plane/index.js';
export * from './errors.js';
export * from './roles.js';
export * from './admin.js';
export * from './internal-api.js';
export * from './control-plane/index.js';
export * from './client-error.js';
export * from './internal-frames.js';
