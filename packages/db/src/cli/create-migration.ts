// Writes a migration for the difference between the entities and the last snapshot.
// Usage: DATABASE_URL=postgres://… pnpm --filter @lead/db migration:create
import { fileURLToPath } from 'node:url';

import { MikroORM } from '@mikro-orm/postgresql';
import { ormConfig } from '../orm.js';

const clientUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dir = fileURLToPath(new URL('../migrations', import.meta.url));
const base = ormConfig({ clientUrl });
const orm = await MikroORM.init({
  ...base,
  migrations: { ...base.migrations, migrationsList: undefined, path: dir, pathTs: dir, emit: 'ts', snapshot: true, snapshotName: 'schema-snapshot' },
});
try {
  const result = await orm.getMigrator().createMigration(dir, false, false);
  console.log(result.fileName ? `wrote ${result.fileName}` : 'no changes');
} finally {
  await orm.close();
}

