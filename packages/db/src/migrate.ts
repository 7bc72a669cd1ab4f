import type { Migrator } from '@mikro-orm/migrations';
import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { migrationNames } from './migrations/names.js';

// An arbitrary constant that names "the lead schema's migrations" among advisory locks.
const MIGRATION_LOCK_KEY = 7_150_245_001;

/** Where MikroORM records the applied migrations, each in the transaction that applied it. */
export const MIGRATIONS_TABLE = 'lead.mikro_orm_migrations';

/** This version's migrations missing from `applied`, the names the migrations table holds. */
export function unappliedMigrations(applied: Iterable<unknown>): string[] {
  const names = new Set(Array.from(applied, String));
  return migrationNames.filter((name) => !names.has(name));
}

// The `lead` schema or the migrations table is missing: nothing has been applied yet.
const NOTHING_APPLIED = new Set(['3F000', '42P01']);

/**
 * This version's migrations the database at `clientUrl` has not applied, asked on a connection
 * of its own without a lock: a name is recorded in the same transaction as its migration, so one
 * read is a safe answer when nothing is pending, which is every start after the first. Only a
 * database with something pending is worth an ORM instance for the migrator and the lock.
 */
export async function pendingMigrations(clientUrl: string): Promise<string[]> {
  // Bounded like every wait: the database answered a moment ago (start-up waits for it first).
  const client = new pg.Client({
    connectionString: clientUrl,
    application_name: 'lead-service migrate check',
    connectionTimeoutMillis: 10_000,
    query_timeout: 10_000,
  });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(`select name from ${MIGRATIONS_TABLE}`);
    return unappliedMigrations(rows.map((r) => r.name));
  } catch (error) {
    if (NOTHING_APPLIED.has((error as { code?: string }).code ?? '')) return [...migrationNames];
    throw error;
  } finally {
    await client.end();
  }
}

/**
 * The migrator of `orm`, with this version's migrations. They and `@mikro-orm/migrations` load
 * here, when first asked for: a start with nothing pending, every start after the first, loads
 * neither.
 */
export async function migratorOf(orm: MikroORM): Promise<Migrator> {
  const [{ Migrator }, { migrationsList }] = await Promise.all([import('@mikro-orm/migrations'), import('./migrations/index.js')]);
  orm.config.set('migrations', { ...orm.config.get('migrations'), migrationsList });
  Migrator.register(orm);
  return orm.migrator as Migrator;
}

export interface MigrateResult {
  applied: string[];
}

/**
 * Applies pending migrations. MikroORM's migrator takes no lock, so two instances starting at
 * once could both apply the same migration; a session advisory lock held on a connection of its
 * own serialises them, and the second finds nothing pending. `lock: false` is for a database no
 * other process can reach (the embedded one, which also accepts a single connection).
 */
export async function migrate(orm: MikroORM, options: { clientUrl: string; lock?: boolean }): Promise<MigrateResult> {
  const run = async () => {
    const applied = await (await migratorOf(orm)).up();
    return { applied: applied.map((m) => m.name) };
  };
  if (options.lock === false) return run();

  const client = new pg.Client({ connectionString: options.clientUrl, application_name: 'lead-service migrate lock' });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    return await run();
  } finally {
    // Closing the session releases the lock even if unlocking fails.
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    await client.end();
  }
}
