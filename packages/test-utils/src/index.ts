export * from './jest-setup.js';
export * from './ports.js';
export * from './postgres.js';
export * from './redis.js';
export * from './system.js';
export * from './tcp-proxy.js';
export * from './reference.js';
export * from './dataset.js';
