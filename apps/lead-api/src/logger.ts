import type { FastifyServerOptions } from 'fastify';
import type { Env } from './env.js';

/**
 * Personal data never reaches the logs: request bodies are never logged, and these paths are
 * censored wherever they would appear, should any code log an object that holds lead data.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.name',
  '*.email',
  '*.phone',
  '*.company',
  '*.message',
  '*.notes',
  '*.description',
  'input',
  '*.input',
  'body',
  '*.body',
];

/** Error fields that are safe to log: database errors carry the SQL and its values in `message`. */
export function safeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const e = error as Error & { code?: unknown; sqlState?: unknown; cause?: unknown };
  const isDriverError = typeof e.sqlState === 'string' || e.constructor.name.endsWith('Exception');
  return {
    type: e.name,
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.sqlState === 'string' ? { sqlState: e.sqlState } : {}),
    // A driver message is "<sql with values> - <postgres message>": keep the last part only.
    // `reason`, not `message`: `*.message` is a redacted path (a lead's message).
    reason: isDriverError ? e.message.split(' - ').pop() : e.message,
    ...(!isDriverError && e.stack ? { stack: e.stack } : {}),
    ...(e.cause !== undefined ? { cause: safeError(e.cause) } : {}),
  };
}

export function loggerOptions(env: Pick<Env, 'LOG_LEVEL'>, stream?: NodeJS.WritableStream): FastifyServerOptions['logger'] {
  return {
    level: env.LOG_LEVEL.toLowerCase(),
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: safeError as never },
    ...(stream ? { stream } : {}),
  };
}
