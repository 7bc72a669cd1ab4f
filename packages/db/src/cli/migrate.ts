// `pnpm db:migrate`: applies pending migrations to DATABASE_URL under the migration lock.
import { createOrm } from '../orm.js';
import { migrate } from '../migrate.js';

const clientUrl = process.env.DATABASE_URL;
if (!clientUrl) {
  console.error('DATABASE_URL is required, e.g. DATABASE_URL=postgres://user@host:5432/db pnpm db:migrate');
  process.exit(2);
}
const orm = await createOrm({ clientUrl });
try {
  const { applied } = await migrate(orm, { clientUrl });
  console.log(applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}` : 'database is up to date');
} finally {
  await orm.close();
}
