import { createOrm, ENUMERATION_DOMAINS, migrate, MIGRATIONS_TABLE, pendingMigrations, type MikroORM } from '@lead/db';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase, databaseUrl, dropDatabase } from './support/database.js';

const created: string[] = [];
afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

/** A fresh, empty database of this file's own (dropped after the file). */
async function emptyDatabase(): Promise<string> {
  const name = await createDatabase();
  created.push(name);
  return databaseUrl(name);
}

/** Runs `check` against a database migrated from empty to the newest migration. */
async function withMigratedDatabase(check: (orm: MikroORM) => Promise<void>): Promise<void> {
  const clientUrl = await emptyDatabase();
  const orm = await createOrm({ clientUrl });
  try {
    await migrate(orm, { clientUrl });
    await check(orm);
  } finally {
    await orm.close();
  }
}

describe('migrations', () => {
  it('two instances migrating an empty database at once apply each migration exactly once', async () => {
    const clientUrl = await emptyDatabase();
    const orms = await Promise.all([createOrm({ clientUrl }), createOrm({ clientUrl })]);
    try {
      const results = await Promise.all(orms.map((orm) => migrate(orm, { clientUrl })));
      const applied = results.flatMap((r) => r.applied);
      expect(applied).toHaveLength(new Set(applied).size);
      expect(applied.length).toBeGreaterThan(0);
      expect(results.some((r) => r.applied.length === 0)).toBe(true);
    } finally {
      await Promise.all(orms.map((orm) => orm.close()));
    }
  });

  it('are all pending on an empty database, none once applied, and one whose record is missing again (start-up asks this before it loads the migrator)', async () => {
    const clientUrl = await emptyDatabase();
    const everything = await pendingMigrations(clientUrl);
    expect(everything.length).toBeGreaterThan(0);
    const orm = await createOrm({ clientUrl });
    try {
      expect((await migrate(orm, { clientUrl })).applied).toEqual(everything);
      expect(await pendingMigrations(clientUrl)).toEqual([]);
      const last = everything.at(-1)!;
      await orm.em.fork().getConnection().execute(`delete from ${MIGRATIONS_TABLE} where name = '${last}'`);
      expect(await pendingMigrations(clientUrl)).toEqual([last]);
    } finally {
      await orm.close();
    }
  });

  it('leave the database exactly as the entities describe it (no pending schema diff)', () =>
    withMigratedDatabase(async (orm) => {
      const diff = await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
      expect(diff.trim()).toBe('');
    }));

  it('leave every scalar SQL function inlinable: one that is not is parsed again in each transaction (or statement) that calls it', () =>
    withMigratedDatabase(async (orm) => {
      const conn = orm.em.fork().getConnection();
      // Index expressions and the triggers of every write call these (sort ranks, search text).
      const functions = await conn.execute<Array<{ name: string; args: string[] }>>(
        `select p.proname as name, array(select format_type(t, null) from unnest(p.proargtypes) t) as args
           from pg_proc p join pg_language l on l.oid = p.prolang
          where p.pronamespace = 'lead'::regnamespace and l.lanname = 'sql' and not p.proretset and p.prorettype <> 'void'::regtype`,
      );
      expect(functions.map((f) => f.name)).toContain('status_rank');
      for (const { name, args } of functions) {
        // Arguments from a subquery that is not pulled up, so that the call is not folded to a constant:
        // inlined, the function's body is in the plan; not, its name is.
        const columns = args.map((type, i) => `null::${type} as a${i}`).join(', ');
        const call = `lead.${name}(${args.map((_, i) => `v.a${i}`).join(', ')})`;
        const plan = await conn.execute<Array<{ 'QUERY PLAN': string }>>(
          `explain (verbose, costs off) select ${call} from (select ${columns} offset 0) v`,
        );
        expect(plan.map((row) => row['QUERY PLAN']).join('\n'), name).not.toContain(`${name}(`);
      }
    }));

  it('type every enumeration column by a domain that allows exactly the values its entity declares', () =>
    withMigratedDatabase(async (orm) => {
      const conn = orm.em.fork().getConnection();
      const declared = Object.values(orm.getMetadata().getAll()).flatMap((meta) =>
        Object.values(meta.properties)
          .filter((prop) => prop.columnTypes?.[0]?.startsWith('lead.'))
          .map((prop) => `${meta.tableName}.${prop.fieldNames[0]} ${prop.columnTypes[0]}`),
      );
      const typed = await conn.execute<Array<{ column: string }>>(
        `select c.table_name || '.' || c.column_name || ' lead.' || c.domain_name as column
           from information_schema.columns c join information_schema.tables t using (table_schema, table_name)
          where c.table_schema = 'lead' and c.domain_schema = 'lead' and t.table_type = 'BASE TABLE'`,
      );
      expect(typed.map((row) => row.column).sort()).toEqual(declared.sort());
      expect(declared).toHaveLength(20);
      // No enumeration is left to a check constraint on its table (parsed for every write).
      const checks = await conn.execute(
        `select conname from pg_constraint where contype = 'c' and conrelid <> 0 and connamespace = 'lead'::regnamespace`,
      );
      expect(checks).toEqual([]);

      expect([...ENUMERATION_DOMAINS.keys()].sort()).toEqual([...new Set(declared.map((d) => d.split(' lead.')[1]))].sort());
      for (const [domain, values] of ENUMERATION_DOMAINS) {
        const [check] = await conn.execute<Array<{ definition: string }>>(
          `select pg_get_constraintdef(oid) as definition from pg_constraint where contypid = 'lead.${domain}'::regtype`,
        );
        expect(
          [...check!.definition.matchAll(/'([^']*)'::text/g)].map((m) => m[1]),
          domain,
        ).toEqual([...values]);
      }
      await expect(
        conn.execute(
          `insert into lead.leads (id, name, email, source, status, priority, created_at, updated_at)
           values (gen_random_uuid(), 'a', 'a@b.co', 'website', 'bogus', 'medium', now(), now())`,
        ),
      ).rejects.toThrow(/value for domain lead.lead_status violates check constraint/);
      await expect(
        conn.execute(
          `insert into lead.lead_activities (id, lead_id, activity_type, created_at) values (gen_random_uuid(), gen_random_uuid(), 'created', now())`,
        ),
      ).rejects.toThrow(/foreign key/);
    }));
});
