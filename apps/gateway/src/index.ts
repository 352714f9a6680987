// The gateway's package entry (`@conifer/gateway`) for tools that build the application in-process, such as
// the key-verification benchmark: the app factory `main.ts` uses, the logger, and the key-verification
// pipeline's parts (to drive a verifier directly, or assemble one without Redis). The service itself starts
// from main.ts (`npm start`, `node dist/main.js`).
export { createGatewayApp } from './app.js';
export { KeyCache } from './auth/key-cache.js';
export { ApiKeysRepository } from './auth/api-keys.repository.js';
export { KeyVerifier, VerificationStatus } from './auth/key-verifier.js';
export { RateLimiter } from './auth/rate-limiter.js';
export { createLogger } from './common/logger.js';
