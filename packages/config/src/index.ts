export * from './config.js';
export * from './secrets.js';
export * from './trusted-proxies.js';
export * from './logging.js';
