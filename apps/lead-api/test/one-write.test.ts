import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';
import { admin as serverAdmin, connect } from './support/database.js';
import { waitUntil } from './support/wait.js';

/**
 * A create and a status change send their statements and their commit in one write, taking their
 * locks `nowait` (issue 18). When another transaction holds the lock, the change must neither
 * fail nor be sent with its commit while it waits: it runs as a transaction that waits for the
 * lock, and then sees what the other transaction committed.
 */
let t: TestApp & { database: string };
let admin: string;
beforeAll(async () => {
  t = await startTestApp();
  admin = await t.token();
});

/** The backend of the app's database waiting for a lock: the request's, once it reaches the held one. */
const lockWaiter = () =>
  waitUntil(
    'a request waits for the lock',
    () =>
      serverAdmin(
        async (c) =>
          (await c.query(`select pid from pg_stat_activity where datname = $1 and wait_event_type = 'Lock'`, [t.database])).rows[0]?.pid,
      ),
    10_000,
    20,
  );

/** `work` with a transaction of another client open, ended (its connection closed) afterwards. */
async function inOtherTransaction(work: (locker: pg.Client) => Promise<void>): Promise<void> {
  const locker = await connect(t.database);
  try {
    await locker.query('begin');
    await work(locker);
  } finally {
    await locker.end();
  }
}

describe('a write whose lock another transaction holds', () => {
  it('a status change waits for the lead, then changes from the status that transaction left', async () => {
    const id = (await t.rest('POST', '/api/v1/leads', { body: sampleLead() })).body.id as string;
    await inOtherTransaction(async (locker) => {
      await locker.query(`update lead.leads set status = 'contacted' where id = $1`, [id]);
      let answered = false;
      const answer = t.rest('PATCH', `/api/v1/leads/${id}/status`, { token: admin, body: { status: 'qualified' } }).finally(() => {
        answered = true;
      });
      await lockWaiter();
      expect(answered).toBe(false);
      await locker.query('commit');
      const res = await answer;
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('qualified');
      const activities = await t.sql<{ details: Record<string, string> }>(
        `select details from lead.lead_activities where lead_id = ? and activity_type = 'status_changed'`,
        [id],
      );
      expect(activities.map((a) => a.details)).toEqual([{ old_status: 'contacted', new_status: 'qualified' }]);
      const [audited] = await t.sql<{ n: number }>(
        `select count(*)::int as n from lead.audit_log where action = 'leads.updateStatus' and lead_ids = array[?]::uuid[]`,
        [id],
      );
      expect(audited!.n).toBe(1);
    });
  });

  it('a status change the lead already has, found once the lock is free, is refused with 409 and writes nothing', async () => {
    const id = (await t.rest('POST', '/api/v1/leads', { body: sampleLead() })).body.id as string;
    await inOtherTransaction(async (locker) => {
      await locker.query(`update lead.leads set status = 'qualified' where id = $1`, [id]);
      const answer = t.rest('PATCH', `/api/v1/leads/${id}/status`, { token: admin, body: { status: 'qualified' } });
      await lockWaiter();
      await locker.query('commit');
      expect((await answer).status).toBe(409);
      const [written] = await t.sql<{ activities: number; audited: number }>(
        `select (select count(*)::int from lead.lead_activities where lead_id = ? and activity_type = 'status_changed') as activities,
                (select count(*)::int from lead.audit_log where action = 'leads.updateStatus' and lead_ids = array[?]::uuid[]) as audited`,
        [id, id],
      );
      expect(written).toEqual({ activities: 0, audited: 0 });
    });
  });

  it('a create waits for another create of its address, then becomes its duplicate', async () => {
    const email = `held-${Date.now()}@example.com`;
    await inOtherTransaction(async (locker) => {
      // What a create of the address holds while it writes (LeadRepository.create).
      await locker.query('select pg_advisory_xact_lock(16, hashtext(lower(btrim($1))))', [email]);
      const [original] = (
        await locker.query<{ id: string }>(
          `insert into lead.leads (id, name, email, source, status, priority, created_at, updated_at)
           values (gen_random_uuid(), 'First', $1, 'website', 'new', 'medium', now(), now()) returning id`,
          [email],
        )
      ).rows;
      let answered = false;
      const answer = t.rest('POST', '/api/v1/leads', { body: sampleLead({ email }) }).finally(() => {
        answered = true;
      });
      await lockWaiter();
      expect(answered).toBe(false);
      await locker.query('commit');
      const res = await answer;
      expect(res.status).toBe(201);
      const [created] = await t.sql<{ duplicate_of: string | null }>('select duplicate_of from lead.leads where id = ?', [res.body.id]);
      expect(created!.duplicate_of).toBe(original!.id);
      const noted = await t.sql<{ details: Record<string, string> }>(
        `select details from lead.lead_activities where lead_id = ? and activity_type = 'duplicate_detected'`,
        [original!.id],
      );
      expect(noted.map((a) => a.details)).toEqual([{ duplicate_lead_id: res.body.id }]);
    });
  });
});
