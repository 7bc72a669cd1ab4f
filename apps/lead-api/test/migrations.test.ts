import { createOrm, migrate } from '@lead/db';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase, databaseUrl, dropDatabase } from './support/database.js';

const created: string[] = [];
afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

describe('migrations', () => {
  it('two instances migrating an empty database at once apply each migration exactly once', async () => {
    const name = await createDatabase();
    created.push(name);
    const clientUrl = databaseUrl(name);
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

  it('leave the database exactly as the entities describe it (no pending schema diff)', async () => {
    const name = await createDatabase();
    created.push(name);
    const clientUrl = databaseUrl(name);
    const orm = await createOrm({ clientUrl });
    try {
      await migrate(orm, { clientUrl });
      const diff = await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
      expect(diff.trim()).toBe('');
    } finally {
      await orm.close();
    }
  });

  it('create the lead schema with check constraints for every enumeration', async () => {
    const name = await createDatabase();
    created.push(name);
    const clientUrl = databaseUrl(name);
    const orm = await createOrm({ clientUrl });
    try {
      await migrate(orm, { clientUrl });
      const conn = orm.em.fork().getConnection();
      await expect(
        conn.execute(
          `insert into lead.leads (id, name, email, source, status, priority, created_at, updated_at)
           values (gen_random_uuid(), 'a', 'a@b.co', 'website', 'bogus', 'medium', now(), now())`,
        ),
      ).rejects.toThrow(/check constraint/);
      await expect(
        conn.execute(
          `insert into lead.lead_activities (id, lead_id, activity_type, created_at) values (gen_random_uuid(), gen_random_uuid(), 'created', now())`,
        ),
      ).rejects.toThrow(/foreign key/);
    } finally {
      await orm.close();
    }
  });
});
