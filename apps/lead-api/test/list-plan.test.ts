import { Database, listQueries, type LeadStatus } from '@lead/db';
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';

// A list page must read the filter's own index, whatever the newest leads look like. Here the
// newest third of the leads are all `new` (a burst of captures): a plan that walks the
// (created_at, id) index and filters by status would skip all of them for every other status.
// The plan is what is asserted (not a time), from PostgreSQL's EXPLAIN of the service's SQL.

let t: TestApp;
let db: Database;
const STATUSES: LeadStatus[] = ['new', 'contacted', 'qualified', 'proposal', 'closed_won', 'closed_lost'];

beforeAll(async () => {
  t = await startTestApp();
  db = Database.of(t.orm);
  await db.query(`
    insert into lead.leads (id, name, email, source, status, priority, created_at, updated_at)
    select gen_random_uuid(), 'Lead ' || i, 'lead' || i || '@example.com', 'website',
           case when i > 20000 then 'new' else (array['new','contacted','qualified','proposal','closed_won','closed_lost'])[1 + i % 6] end,
           'medium', timestamptz '2026-01-01' + i * interval '1 minute', timestamptz '2026-01-01' + i * interval '1 minute'
      from generate_series(1, 30000) as i`);
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
