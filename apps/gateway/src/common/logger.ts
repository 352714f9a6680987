// Structured logs with pino. Secrets never reach a log line: request logging records method, route,
// status and timing only, and the redaction list covers the headers and fields that carry credentials.
import type { LoggerService } from '@nestjs/common';
import { logOptions } from '@conifer/config';
import { pino, type DestinationStream, type Logger } from 'pino';

export const REDACTED_PATHS = [
  'req.headers["api-key"]',
  'req.headers.authorization',
  'req.headers["x-conifer-internal-token"]',
  'headers["api-key"]',
  'headers.authorization',
  '*.client_secret',
  '*.clientSecret',
  '*.value',
  '*.apiKey',
  '*.password',
];

export function createLogger(level: string, name = 'gateway', destination?: DestinationStream): Logger {
  // The same `time` format and base fields as the vector store's lines.
  return pino({ name, ...logOptions(name, level), redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination);
}

/** Nest's logger interface over pino, so framework messages are structured too. */
/**
 * The logger of the one "request" line per request (reqId, method, route, status, ms: fixed fields, none of them a
 * credential, the request id a validated token): the app's logger without the redaction pass, which costs as much
 * again as writing the line (bench/RESULTS.md, branch s6-gateway-plane). Everything else logs through the redacting one.
 */
export function requestLineLogger(logger: Logger): Logger {
  return logger.child({}, { redact: [] });
}

export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}

export const LOGGER = Symbol('Logger');
