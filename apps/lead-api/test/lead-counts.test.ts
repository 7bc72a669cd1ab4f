import { Database, LeadRepository, UpkeepRepository, type LeadSource, type LeadStatus } from '@lead/db';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';

// The list's `total` comes from maintained counts (lead.lead_counts, plus the changes writes
// appended that are not folded into it yet), not from counting rows: these tests hold it to a real
// count after every kind of write, including concurrent ones, before and after folding.

let t: TestApp;
let admin: string;
beforeAll(async () => {
  t = await startTestApp();
  admin = await t.token();
});

const USERS = ['22222222-2222-4222-8222-222222222222', '33333333-3333-4333-8333-333333333333'];
const SOURCES: LeadSource[] = ['website', 'referral', 'social', 'other'];
const STATUSES: LeadStatus[] = ['new', 'contacted', 'qualified', 'proposal', 'closed_won', 'closed_lost'];

/** Leads written through the repository, each in its own transaction, all at once. */
async function createLeads(n: number): Promise<string[]> {
  const leads = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      new LeadRepository(Database.of(t.orm)).create(
        {
          name: `Lead ${i}`,
          email: `lead${i}@example.com`,
          phone: null,
          company: null,
          message: null,
          source: SOURCES[i % SOURCES.length]!,
          attribution: null,
        },
        { actorSub: null, actorRole: null, action: 'leads.create', requestId: `counts-${i}`, clientIp: '127.0.0.1', userAgent: null },
        { duplicateWindowDays: 90 },
      ),
    ),
  );
  return leads.map((l) => l.id);
}

async function total(query: string): Promise<number> {
  const res = await t.rest('GET', `/api/v1/leads?limit=1${query}`, { token: admin });
  expect(res.status).toBe(200);
  return res.body.total;
}

/**
 * The API's total for each filter alone and all three together against a recount, with the
 * changes since the last fold pending (this app runs no fold job), then again after a fold, which
 * leaves the counts table itself equal to a recount.
 */
async function expectTotalsExact() {
  const [pending] = await t.sql<{ n: string }>('select count(*) as n from lead.lead_count_changes');
  await expectApiTotalsExact();
  expect((await new UpkeepRepository(Database.of(t.orm)).fold(1)).counts).toBe(Number(pending!.n));
  expect(await t.sql('select * from lead.lead_count_changes')).toEqual([]);
  await expectApiTotalsExact();
  // The table as a whole: no combination missing, none left over (zeros aside).
  const maintained = await t.sql(`select status, source, assigned_to::text, n::int from lead.lead_counts where n <> 0 order by 1, 2, 3`);
  const recounted = await t.sql(
    `select status, source, coalesce(assigned_to, '00000000-0000-0000-0000-000000000000')::text as assigned_to, count(*)::int as n
     from lead.leads group by 1, 2, 3 order by 1, 2, 3`,
  );
  expect(maintained).toEqual(recounted);
}

async function expectApiTotalsExact() {
  const filters: Array<Record<string, string>> = [
    {},
    ...STATUSES.map((status) => ({ status })),
    ...SOURCES.map((source) => ({ source })),
    ...USERS.map((assigned_to) => ({ assigned_to })),
    { status: 'contacted', source: 'referral', assigned_to: USERS[1]! },
  ];
  for (const filter of filters) {
    const entries = Object.entries(filter);
    const where = entries.length ? `where ${entries.map(([k]) => `${k} = ?`).join(' and ')}` : '';
    const [row] = await t.sql<{ n: string }>(
      `select count(*) as n from lead.leads ${where}`,
      entries.map(([, v]) => v),
    );
    const query = entries.map(([k, v]) => `&${k}=${v}`).join('');
    expect({ filter, total: await total(query) }).toEqual({ filter, total: Number(row!.n) });
  }
}

describe('list total (maintained counts)', () => {
  it('counts leads created over the API and concurrently through the repository', async () => {
    for (const source of ['website', 'social']) {
      expect((await t.rest('POST', '/api/v1/leads', { body: sampleLead({ source }) })).status).toBe(201);
    }
    await createLeads(40);
    expect(await total('&status=new')).toBe(42);
    await expectTotalsExact();
  });

  it('follows status changes and assignments, including many at once on the same combinations', async () => {
    const ids = await createLeads(24);
    const patch = (id: string, status: LeadStatus) => t.rest('PATCH', `/api/v1/leads/${id}/status`, { token: admin, body: { status } });
    const assign = (id: string, assigned_to: string | null) =>
      t.rest('POST', `/api/v1/leads/${id}/assign`, { token: admin, body: { assigned_to } });

    // Half move new→contacted while the other half are assigned, all concurrently.
    const first = await Promise.all(ids.map((id, i) => (i % 2 ? patch(id, 'contacted') : assign(id, USERS[i % 4 === 0 ? 0 : 1]!))));
    expect(first.map((r) => r.status)).toEqual(ids.map(() => 200));
    await expectTotalsExact();

    // Opposite moves at once (contacted→new beside new→contacted) and reassignments.
    const second = await Promise.all(
      ids.map((id, i) => (i % 2 ? patch(id, i % 4 === 1 ? 'new' : 'closed_won') : i % 3 ? patch(id, 'contacted') : assign(id, null))),
    );
    expect(second.map((r) => r.status)).toEqual(ids.map(() => 200));
    await expectTotalsExact();
  });

  it('appends no count or stage change for an update that sets their columns to the values they hold', async () => {
    const [id] = await createLeads(1);
    await new UpkeepRepository(Database.of(t.orm)).fold(1);
    const changes = async () =>
      t.sql<{ counts: string; stages: string }>(
        `select (select count(*) from lead.lead_count_changes) as counts, (select count(*) from lead.lead_stage_changes) as stages`,
      );
    const before = await changes();
    // The triggers' functions test the columns (a trigger's `when` would be parsed per statement).
    await t.sql(
      `update lead.leads set status = status, source = source, assigned_to = assigned_to, closed_at = closed_at, name = 'Renamed' where id = ?`,
      [id],
    );
    expect(await changes()).toEqual(before);
    await t.sql(`update lead.leads set status = 'contacted' where id = ?`, [id]);
    expect(await changes()).toEqual([{ counts: String(Number(before[0]!.counts) + 2), stages: String(Number(before[0]!.stages) + 1) }]);
    await expectTotalsExact();
  });

  it('ignores refused changes and follows deletes and truncation', async () => {
    const [id] = await createLeads(1);
    expect((await t.rest('PATCH', `/api/v1/leads/${id}/status`, { token: admin, body: { status: 'new' } })).status).toBe(409);
    await expectTotalsExact();
    await t.sql('delete from lead.leads where id = ?', [id]);
    await expectTotalsExact();
    await t.sql('truncate lead.leads cascade');
    await createLeads(3);
    expect(await total('')).toBe(3);
    await expectTotalsExact();
  });
});
