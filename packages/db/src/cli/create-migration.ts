// Writes a migration for the difference between the entities and the committed migrations.
// Usage: pnpm --filter @lead/db run migration:create [name]
//
// It migrates a scratch database to the newest committed migration and diffs the entities
// against that real schema, so no snapshot file is needed (one would conflict between branches
// that each add a migration). Add the new migration to migrations/names.ts and migrations/index.ts
// afterwards.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { migrate, migratorOf } from '../migrate.js';
import { ormConfig } from '../orm.js';

const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const name = process.argv[2];
const scratch = `lead_migration_${randomBytes(4).toString('hex')}`;
const scratchUrl = Object.assign(new URL(server), { pathname: `/${scratch}` }).toString();
const dir = fileURLToPath(new URL('../migrations', import.meta.url));

const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`create database "${scratch}"`);
try {
  const base = ormConfig({ clientUrl: scratchUrl });
  const orm = await MikroORM.init({
    ...base,
    migrations: { ...base.migrations, path: dir, pathTs: dir, emit: 'ts', snapshot: false },
  });
  try {
    await migrate(orm, { clientUrl: scratchUrl, lock: false });
    const result = await (await migratorOf(orm)).createMigration(dir, false, false, name);
    console.log(result.fileName ? `wrote src/migrations/${result.fileName}: add it to src/migrations/names.ts and index.ts` : 'no changes');
  } finally {
    await orm.close();
  }
} finally {
  await admin.query(`drop database if exists "${scratch}" with (force)`);
  await admin.end();
}
