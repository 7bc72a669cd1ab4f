import { sqlStateOf } from '@lead/db';
import type { FastifyServerOptions } from 'fastify';
import { pino, type DestinationStream } from 'pino';
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

/**
 * The server's own message of a database error, without the values that come with it. `detail`
 * (`Key (email)=(…) already exists`), `where` and the parameters are never read. knex puts the
 * statement, values inlined, before the message ("<sql> - <message>"), and MikroORM appends
 * `detail` and `hint` after it. A data exception (class 22) quotes the value it refused
 * (`invalid input syntax for type uuid: "…"`), so its quoted part is dropped.
 */
function serverMessage(e: Error & { detail?: unknown; hint?: unknown }, sqlState: string | undefined): string {
  const appended = [
    ['detail', e.detail],
    ['hint', e.hint],
  ]
    .map(([name, value]) => (typeof value === 'string' && value.trim() ? `\n - ${String(name)}: ${value}` : ''))
    .join('');
  const message = appended && e.message.endsWith(appended) ? e.message.slice(0, -appended.length) : e.message;
  const own = message.split(' - ').pop()!;
  return sqlState?.startsWith('22') ? own.replace(/".*"/s, '"[redacted]"') : own;
}

/**
 * Error fields that are safe to log. A database error is logged as its SQLSTATE and the
 * server's message only, without a stack (which repeats the full message).
 */
export function safeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const e = error as Error & { code?: unknown; cause?: unknown };
  const sqlState = sqlStateOf(e);
  const isDatabaseError = sqlState !== undefined || e.constructor.name.endsWith('Exception');
  return {
    type: e.name,
    ...(sqlState !== undefined ? { sqlState } : typeof e.code === 'string' ? { code: e.code } : {}),
    // `reason`, not `message`: `*.message` is a redacted path (a lead's message).
    reason: isDatabaseError ? serverMessage(e, sqlState) : e.message,
    ...(!isDatabaseError && e.stack ? { stack: e.stack } : {}),
    ...(e.cause !== undefined ? { cause: safeError(e.cause) } : {}),
  };
}

/**
 * A request as logged: method, path and client, never the query string, whose values can hold
 * personal data (a tRPC query's `input`, a filter by e-mail).
 */
export function requestSummary(req: {
  method: string;
  url: string;
  ip?: string;
  socket?: { remotePort?: number };
}): Record<string, unknown> {
  const queryAt = req.url.indexOf('?');
  return {
    method: req.method,
    url: queryAt === -1 ? req.url : `${req.url.slice(0, queryAt)}?[redacted]`,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

export function loggerOptions(env: Pick<Env, 'LOG_LEVEL'>, stream?: DestinationStream): FastifyServerOptions['logger'] {
  return {
    level: env.LOG_LEVEL.toLowerCase(),
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: safeError as never, req: requestSummary },
    ...(stream ? { stream } : {}),
  };
}

/** Bytes of log lines gathered before they are written, and how long a line waits at most. */
const LOG_BUFFER_BYTES = 4096;
const LOG_FLUSH_MS = 100;

/**
 * Standard output for the request log, written in batches: lines gather until there are
 * `LOG_BUFFER_BYTES` of them, or for `LOG_FLUSH_MS` at most, so that a busy service writes a few
 * times per second instead of once per request (a write per line was 5 % of a request's CPU,
 * bench/README.md "Session 11"). What is left is written when the process exits, also on
 * `process.exit`; a process killed outright (SIGKILL) loses at most the last `LOG_FLUSH_MS`.
 * Each batch is written synchronously, as pino writes by default: handed to libuv's thread pool
 * instead, each write woke a thread (3 % of a read's server CPU in session 13's profile), and a
 * reader that stopped reading would let the unwritten lines pile up in memory.
 */
export function batchedStdout(): DestinationStream {
  const destination = pino.destination({ dest: 1, minLength: LOG_BUFFER_BYTES, sync: true });
  setInterval(() => destination.flush(), LOG_FLUSH_MS).unref();
  // pino flushes only an asynchronous destination at exit by itself.
  process.once('exit', () => destination.flushSync());
  return destination;
}
