// @conifer/engine: search structures as a plain library (no HTTP, no disk).
export * from './text/index.js';
