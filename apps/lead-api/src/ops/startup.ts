import { createServer } from 'node:net';
import pg from 'pg';

/** A reason not to start, told in one line: the process exits 1 with it. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** Host, port, database and user of a `postgres://` URL; never its password. */
export function describeDatabase(url: string): { host: string; port: number; database: string; user: string } {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    database: decodeURIComponent(u.pathname.slice(1)) || decodeURIComponent(u.username) || 'postgres',
    user: decodeURIComponent(u.username) || 'postgres',
  };
}

/** SQLSTATEs and error codes no retry will change: the configuration is wrong. */
const AUTH_FAILED = /^28/;
const TLS_PROBLEM = /SSL|TLS|certificate/i;
const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_|CERT_)/;

interface Logger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/**
 * Waits for the database at `url` to accept a connection, retrying with backoff (0.25 s
 * doubling to 5 s) for up to `timeoutMs`, one log line per failed attempt naming the host and
 * database. A database that does not exist, refused credentials and TLS problems are not
 * waited for. Never creates anything.
 */
export async function waitForDatabase(url: string, opts: { timeoutMs: number; connectTimeoutMs: number; log: Logger }): Promise<void> {
  const where = describeDatabase(url);
  const target = `${where.host}:${where.port}`;
  const started = Date.now();
  for (let attempt = 1, delay = 250; ; attempt++, delay = Math.min(delay * 2, 5_000)) {
    const client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: opts.connectTimeoutMs,
      application_name: 'lead-service start',
    });
    client.on('error', () => {});
    let reason: string;
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      if (attempt > 1) opts.log.info({ ...where, attempt }, 'database reachable');
      return;
    } catch (error) {
      await client.end().catch(() => {});
      const e = error as Error & { code?: string };
      if (e.code === '3D000') {
        throw new StartupError(
          `database "${where.database}" does not exist on ${target}: create it first (the service never creates a database)`,
        );
      }
      if (e.code && AUTH_FAILED.test(e.code)) {
        throw new StartupError(
          `the database on ${target} refused user "${where.user}" for database "${where.database}" (SQLSTATE ${e.code}): check DATABASE_URL's user and password`,
        );
      }
      if ((e.code && TLS_CODES.test(e.code)) || (!e.code && TLS_PROBLEM.test(e.message))) {
        throw new StartupError(
          `TLS to the database on ${target} failed (${e.code ?? e.message}): check sslmode and certificates in DATABASE_URL`,
        );
      }
      reason = e.code ?? (/timeout/i.test(e.message) ? 'connect timeout' : e.name);
    }
    const elapsed = Date.now() - started;
    if (elapsed + delay > opts.timeoutMs) {
      throw new StartupError(
        `database "${where.database}" on ${target} unreachable (${reason}) after ${attempt} attempt(s) over ${Math.round(elapsed / 1000)} s (DB_START_TIMEOUT_MS=${opts.timeoutMs})`,
      );
    }
    opts.log.warn({ ...where, attempt, reason, retryInMs: delay }, 'database unreachable; retrying');
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/**
 * Fails when the service could not listen on `host:port`, before any migration runs: in use,
 * not permitted, or an address this machine does not have. Port 0 always works.
 */
export async function assertCanListen(host: string, port: number, what = 'PORT'): Promise<void> {
  if (port === 0) return;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: Error & { code?: string }) => {
      const why =
        error.code === 'EADDRINUSE'
          ? 'is already in use'
          : error.code === 'EACCES'
            ? 'may not be used by this user'
            : error.code === 'EADDRNOTAVAIL'
              ? 'is not an address of this machine'
              : `cannot be listened on (${error.code ?? error.message})`;
      reject(new StartupError(`${what}: ${host}:${port} ${why}`));
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}
