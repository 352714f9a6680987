// The operator console (apps/console, built by Vite to static files) at /console/: a strict
// Content-Security-Policy (scripts, styles and connections from this origin only; no inline script), hashed
// assets cached for a year, index.html never cached (so a new build is picked up at once). The app routes
// with the URL fragment, so every page is /console/ itself.
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { INestApplication } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** apps/console/dist beside this app (same depth from src/ and dist/). */
function consoleDistDir(): string {
  return path.resolve(import.meta.dirname, '../../../console/dist');
}

export async function serveConsole(app: INestApplication, logger: Logger, root = consoleDistDir()): Promise<boolean> {
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  if (!existsSync(path.join(root, 'index.html'))) {
    logger.warn({ root }, 'console not built (npm run build -w @conifer/console): /console is not served');
    return false;
  }
  await fastify.register(fastifyStatic, {
    root,
    prefix: '/console/',
    wildcard: true,
    redirect: false,
    // /console and /console/ are served by the route below.
    index: false,
    cacheControl: false,
    etag: true,
    lastModified: false,
    setHeaders: (response, filePath) => {
      response.header('content-security-policy', CONSOLE_CSP);
      response.header('x-content-type-options', 'nosniff');
      response.header('referrer-policy', 'no-referrer');
      response.header('x-frame-options', 'DENY');
      const immutable = filePath.startsWith(path.join(root, 'assets') + path.sep);
      response.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  // The router ignores trailing slashes: this one route answers /console and /console/ with the app.
  fastify.get('/console', (_request, reply) => reply.sendFile('index.html'));
  return true;
}
