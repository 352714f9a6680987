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

export const CONSOLE_CSP = [
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
export function consoleDistDir(): string {
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
    index: ['index.html'],
    wildcard: true,
    redirect: true,
    cacheControl: false,
    etag: true,
    lastModified: false,
    setHeaders: (response, filePath) => {
      const raw = response as unknown as { setHeader(name: string, value: string): void };
      raw.setHeader('content-security-policy', CONSOLE_CSP);
      raw.setHeader('x-content-type-options', 'nosniff');
      raw.setHeader('referrer-policy', 'no-referrer');
      raw.setHeader('x-frame-options', 'DENY');
      const immutable = filePath.startsWith(path.join(root, 'assets') + path.sep);
      raw.setHeader('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  fastify.get('/console', (_request, reply) => {
    void reply.redirect('/console/', 301);
  });
  return true;
}
