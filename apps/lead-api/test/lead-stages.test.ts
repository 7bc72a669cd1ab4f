import { LEAD_STATUSES, type LeadStatus } from '@lead/contracts';
import { Database, UpkeepRepository } from '@lead/db';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';
import { seeded } from './support/random.js';

// The reports read `lead.lead_stages` and its weekly sums, kept by folding the changes the
// triggers append. Whatever the writes (creates, status changes back and forth, some at once on
// the same lead, assignments, merges, timestamps edited by hand) and however the folds run
// (small batches from several connections during the writes, then one to finish), the table must
// equal what the timeline implies (its view, `lead.lead_stage_rows`, and an independent reading of
// each lead's activities here), and the weekly sums must equal the sums of the table.

const SALES_ID = '77777777-7777-4777-8777-777777777777';
const RANK: Record<LeadStatus, number> = { new: 0, contacted: 1, qualified: 2, proposal: 3, closed_won: 4, closed_lost: -1 };

const { next: rnd, pick } = seeded(18);

let t: TestApp;
let admin: string;
const ids: string[] = [];

const moveTo = (id: string, status: LeadStatus) =>
  t.rest('PATCH', `/api/v1/leads/${id}/status`, {
    token: admin,
    body: { status, ...(status === 'closed_lost' ? { lost_reason: 'price' } : {}) },
  });

/** Rows compared as text, column by column, in key order. */
const rows = (from: string) =>
  t.sql<{ r: string }>(`select row(s.*)::text as r from ${from} s order by s.lead_id, s.position`).then((all) => all.map((x) => x.r));

const upkeep = () => new UpkeepRepository(Database.of(t.orm));

/** Folds in small batches from `n` connections at once until `writes` settles, then folds the rest. */
async function foldingDuring<T>(writes: Promise<T>, n = 3): Promise<T> {
  let done = false;
  const folds: number[] = [];
  const loops = Array.from({ length: n }, async () => {
    while (!done) folds.push((await upkeep().fold(7)).leads);
  });
  try {
    return await writes;
  } finally {
    done = true;
    await Promise.all(loops);
    await upkeep().foldStages();
    // Folds did work while the writes went on.
    expect(folds.some((leads) => leads > 0)).toBe(true);
  }
}

beforeAll(async () => {
  t = await startTestApp();
  admin = await t.token();
  for (let i = 0; i < 40; i++) {
    const attribution = rnd() < 0.6 ? { utm_source: pick(['google', 'bing']), utm_campaign: pick(['spring', 'autumn']) } : {};
    const res = await t.rest('POST', '/api/v1/leads', {
      body: {
        ...sampleLead({ name: `Stage ${i}`, email: `stage${i}@example.com` }),
        source: pick(['website', 'referral', 'social'] as const),
        attribution,
      },
    });
    expect(res.status).toBe(201);
    ids.push(res.body.id as string);
  }
}, 60_000);

/** Status changes back and forth (several at once, two at once on one lead), assignments and merges, over the API. */
async function randomWrites() {
  for (let round = 0; round < 6; round++) {
    await Promise.all(
      ids.slice(0, 30).map(async (id) => {
        const targets = [pick(LEAD_STATUSES), pick(LEAD_STATUSES)];
        // Two changes of one lead at once: the row lock orders them; either may be a 409 (unchanged).
        const results = await Promise.all(targets.map((status) => moveTo(id, status)));
        for (const res of results) expect([200, 409]).toContain(res.status);
      }),
    );
  }
  for (const id of ids.slice(0, 12)) {
    const res = await t.rest('POST', `/api/v1/leads/${id}/assign`, {
      token: admin,
      body: { assigned_to: rnd() < 0.7 ? SALES_ID : null },
    });
    expect(res.status).toBe(200);
  }
  // Merges: the source's activities move to the target, the source is closed as lost.
  for (const [source, target] of [
    [ids[30]!, ids[0]!],
    [ids[31]!, ids[1]!],
    [ids[2]!, ids[3]!],
    [ids[32]!, ids[33]!],
  ] as const) {
    const res = await t.rest('POST', `/api/v1/leads/${source}/merge`, { token: admin, body: { into: target } });
    expect(res.status).toBe(200);
  }
  await Promise.all(ids.slice(34, 40).map((id) => moveTo(id, 'qualified')));
}

describe('lead.lead_stages', () => {
  it('equals what the timeline implies after random writes, concurrent ones and merges, and its weekly sums equal its rows', async () => {
    // Status changes back and forth, a few at a time on different leads and on the same lead.
    await foldingDuring(randomWrites());
    // By hand, as the reports test does: a lead's creation and a status change moved in time.
    await t.sql(`update lead.leads set created_at = created_at - interval '20 days' where id = ?`, [ids[4]]);
    await t.sql(
      `update lead.lead_activities set created_at = created_at - interval '9 days'
        where id = (select id from lead.lead_activities where lead_id = ? and activity_type = 'status_changed' order by created_at, id limit 1)`,
      [ids[4]],
    );
    await upkeep().foldStages();
    const pending = await t.sql<{ n: string }>(`select count(*) as n from lead.lead_stage_changes`);
    expect(pending[0]!.n).toBe('0');

    // The walk went back and forth, and merged timelines are there.
    const moves = await t.sql<{ n: string }>(`select count(*) as n from lead.lead_stages where previous_entry_at is not null`);
    expect(Number(moves[0]!.n)).toBeGreaterThan(10);

    expect(await rows('lead.lead_stages')).toEqual(await rows('lead.lead_stage_rows'));

    // Independently of the view: each lead's entries, read from its detail.
    for (const id of ids) {
      const detail = await t.rest('GET', `/api/v1/leads/${id}`, { token: admin });
      const timeline = [
        { stage: 'new' as LeadStatus, at: Date.parse(detail.body.created_at as string) },
        ...(detail.body.activities as Array<{ activity_type: string; details: Record<string, string> | null; created_at: string }>)
          .filter((a) => a.activity_type === 'status_changed')
          .map((a) => ({ stage: a.details!.new_status as LeadStatus, at: Date.parse(a.created_at) })),
      ].sort((a, b) => a.at - b.at);
      const stored = await t.sql<{
        stage: LeadStatus;
        entered_at: Date;
        seconds: number | null;
        to_next: boolean;
        to_won: boolean;
        status: string;
      }>(
        `select stage, entered_at, seconds, to_next, to_won, status from lead.lead_stages where lead_id = ? order by entered_at, position`,
        [id],
      );
      expect(
        stored.map((s) => [s.stage, new Date(s.entered_at).getTime(), s.status]),
        id,
      ).toEqual(timeline.map((e) => [e.stage, e.at, detail.body.status]));
      stored.forEach((s, i) => {
        const later = timeline.slice(i + 1);
        expect(s.to_next, `${id} ${i}`).toBe(later.some((e) => RANK[e.stage] > RANK[s.stage]));
        expect(s.to_won, `${id} ${i}`).toBe(later.some((e) => e.stage === 'closed_won'));
        if (i + 1 < timeline.length) expect(s.seconds! * 1000).toBeCloseTo(timeline[i + 1]!.at - timeline[i]!.at, 0);
        else expect(s.seconds).toBeNull();
      });
    }
    const merged = await t.sql<{ status: string }>(`select status from lead.lead_stages where lead_id = ? and position = 0`, [ids[30]]);
    expect(merged[0]!.status).toBe('closed_lost');

    // The weekly sums, recomputed from the rows, without the cells that fell back to zero.
    const stageSums = (from: string) =>
      t
        .sql<{ r: string }>(
          `select row(week, stage, source, bucket, entered, to_next, to_won, stints, leads)::text as r from (${from}) w
            where entered <> 0 or to_next <> 0 or to_won <> 0 or stints <> 0 or leads <> 0 order by 1`,
        )
        .then((all) => all.map((x) => x.r));
    expect(await stageSums('select * from lead.lead_stage_weeks')).toEqual(
      await stageSums(`select c.week, c.stage, c.source, c.bucket, sum(c.entered) as entered, sum(c.to_next) as to_next, sum(c.to_won) as to_won,
                              sum(c.stints) as stints, sum(c.leads) as leads
                         from lead.lead_stages s
                         cross join lateral lead.lead_stage_cells(s.entered_at, s.position, s.stage, s.status, s.source, s.bucket, s.seconds,
                                                                  s.previous_entry_at, s.to_next, s.to_won) c
                        group by 1, 2, 3, 4`),
    );
    const sourceSums = (from: string) =>
      t
        .sql<{ r: string }>(
          `select row(week, dimension, has_key, key, source, outcome, reached_qualified, leads)::text as r from (${from}) w where leads <> 0 order by 1`,
        )
        .then((all) => all.map((x) => x.r));
    expect(await sourceSums('select * from lead.lead_source_weeks')).toEqual(
      await sourceSums(`select c.week, c.dimension, c.has_key, c.key, c.source, c.outcome, c.reached_qualified, count(*) as leads
                          from lead.lead_stages s
                          cross join lateral lead.lead_source_cells(s.entered_at, s.position, s.source, s.status, s.reached_qualified,
                                                                    s.utm_source, s.utm_medium, s.utm_campaign) c
                         group by 1, 2, 3, 4, 5, 6, 7`),
    );
    const [counts] = await t.sql<{ leads: string; rows: string }>(
      `select (select count(*) from lead.leads) as leads, (select count(*) from lead.lead_stages where position = 0) as rows`,
    );
    expect(counts!.rows).toBe(counts!.leads);
  }, 120_000);

  it('equals what the timeline implies after statements that write many leads at once (refreshed in one pass)', async () => {
    await t.sql(`
      insert into lead.leads (id, name, email, source, status, priority, created_at, updated_at, utm_source, utm_medium, utm_campaign)
      select gen_random_uuid(), 'Bulk ' || i, 'bulk' || i || '@example.com', 'referral', 'new', 'medium',
             timestamptz '2025-03-01' + i * interval '7 hours', timestamptz '2025-03-01' + i * interval '7 hours',
             case when i % 2 = 0 then 'partner' end, null, case when i % 3 = 0 then 'bulk' end
        from generate_series(1, 120) as i`);
    await t.sql(`
      insert into lead.lead_activities (id, lead_id, activity_type, description, details, created_at)
      select gen_random_uuid(), id, 'status_changed', 'Bulk move', jsonb_build_object('old_status', 'new', 'new_status', 'qualified'),
             created_at + interval '2 days'
        from lead.leads where name like 'Bulk %'`);
    await t.sql(`update lead.leads set status = 'qualified' where name like 'Bulk %'`);
    await t.sql(`update lead.leads set status = 'closed_won', closed_at = created_at + interval '5 days' where name like 'Bulk 1%'`);
    await upkeep().foldStages();
    expect(await rows('lead.lead_stages')).toEqual(await rows('lead.lead_stage_rows'));
    const differ = async (stored: string, recomputed: string) =>
      Number((await t.sql<{ n: string }>(`select count(*) as n from ((${stored}) except all (${recomputed})) d`))[0]!.n) +
      Number((await t.sql<{ n: string }>(`select count(*) as n from ((${recomputed}) except all (${stored})) d`))[0]!.n);
    expect(
      await differ(
        `select week, stage, source, bucket, entered, to_next, to_won, stints, leads from lead.lead_stage_weeks
          where entered <> 0 or to_next <> 0 or to_won <> 0 or stints <> 0 or leads <> 0`,
        `select c.week, c.stage, c.source, c.bucket, sum(c.entered), sum(c.to_next), sum(c.to_won), sum(c.stints), sum(c.leads)
           from lead.lead_stages s
           cross join lateral lead.lead_stage_cells(s.entered_at, s.position, s.stage, s.status, s.source, s.bucket, s.seconds,
                                                    s.previous_entry_at, s.to_next, s.to_won) c
          group by 1, 2, 3, 4`,
      ),
    ).toBe(0);
    expect(
      await differ(
        `select week, dimension, has_key, key, source, outcome, reached_qualified, leads from lead.lead_source_weeks where leads <> 0`,
        `select c.week, c.dimension, c.has_key, c.key, c.source, c.outcome, c.reached_qualified, count(*)
           from lead.lead_stages s
           cross join lateral lead.lead_source_cells(s.entered_at, s.position, s.source, s.status, s.reached_qualified,
                                                     s.utm_source, s.utm_medium, s.utm_campaign) c
          group by 1, 2, 3, 4, 5, 6, 7`,
      ),
    ).toBe(0);
    const [bulk] = await t.sql<{ n: string }>(
      `select count(*) as n from lead.lead_stages where stage = 'qualified' and utm_source = 'partner'`,
    );
    expect(Number(bulk!.n)).toBe(60);
  });

  it("is folded by one fold at a time: another returns at once, a report's fold waits for it", async () => {
    expect((await t.rest('POST', '/api/v1/leads', { body: sampleLead({ email: 'turns@example.com' }) })).status).toBe(201);
    await Database.of(t.orm).session(async (holder) => {
      await holder.query('begin');
      // A fold left open: its transaction holds the lock until it ends.
      await holder.query('select lead.lead_stages_fold(null, true)');
      expect((await t.rest('POST', '/api/v1/leads', { body: sampleLead({ email: 'turns2@example.com' }) })).status).toBe(201);
      expect((await upkeep().fold(100)).leads).toBe(-1);
      let waited = false;
      const report = upkeep()
        .foldStages()
        .then(() => (waited = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(waited).toBe(false);
      await holder.query('commit');
      await report;
    });
    expect(await t.sql('select * from lead.lead_stage_changes')).toEqual([]);
    expect(await rows('lead.lead_stages')).toEqual(await rows('lead.lead_stage_rows'));
  });
  it("appends a status change's lead once; an activity of another lead, or after a fold in its transaction, still appends its own", async () => {
    const [x, y, z, w] = ids.slice(34, 38) as [string, string, string, string];
    await upkeep().foldStages();
    const appended = async () =>
      (await t.sql<{ lead_id: string }>('select lead_id from lead.lead_stage_changes order by id')).map((r) => r.lead_id);
    const activity = (lead: string, status: LeadStatus) =>
      `insert into lead.lead_activities (id, lead_id, activity_type, details, created_at)
       values (gen_random_uuid(), '${lead}', 'status_changed', '{"new_status": "${status}"}', clock_timestamp())`;

    // The lead's update and its activity, in one transaction: one row.
    expect((await moveTo(x, 'proposal')).status).toBe(200);
    expect(await appended()).toEqual([x]);

    await Database.of(t.orm).session(async (sql) => {
      // By hand: one lead's status changed, then another's activity added.
      await sql.query('begin');
      await sql.query(`update lead.leads set status = 'proposal' where id = $1`, [y]);
      await sql.query(activity(z, 'proposal'));
      await sql.query('commit');
      expect(await appended()).toEqual([x, y, z]);
      // A fold inside the transaction takes the lead's row before its activity is added.
      await sql.query('begin');
      await sql.query(`update lead.leads set status = 'closed_won' where id = $1`, [w]);
      await sql.query('set constraints all immediate');
      await sql.query('select lead.lead_stages_fold(null, true)');
      await sql.query('set constraints all deferred');
      await sql.query(activity(w, 'closed_won'));
      await sql.query('commit');
    });
    // It folded the three before; the activity added after it appended its lead again.
    expect(await appended()).toEqual([w]);
    await upkeep().foldStages();
    expect(await rows('lead.lead_stages')).toEqual(await rows('lead.lead_stage_rows'));
  });
});
