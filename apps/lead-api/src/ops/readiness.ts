import { Database, MIGRATIONS_TABLE, unappliedMigrations, type MikroORM } from '@lead/db';
import pg from 'pg';

/** Why the instance should get no traffic, or null when it may. */
export type ReadinessCheck = () => Promise<string | null>;

export interface Readiness {
  check: ReadinessCheck;
  close(): Promise<void>;
}

class Timeout extends Error {}

/** pg's own bounds running out (connecting, or a query), which can beat `within` by a hair. */
const isTimeout = (error: unknown) =>
  error instanceof Error && /timeout|timed out/i.test(error.message) && !/ECONNREFUSED/.test(error.message);

function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Timeout()), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/**
 * The readiness check: the database answers within `timeoutMs` and every migration this version
 * ships is applied. It runs on a connection of its own (a pool of one, with the same bound on
 * connecting and on each statement), so a full or stuck request pool cannot hold it up; the
 * answer comes within the bound in any case, and concurrent probes share one check.
 * `orm` instead of a URL: the embedded database, which accepts a single connection, is asked
 * through the service's own pool, still within the bound.
 */
export function databaseReadiness(target: { clientUrl: string } | { orm: MikroORM }, timeoutMs: number): Readiness {
  const pool =
    'clientUrl' in target
      ? new pg.Pool({
          connectionString: target.clientUrl,
          max: 1,
          idleTimeoutMillis: 60_000,
          connectionTimeoutMillis: timeoutMs,
          statement_timeout: timeoutMs,
          lock_timeout: timeoutMs,
          query_timeout: timeoutMs,
          application_name: 'lead-service readiness',
        })
      : undefined;
  // An idle connection the server dropped: the next check opens another.
  pool?.on('error', () => {});
  const query = async (text: string): Promise<Array<Record<string, unknown>>> =>
    pool ? (await pool.query<Record<string, unknown>>(text)).rows : await Database.of((target as { orm: MikroORM }).orm).query(text);

  let migrated = false;
  const probe = async (): Promise<string | null> => {
    await query('select 1');
    // Applied migrations are never unapplied, so once complete this is not asked again.
    if (!migrated) {
      const pending = unappliedMigrations((await query(`select name from ${MIGRATIONS_TABLE}`)).map((r) => r.name));
      if (pending.length) return `${pending.length} migration(s) not applied`;
      migrated = true;
    }
    return null;
  };

  let inFlight: Promise<string | null> | undefined;
  return {
    check() {
      inFlight ??= within(timeoutMs, probe())
        .catch((error: unknown) =>
          error instanceof Timeout || isTimeout(error)
            ? `the database did not answer within ${timeoutMs} ms`
            : 'the database is unreachable',
        )
        .finally(() => (inFlight = undefined));
      return inFlight;
    },
    async close() {
      await pool?.end();
    },
  };
}
