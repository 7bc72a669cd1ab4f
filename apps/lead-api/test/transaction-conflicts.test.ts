import { Database, DatabaseUnavailableError } from '@lead/db';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';
import { connect } from './support/database.js';
import { waitUntil } from './support/wait.js';

// packages/db/src/sql.ts: a transaction PostgreSQL aborts to settle a deadlock (40P01) is run once
// more instead of failing the request; a second conflict is "unavailable, try again" (503).

let t: TestApp & { database: string };
beforeAll(async () => {
  t = await startTestApp();
});

const createLead = async () => {
  const res = await t.rest('POST', '/api/v1/leads', { body: sampleLead() });
  expect(res.status).toBe(201);
  return res.body.id as string;
};

/**
 * A session that locks `first`, then, once the service's transaction waits for `first`, asks
 * for `second`, which that transaction holds: a deadlock. Its own deadlock check waits 10 s, so
 * PostgreSQL's check in the service's session (1 s) finds it and aborts the service's side.
 */
async function deadlockWith(first: string, second: string) {
  const other = await connect(t.database);
  await other.query(`set deadlock_timeout = '10s'`);
  await other.query('begin');
  await other.query(`update lead.leads set priority = 'high' where id = $1`, [first]);
  const waitingForFirst = () =>
    waitUntil('the service waits for the locked lead', async () => {
      const { rows } = await other.query<{ n: string }>(
        `select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`,
      );
      return Number(rows[0]!.n) > 0;
    });
  return {
    /** Closes the cycle, then commits once the service's side has been aborted. */
    async close() {
      await waitingForFirst();
      await other.query(`update lead.leads set priority = 'low' where id = $1`, [second]);
      await other.query('commit');
      await other.end();
    },
    async end() {
      await other.query('rollback').catch(() => {});
      await other.end();
    },
  };
}

describe('transactions in conflict', () => {
  it('run once more after PostgreSQL aborts them to settle a deadlock, and then commit', async () => {
    const [a, b] = [await createLead(), await createLead()];
    const db = Database.of(t.orm);
    const other = await deadlockWith(a, b);
    let attempts = 0;
    const done = db.transaction(async (tx) => {
      attempts++;
      await tx.query(`update lead.leads set company = 'Acme' where id = $1`, [b]);
      await tx.query(`update lead.leads set company = 'Acme' where id = $1`, [a]);
    });
    try {
      await other.close();
      await done;
    } finally {
      await other.end().catch(() => {});
    }
    expect(attempts).toBe(2);
    // Both of the retry's changes, and the other session's, are in.
    const rows = await db.transaction((tx) =>
      tx.query<{ id: string; company: string; priority: string }>(`select id, company, priority from lead.leads where id = any($1)`, [
        [a, b],
      ]),
    );
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
    expect(byId[a]).toMatchObject({ company: 'Acme', priority: 'high' });
    expect(byId[b]).toMatchObject({ company: 'Acme', priority: 'low' });
  });

  it('answer "unavailable" when the second attempt is in conflict too', async () => {
    const db = Database.of(t.orm);
    let attempts = 0;
    const failed = await db
      .transaction(async (tx) => {
        attempts++;
        await tx.query(`do $$ begin raise exception 'deadlock' using errcode = '40P01'; end $$`);
      })
      .catch((error: unknown) => error);
    expect(attempts).toBe(2);
    expect(failed).toBeInstanceOf(DatabaseUnavailableError);
  });

  it('are not run again for other errors', async () => {
    const db = Database.of(t.orm);
    let attempts = 0;
    const failed = await db
      .transaction(async (tx) => {
        attempts++;
        await tx.query(`do $$ begin raise exception 'boom' using errcode = 'P0001'; end $$`);
      })
      .catch((error: unknown) => error);
    expect(attempts).toBe(1);
    expect(failed).not.toBeInstanceOf(DatabaseUnavailableError);
  });
});
