// What both apps' log lines share: JSON (pino) with `time` as an ISO-8601 UTC string (not epoch milliseconds),
// `level`, `service` and `msg`. Plain options so this package needs no logger dependency.

/** pino `timestamp` option: `,"time":"2026-12-05T18:00:00.000Z"` (the same as pino.stdTimeFunctions.isoTime). */
export const isoLogTime = (): string => `,"time":"${new Date().toISOString()}"`;

/** Base pino options of a Conifer process. */
export function logOptions(service: string, level: string): { level: string; base: { service: string }; timestamp: () => string } {
  return { level, base: { service }, timestamp: isoLogTime };
}
