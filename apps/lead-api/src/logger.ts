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

/** A SQLSTATE: five digits or capital letters, e.g. `23505`, `57P01`. */
const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * The SQLSTATE of an error the database server sent. `pg`'s DatabaseError carries it as `code`
 * beside the server's `severity`, and so does MikroORM's DriverException, which copies the
 * fields of the `pg` error it wraps; other drivers name it `sqlState`. Errors that never reached
 * a server have none (a refused socket's `code` is e.g. `ECONNREFUSED`, with no severity).
 */
export function sqlStateOf(error: Error): string | undefined {
  const { code, sqlState, severity } = error as { code?: unknown; sqlState?: unknown; severity?: unknown };
  if (typeof sqlState === 'string') return sqlState;
  return typeof code === 'string' && SQLSTATE.test(code) && typeof severity === 'string' ? code : undefined;
}

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
 * The request as each request's log lines show it, without its query string: a search term
 * (`q`) or a tRPC query's `input` holds personal data.
 */
function safeRequest(req: { method: string; url: string; host?: string; ip?: string; socket?: { remotePort?: number } }) {
  const query = req.url.indexOf('?');
  return {
    method: req.method,
    url: query === -1 ? req.url : `${req.url.slice(0, query)}?[redacted]`,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

export function loggerOptions(env: Pick<Env, 'LOG_LEVEL'>, stream?: NodeJS.WritableStream): FastifyServerOptions['logger'] {
  return {
    level: env.LOG_LEVEL.toLowerCase(),
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: safeError as never, req: safeRequest },
    ...(stream ? { stream } : {}),
  };
}
