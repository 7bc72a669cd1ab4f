import { Database } from '@lead/db';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ID, sampleLead, startTestApp, type TestApp } from './support/app.js';
import { withClient } from './support/database.js';
import { waitUntil } from './support/wait.js';

interface PgClient {
  processID: number;
  connection: { on(event: string, listener: () => void): void; off(event: string, listener: () => void): void };
}

// packages/db/src/sql.ts runs every statement with parameters as a named prepared statement,
// parsed once per connection, and sends a transaction's `begin` with its first statement.

let t: TestApp & { database: string };
let admin: string;
beforeAll(async () => {
  t = await startTestApp();
  admin = await t.token();
});

const createLead = async () => {
  const res = await t.rest('POST', '/api/v1/leads', { body: sampleLead({ company: 'Acme' }) });
  expect(res.status).toBe(201);
  return res.body.id as string;
};

/** Reads and changes `id` a few times, so that every connection of the pool has prepared them. */
const exercise = async (id: string) => {
  for (let i = 0; i < 3; i++) {
    const read = await t.rest('GET', `/api/v1/leads/${id}`, { token: admin });
    expect(read.status).toBe(200);
    const status = read.body.status === 'contacted' ? 'qualified' : 'contacted';
    const changed = await t.rest('PATCH', `/api/v1/leads/${id}/status`, { token: admin, body: { status } });
    expect(changed.status).toBe(200);
  }
};

describe('named prepared statements', () => {
  it('are parsed once per connection: a repeated read reuses its statement', async () => {
    const id = await createLead();
    await exercise(id);
    const db = Database.of(t.orm);
    // The read's statement, by its text, as the repository sends it, on a pool connection.
    const names = await db.transaction(async (tx) => {
      await tx.query('select id from lead.leads where id = $1', [id]);
      return tx.query<{ name: string; statement: string }>(`select name, statement from pg_prepared_statements where statement = $1`, [
        'select id from lead.leads where id = $1',
      ]);
    });
    expect(names).toHaveLength(1);
    expect(names[0]!.name).toMatch(/^lead_\d+$/);
  });

  it('survive a migration that changes their result columns, for a read and for a change', async () => {
    const id = await createLead();
    await exercise(id);
    // What another instance's migration could do while this one serves: the columns every lead
    // read selects change type, which PostgreSQL refuses for a cached plan
    // ("cached plan must not change result type"). `priority` is one no PL/pgSQL trigger reads:
    // a trigger function's plans over a changed column fail in sessions that ran it before
    // (42804), a limit of PostgreSQL's own, with or without prepared statements.
    await withClient(t.database, (c) => c.query('alter table lead.leads alter column priority type varchar(10)'));
    try {
      const read = await t.rest('GET', `/api/v1/leads/${id}`, { token: admin });
      expect(read.status).toBe(200);
      expect(read.body.priority).toBe('medium');
      const changed = await t.rest('PATCH', `/api/v1/leads/${id}/status`, { token: admin, body: { status: 'qualified' } });
      expect(changed.status).toBe(200);
      expect(changed.body.status).toBe('qualified');
      await exercise(id);
      const list = await t.rest('GET', '/api/v1/leads?limit=5', { token: admin });
      expect(list.status).toBe(200);
    } finally {
      await withClient(t.database, (c) => c.query('alter table lead.leads alter column priority type text'));
    }
  });

  it('are described once per connection: later calls read their rows by the columns already known', async () => {
    const id = await createLead();
    const pool = (t.orm.em.getConnection().getKnex().client as { pool: { used: Array<{ resource: PgClient }> } }).pool;
    const read = 'select id, created_at, status, priority from lead.leads where id = $1 and $2::int > 0';
    const update = 'update lead.leads set priority = priority where id = $1 and $2::int > 0';
    let descriptions = 0;
    const count = () => descriptions++;
    const results = await Database.of(t.orm).session(async (session) => {
      // The session's connection, listened to for the RowDescriptions PostgreSQL sends it.
      const [{ pid }] = (await session.batch([{ text: 'select pg_backend_pid() as pid' }]))[0] as [{ pid: number }];
      const client = pool.used.map((slot) => slot.resource).find((c) => c.processID === pid)!;
      client.connection.on('rowDescription', count);
      try {
        return [
          await session.batch([{ text: read, values: [id, 1] }]),
          await session.batch([{ text: read, values: [id, 2] }]),
          await session.batch([{ text: update, values: [id, 1] }]),
          // Known, the statement without rows and the read after it in one write.
          await session.batch([
            { text: update, values: [id, 2] },
            { text: read, values: [id, 3] },
          ]),
        ];
      } finally {
        client.connection.off('rowDescription', count);
      }
    });
    const [first, second, , both] = results;
    expect(first).toEqual([[{ id, created_at: expect.any(Date), status: 'new', priority: 'medium' }]]);
    expect(second).toEqual(first);
    expect(both).toEqual([[], first![0]]);
    // The read was described on its first call, and never again on that connection.
    expect(descriptions).toBe(1);
  });

  it('are prepared again on new connections after the old ones were cut', async () => {
    const id = await createLead();
    await exercise(id);
    await withClient(t.database, (c) =>
      c.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`),
    );
    // The pool notices the cut connections on use (a request may answer 503 meanwhile).
    await waitUntil('a read answers again', async () => (await t.rest('GET', `/api/v1/leads/${id}`, { token: admin })).status === 200);
    await exercise(id);
  });
});

describe('a transaction', () => {
  it('begins before its first statement, which is sent with begin: a failure rolls all of it back', async () => {
    const db = Database.of(t.orm);
    await db.query('create table if not exists public.tx_probe (n int primary key)');
    await expect(
      db.transaction(async (tx) => {
        await tx.query('insert into public.tx_probe (n) values ($1)', [1]);
        await tx.query('insert into public.tx_probe (n) values ($1)', [2]);
        throw new Error('abandoned');
      }),
    ).rejects.toThrow('abandoned');
    expect(await db.query('select n from public.tx_probe')).toEqual([]);
    // A first statement that fails leaves the connection usable and nothing written.
    await expect(db.transaction((tx) => tx.query('insert into public.tx_probe (n) values ($1::int)', ['x']))).rejects.toThrow();
    await db.transaction(async (tx) => {
      await tx.query('insert into public.tx_probe (n) values ($1)', [3]);
      // Inside the transaction begun with the statement above, not in autocommit.
      const [state] = await tx.query<{ open: boolean }>('select txid_current_if_assigned() is not null as open where $1::int = 1', [1]);
      expect(state!.open).toBe(true);
    });
    expect(await db.query('select n from public.tx_probe')).toEqual([{ n: 3 }]);
  });

  it('sends statements whose rows nobody reads with the next statement or the commit; one that fails fails the transaction, wrapped', async () => {
    const db = Database.of(t.orm);
    await db.query('create table if not exists public.send_probe (n int primary key)');
    const rows = await db.transaction(async (tx) => {
      await tx.send('insert into public.send_probe (n) values ($1)', [1]);
      await tx.send('insert into public.send_probe (n) values ($1)', [2]);
      // Sent after the two inserts, in the same write: it sees them.
      return tx.query<{ n: number }>('select n from public.send_probe where n > $1 order by n', [0]);
    });
    expect(rows).toEqual([{ n: 1 }, { n: 2 }]);
    // Only sends: they go with the commit.
    await db.transaction(async (tx) => {
      await tx.send('insert into public.send_probe (n) values ($1)', [3]);
    });
    expect(await db.query('select n from public.send_probe order by n')).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    // A failing send (a duplicate key) fails the commit with its own, wrapped error, and
    // nothing of the transaction stays, not even what was awaited before it.
    class Wrapped extends Error {}
    await expect(
      db.transaction(async (tx) => {
        await tx.query('insert into public.send_probe (n) values ($1)', [4]);
        await tx.send('insert into public.send_probe (n) values ($1)', [5]);
        await tx.send('insert into public.send_probe (n) values ($1)', [1], (cause) => new Wrapped('wrapped', { cause }));
        await tx.send('insert into public.send_probe (n) values ($1)', [6]);
      }),
    ).rejects.toBeInstanceOf(Wrapped);
    expect(await db.query('select n from public.send_probe order by n')).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    // The connection is clean again, and the statements skipped after the failure are prepared anew.
    await db.transaction(async (tx) => {
      await tx.send('insert into public.send_probe (n) values ($1)', [6]);
      await tx.query('insert into public.send_probe (n) values ($1)', [4]);
    });
    expect(await db.query('select n from public.send_probe order by n')).toEqual([1, 2, 3, 4, 6].map((n) => ({ n })));
  });
});

describe('a lead read and its audit row, in one round trip', () => {
  const auditRows = (id: string) =>
    t.sql<{ action: string; actor_sub: string }>(
      'select action, actor_sub from lead.audit_log where lead_ids @> array[?]::uuid[] order by created_at',
      [id],
    );

  it("writes exactly one row for a lead served, none for one not found or out of the caller's scope", async () => {
    const id = await createLead();
    const before = (await auditRows(id)).length;
    expect((await t.rest('GET', `/api/v1/leads/${id}`, { token: admin })).status).toBe(200);
    expect((await auditRows(id)).slice(before)).toEqual([{ action: 'leads.get', actor_sub: ADMIN_ID }]);
    // A sales user sees only leads assigned to them: this one is not, so it is not found.
    const sales = await t.token('sales', '22222222-2222-4222-8222-222222222222');
    expect((await t.rest('GET', `/api/v1/leads/${id}`, { token: sales })).status).toBe(404);
    const missing = '01890000-0000-7000-8000-000000000000';
    expect((await t.rest('GET', `/api/v1/leads/${missing}`, { token: admin })).status).toBe(404);
    expect(await auditRows(missing)).toEqual([]);
    expect((await auditRows(id)).slice(before)).toHaveLength(1);
  });

  it('serves nothing when the row cannot be written: the reads and the row fail together', async () => {
    const id = await createLead();
    await withClient(t.database, (c) =>
      c.query(`create or replace function lead.refuse_audit() returns trigger language plpgsql as $$ begin raise exception 'audit refused'; end $$;
               create trigger refuse_audit before insert on lead.audit_log for each row execute function lead.refuse_audit()`),
    );
    try {
      const res = await t.rest('GET', `/api/v1/leads/${id}`, { token: admin });
      expect(res.status).toBe(503);
      expect(JSON.stringify(res.body)).not.toContain('Acme');
    } finally {
      await withClient(t.database, (c) => c.query('drop trigger refuse_audit on lead.audit_log'));
    }
    expect((await t.rest('GET', `/api/v1/leads/${id}`, { token: admin })).status).toBe(200);
  });
});
