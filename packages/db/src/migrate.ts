import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { migrationsList } from './migrations/index.js';

// An arbitrary constant that names "the lead schema's migrations" among advisory locks.
const MIGRATION_LOCK_KEY = 7_150_245_001;

/** The migrations this version ships, by the name the migrations table records. */
export const migrationNames: readonly string[] = migrationsList.map((m) => m.name);

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
    const applied = await orm.getMigrator().up();
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
