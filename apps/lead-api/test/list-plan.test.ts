import { Database, listQueries, type LeadFilter, type LeadScope, type LeadStatus } from '@lead/db';
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';

// A list page must read the filter's own index, whatever the newest leads look like. Here the
// newest third of the leads are all `new` (a burst of captures): a plan that walks the
// (created_at, id) index and filters by status would skip all of them for every other status.
// The plan is what is asserted (not a time), from PostgreSQL's EXPLAIN of the service's SQL.

let t: TestApp;
let db: Database;
const STATUSES: LeadStatus[] = ['new', 'contacted', 'qualified', 'proposal', 'closed_won', 'closed_lost'];
const ASSIGNEES = ['00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-0000000000a3'];

beforeAll(async () => {
  t = await startTestApp();
  db = Database.of(t.orm);
  await db.query(`
    insert into lead.leads (id, name, email, source, status, priority, created_at, updated_at)
    select gen_random_uuid(), 'Lead ' || i, 'lead' || i || '@example.com', 'website',
           case when i > 20000 then 'new' else (array['new','contacted','qualified','proposal','closed_won','closed_lost'])[1 + i % 6] end,
           'medium', timestamptz '2026-01-01' + i * interval '1 minute', timestamptz '2026-01-01' + i * interval '1 minute'
      from generate_series(1, 30000) as i`);
  // Some leads assigned and attributed, so that those filters' indexes hold something to read.
  await db.query(`
    update lead.leads set assigned_to = (array[${ASSIGNEES.map((a) => `'${a}'::uuid`).join(', ')}])[1 + (extract(epoch from created_at)::bigint / 60) % ${ASSIGNEES.length}]
     where (extract(epoch from created_at)::bigint / 60) % 3 = 0`);
  await db.query(`
    update lead.leads set utm_source = 'google', utm_medium = 'cpc', utm_campaign = 'spring'
     where (extract(epoch from created_at)::bigint / 60) % 5 = 0`);
  await db.query('vacuum analyze lead.leads');
});

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Filter?: string;
  Plans?: PlanNode[];
}
const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];

async function planOf(status: LeadStatus, page: number) {
  const { text, values } = listQueries({ status }, { sort: 'created_at', order: 'desc', page, limit: 20 }, {}).items;
  const [row] = await db.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`explain (format json) ${text}`, values);
  return nodes(row!['QUERY PLAN'][0]!.Plan);
}

describe('a list page by status', () => {
  it.each(
    STATUSES.flatMap(
      (status) =>
        [
          [status, 1],
          [status, 5],
        ] as const,
    ),
  )('for %s, page %i, reads the status index only and fetches its rows by key', async (status, page) => {
    const plan = await planOf(status, page);
    const scans = plan.filter((n) => n['Node Type'].includes('Scan'));
    expect(scans).toContainEqual(
      expect.objectContaining({ 'Node Type': 'Index Only Scan', 'Index Name': 'leads_status_created_at_id_idx' }),
    );
    expect(scans.map((n) => n['Index Name'])).not.toContain('leads_created_at_id_idx');
    expect(scans.filter((n) => n.Filter?.includes('status'))).toEqual([]);
    expect(scans.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
  });

  it('returns the same page as reading the rows directly', async () => {
    const { text, values } = listQueries({ status: 'closed_won' }, { sort: 'created_at', order: 'desc', page: 3, limit: 20 }, {}).items;
    const viaIds = await db.query<{ id: string }>(text, values);
    const direct = await db.query<{ id: string }>(
      `select id from lead.leads where status = 'closed_won' order by created_at desc, id desc limit 20 offset 40`,
    );
    expect(viaIds.map((r) => r.id)).toEqual(direct.map((r) => r.id));
    expect(viaIds).toHaveLength(20);
  });
});

/** `value` as an SQL literal, for EXECUTE. */
const literal = (value: unknown) => (typeof value === 'number' ? String(value) : `'${String(value).replaceAll("'", "''")}'`);

/** The plan PostgreSQL makes for the statement's text alone (its generic plan), as the list runs it. */
async function genericPlanOf(text: string, values: unknown[]): Promise<PlanNode[]> {
  return db.session(async (session) => {
    await session.query(`prepare page as ${text}`);
    await session.query('set plan_cache_mode = force_generic_plan');
    const [row] = await session.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
      `explain (format json) execute page(${values.map(literal).join(', ')})`,
    );
    await session.query('reset plan_cache_mode');
    await session.query('deallocate page');
    return nodes(row!['QUERY PLAN'][0]!.Plan);
  });
}

describe('a list page in creation order with at most one equality filter', () => {
  // Each with the index it reads, (column, created_at, id); none: (created_at, id).
  const shapes: Array<[string, LeadFilter, LeadScope, string]> = [
    ['no filter', {}, {}, 'leads_created_at_id_idx'],
    ['status', { status: 'contacted' }, {}, 'leads_status_created_at_id_idx'],
    ['source', { source: 'website' }, {}, 'leads_source_created_at_id_idx'],
    ['assignee', { assignedTo: ASSIGNEES[0] }, {}, 'leads_assigned_to_created_at_id_idx'],
    ["a sales user's own", {}, { assignedTo: ASSIGNEES[1] }, 'leads_assigned_to_created_at_id_idx'],
    ['utm source', { utmSource: 'google' }, {}, 'leads_utm_source_created_at_id_idx'],
    ['utm medium', { utmMedium: 'cpc' }, {}, 'leads_utm_medium_created_at_id_idx'],
    ['utm campaign', { utmCampaign: 'spring' }, {}, 'leads_utm_campaign_created_at_id_idx'],
  ];
  const requests = [
    { sort: 'created_at', order: 'desc', page: 3, limit: 20 },
    { sort: 'created_at', order: 'asc', page: 1, limit: 50 },
    {
      sort: 'created_at',
      order: 'desc',
      page: 1,
      limit: 20,
      after: { key: '2026-01-10 00:00:00+00', id: '80000000-0000-4000-8000-000000000000' },
    },
  ] as const;

  it.each(
    shapes.flatMap(([label, filter, scope, index]) =>
      requests.map((request) => [label, request.order, request.page, filter, scope, index, request] as const),
    ),
  )(
    '(%s, %s, page %i) runs on its generic plan, which reads its index in order, as the plan for its values does',
    async (_label, _order, _page, filter, scope, index, request) => {
      const { text, values, genericPlan } = listQueries(filter, request, scope).items;
      expect(genericPlan).toBe(true);
      const generic = await genericPlanOf(text, values);
      const [row] = await db.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`explain (format json) ${text}`, values);
      const custom = nodes(row!['QUERY PLAN'][0]!.Plan);
      for (const plan of [generic, custom]) {
        expect(plan).toContainEqual(expect.objectContaining({ 'Node Type': 'Index Only Scan', 'Index Name': index }));
        expect(plan.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
        // One sort only: the page's rows, by key; the ids came in order from the index.
        expect(plan.filter((n) => n['Node Type'] === 'Sort')).toHaveLength(1);
      }
    },
  );

  it.each([
    ['two equality filters', { status: 'contacted', source: 'website' }, {}, 'created_at'],
    ['an equality filter and the scope', { status: 'contacted' }, { assignedTo: ASSIGNEES[0] }, 'created_at'],
    ['a lost reason', { lostReason: 'price' }, {}, 'created_at'],
    ['updated since', { updatedSince: new Date('2026-01-02') }, {}, 'created_at'],
    ['another order', { status: 'contacted' }, {}, 'updated_at'],
    ['the name order', {}, {}, 'name'],
  ] as const)('with %s, is planned for its values', (_label, filter, scope, sort) => {
    expect(listQueries(filter, { sort, order: 'desc', page: 1, limit: 20 }, scope).items.genericPlan).toBe(false);
  });

  it('runs on its generic plan within its batch only, and leaves the setting as it was, also when the batch fails', async () => {
    const { text, values, genericPlan } = listQueries(
      { status: 'qualified' },
      { sort: 'created_at', order: 'desc', page: 2, limit: 20 },
      {},
    ).items;
    const direct = await db.query<{ id: string }>(
      `select id from lead.leads where status = 'qualified' order by created_at desc, id desc limit 20 offset 20`,
    );
    await db.session(async (session) => {
      const plans = async () => {
        const [row] = await session.query<{ generic_plans: string; custom_plans: string }>(
          'select generic_plans, custom_plans from pg_prepared_statements where statement = $1',
          [text],
        );
        return { generic: Number(row?.generic_plans ?? 0), custom: Number(row?.custom_plans ?? 0) };
      };
      const before = await plans();
      const [rows, [setting]] = (await session.batch([{ text, values, genericPlan }, { text: 'show plan_cache_mode' }])) as [
        Array<{ id: string }>,
        Array<{ plan_cache_mode: string }>,
      ];
      expect(rows.map((r) => r.id)).toEqual(direct.map((r) => r.id));
      expect(setting!.plan_cache_mode).toBe('auto');
      expect(await plans()).toEqual({ generic: before.generic + 1, custom: before.custom });
      await expect(
        session.batch([
          { text, values, genericPlan },
          { text: 'select 1 / (0 * $1::int)', values: [1] },
        ]),
      ).rejects.toThrow(/division by zero/);
      const [after] = await session.query<{ plan_cache_mode: string }>('show plan_cache_mode');
      expect(after!.plan_cache_mode).toBe('auto');
    });
  });
});
