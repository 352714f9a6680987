export * from './databases.js';
export * from './embedded.js';
export * from './migrate.js';
export * from './embedded-access.js';
