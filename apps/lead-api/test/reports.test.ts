import { LEAD_STATUSES, type LeadStatus } from '@lead/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';
import { seeded } from './support/random.js';
import { callProcedure, SURFACES } from './support/surfaces.js';

// The reports are checked against figures computed here, in plain TypeScript, from the very
// timelines this file creates: leads go through the API (create with attribution, status changes
// back and forth), and their timestamps are then moved to planned instants, so that periods and
// times in stage are known exactly.

const SALES_ID = '77777777-7777-4777-8777-777777777777';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const BASE = Date.parse('2025-01-01T00:00:00Z');
const RANK: Record<LeadStatus, number> = { new: 0, contacted: 1, qualified: 2, proposal: 3, closed_won: 4, closed_lost: -1 };
const CLOSED = new Set<LeadStatus>(['closed_won', 'closed_lost']);

interface Planned {
  id: string;
  source: 'website' | 'referral' | 'social' | 'other';
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  assigned_to: string | null;
  /** `new` at creation, then every status change, in order. */
  timeline: Array<{ stage: LeadStatus; at: number }>;
  closedAt: number | null;
}

const { next: rnd, pick } = seeded(14);

function plan(): Omit<Planned, 'id' | 'closedAt'> {
  const created = BASE + Math.floor(rnd() * 60) * DAY + Math.floor(rnd() * 24) * HOUR;
  const timeline: Planned['timeline'] = [{ stage: 'new', at: created }];
  // A walk that moves forward mostly, sometimes back, and reopens closed leads now and then.
  const moves = Math.floor(rnd() * 7);
  let at = created;
  for (let i = 0; i < moves; i++) {
    const current = timeline.at(-1)!.stage;
    const next = pick(LEAD_STATUSES.filter((s) => s !== current && (rnd() < 0.6 ? RANK[s] > RANK[current] || s === 'closed_lost' : true)));
    at += (1 + Math.floor(rnd() * 240)) * HOUR + Math.floor(rnd() * 3600) * 1000;
    timeline.push({ stage: next, at });
  }
  return {
    source: pick(['website', 'referral', 'social', 'other'] as const),
    utm_source: pick(['google', 'newsletter', 'linkedin', null]),
    utm_medium: pick(['cpc', 'email', 'social', null]),
    utm_campaign: pick(['spring', 'summer', null]),
    assigned_to: rnd() < 0.35 ? SALES_ID : null,
    timeline,
  };
}

/** `closed_at` as the service keeps it: set on closing, kept between closed states, cleared on reopening. */
function closedAtOf(timeline: Planned['timeline']): number | null {
  let closedAt: number | null = null;
  for (const { stage, at } of timeline.slice(1)) closedAt = CLOSED.has(stage) ? (closedAt ?? at) : null;
  return closedAt;
}

/** PostgreSQL's percentile_cont: linear interpolation between the closest ranks. */
function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

interface Filters {
  from?: string;
  to?: string;
  status?: LeadStatus;
  source?: string;
  assigned_to?: string;
  utm_source?: string;
  utm_medium?: string;
  utm_campaign?: string;
}

function matching(leads: Planned[], f: Filters): Planned[] {
  return leads.filter(
    (l) =>
      (f.status === undefined || l.timeline.at(-1)!.stage === f.status) &&
      (f.source === undefined || l.source === f.source) &&
      (f.assigned_to === undefined || l.assigned_to === f.assigned_to) &&
      (f.utm_source === undefined || l.utm_source === f.utm_source) &&
      (f.utm_medium === undefined || l.utm_medium === f.utm_medium) &&
      (f.utm_campaign === undefined || l.utm_campaign === f.utm_campaign),
  );
}
const inPeriod = (at: number, f: Filters) => (!f.from || at >= Date.parse(f.from)) && (!f.to || at < Date.parse(f.to));

function expectedPipeline(all: Planned[], f: Filters) {
  const leads = matching(all, f);
  const created = leads.filter((l) => inPeriod(l.timeline[0]!.at, f));
  const byStatus = Object.fromEntries(LEAD_STATUSES.map((s) => [s, created.filter((l) => l.timeline.at(-1)!.stage === s).length]));
  const stages = LEAD_STATUSES.map((stage) => {
    let entered = 0;
    let toNext = 0;
    let toWon = 0;
    const durations: number[] = [];
    for (const lead of leads) {
      const t = lead.timeline;
      const first = t.findIndex((e) => e.stage === stage && inPeriod(e.at, f));
      if (first >= 0) {
        entered++;
        const later = t.slice(first + 1);
        if (later.some((e) => RANK[e.stage] > RANK[stage])) toNext++;
        if (later.some((e) => e.stage === 'closed_won')) toWon++;
      }
      t.forEach((e, i) => {
        if (e.stage === stage && inPeriod(e.at, f) && t[i + 1]) durations.push((t[i + 1]!.at - e.at) / 1000);
      });
    }
    const closed = CLOSED.has(stage);
    return {
      stage,
      entered,
      converted_to_next: closed ? null : toNext,
      conversion_to_next: closed ? null : ratio(toNext, entered),
      converted_to_won: closed ? null : toWon,
      conversion_to_won: closed ? null : ratio(toWon, entered),
      stints: durations.length,
      median_seconds: percentile(durations, 0.5),
      p90_seconds: percentile(durations, 0.9),
    };
  });
  const won = stages.find((s) => s.stage === 'closed_won')!.entered;
  const lost = stages.find((s) => s.stage === 'closed_lost')!.entered;
  return { leads: created.length, by_status: byStatus, stages, won, lost, win_rate: ratio(won, won + lost) };
}

function expectedSources(all: Planned[], groupBy: 'source' | 'utm_source' | 'utm_medium' | 'utm_campaign', f: Filters) {
  const leads = matching(all, f).filter((l) => inPeriod(l.timeline[0]!.at, f));
  const groups = new Map<string | null, Planned[]>();
  for (const lead of leads) groups.set(lead[groupBy], [...(groups.get(lead[groupBy]) ?? []), lead]);
  return [...groups.entries()]
    .map(([key, members]) => {
      const won = members.filter((l) => l.timeline.at(-1)!.stage === 'closed_won').length;
      const lost = members.filter((l) => l.timeline.at(-1)!.stage === 'closed_lost').length;
      const days = members.filter((l) => CLOSED.has(l.timeline.at(-1)!.stage)).map((l) => (l.closedAt! - l.timeline[0]!.at) / DAY);
      return {
        key,
        leads: members.length,
        reached_qualified: members.filter((l) => l.timeline.some((e) => ['qualified', 'proposal', 'closed_won'].includes(e.stage))).length,
        won,
        lost,
        conversion_to_won: ratio(won, members.length),
        median_days_to_close: percentile(days, 0.5),
      };
    })
    .sort((a, b) => b.leads - a.leads || (a.key === null ? 1 : b.key === null ? -1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Numbers compared to 9 significant digits (percentiles are computed in floating point on both sides). */
function close(actual: unknown, expected: unknown, path = 'report'): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    expect(Math.abs(actual - expected), `${path}: ${actual} vs ${expected}`).toBeLessThanOrEqual(Math.abs(expected) * 1e-9 + 1e-9);
  } else if (expected !== null && typeof expected === 'object') {
    expect(actual, path).toBeTypeOf('object');
    expect(Object.keys(actual as object).sort(), path).toEqual(Object.keys(expected).sort());
    for (const key of Object.keys(expected)) close((actual as any)[key], (expected as any)[key], `${path}.${key}`);
  } else {
    expect(actual, path).toEqual(expected);
  }
}

let t: TestApp;
let admin: string;
let sales: string;
const leads: Planned[] = [];

beforeAll(async () => {
  t = await startTestApp();
  admin = await t.token();
  sales = await t.token('sales', SALES_ID);
  for (let i = 0; i < 70; i++) {
    const p = plan();
    const attribution = Object.fromEntries(
      (['utm_source', 'utm_medium', 'utm_campaign'] as const).filter((k) => p[k] !== null).map((k) => [k, p[k]]),
    );
    const created = await t.rest('POST', '/api/v1/leads', {
      body: { ...sampleLead({ name: `Person ${i}`, email: `person${i}@example.com` }), source: p.source, attribution },
    });
    const id = created.body.id as string;
    for (const { stage } of p.timeline.slice(1)) {
      const res = await t.rest('PATCH', `/api/v1/leads/${id}/status`, {
        token: admin,
        // Closing as lost needs a reason (issue 16).
        body: { status: stage, ...(stage === 'closed_lost' ? { lost_reason: 'other' } : {}) },
      });
      expect(res.status).toBe(200);
    }
    // The changes happened just now: move them to their planned instants, in the same order.
    const changes = await t.sql<{ id: string }>(
      `select id from lead.lead_activities where lead_id = ? and activity_type = 'status_changed' order by created_at, id`,
      [id],
    );
    expect(changes).toHaveLength(p.timeline.length - 1);
    for (const [k, change] of changes.entries()) {
      await t.sql('update lead.lead_activities set created_at = ? where id = ?', [new Date(p.timeline[k + 1]!.at), change.id]);
    }
    const closedAt = closedAtOf(p.timeline);
    await t.sql(`update lead.lead_activities set created_at = ? where lead_id = ? and activity_type = 'created'`, [
      new Date(p.timeline[0]!.at),
      id,
    ]);
    await t.sql('update lead.leads set created_at = ?, updated_at = ?, closed_at = ?, assigned_to = ? where id = ?', [
      new Date(p.timeline[0]!.at),
      new Date(p.timeline.at(-1)!.at),
      closedAt === null ? null : new Date(closedAt),
      p.assigned_to,
      id,
    ]);
    leads.push({ ...p, id, closedAt });
  }
  // The walk must really go back and forth, or the test proves less than it claims.
  expect(
    leads.some((l) => l.timeline.some((e, i) => i > 0 && RANK[e.stage] < RANK[l.timeline[i - 1]!.stage] && e.stage !== 'closed_lost')),
  ).toBe(true);
  expect(leads.some((l) => l.timeline.filter((e) => e.stage === 'contacted').length > 1)).toBe(true);
}, 120_000);

const PERIODS: Filters[] = [
  {},
  { from: '2025-01-20T00:00:00Z', to: '2025-02-19T00:00:00Z' },
  { from: '2025-02-01T12:00:00+02:00' },
  { to: '2025-01-15T00:00:00Z' },
];
const FILTERS: Filters[] = [
  {},
  { utm_campaign: 'spring' },
  { source: 'social', utm_medium: 'cpc' },
  { status: 'closed_won' },
  { utm_source: 'google', assigned_to: SALES_ID },
];

describe('reports.pipeline', () => {
  it.each(SURFACES)('matches figures computed independently, for each period and filter, over %s', async (surface) => {
    for (const period of PERIODS) {
      for (const filter of FILTERS) {
        const input = { ...period, ...filter };
        const res = await callProcedure(t, surface, 'reports.pipeline', input, `Bearer ${admin}`);
        expect(res.status).toBe(200);
        const { from, to, ...figures } = res.data;
        close(figures, expectedPipeline(leads, input), JSON.stringify(input));
        const asIso = (v: unknown) => (v === null ? null : new Date(v as string).toISOString());
        expect([asIso(from), asIso(to)]).toEqual([
          period.from ? new Date(period.from).toISOString() : null,
          period.to ? new Date(period.to).toISOString() : null,
        ]);
      }
    }
  });

  it('without a period, counts by status exactly as the list totals do', async () => {
    const report = await t.rest('GET', '/api/v1/reports/pipeline?utm_campaign=spring', { token: admin });
    for (const status of LEAD_STATUSES) {
      const list = await t.rest('GET', `/api/v1/leads?utm_campaign=spring&status=${status}&limit=1`, { token: admin });
      expect(report.body.by_status[status], status).toBe(list.body.total);
    }
    const all = await t.rest('GET', '/api/v1/leads?utm_campaign=spring&limit=1', { token: admin });
    expect(report.body.leads).toBe(all.body.total);
  });

  it('gives a sales user the figures of their own leads only', async () => {
    const input = { from: '2025-01-10T00:00:00Z', to: '2025-03-01T00:00:00Z' };
    const res = await callProcedure(t, 'rest', 'reports.pipeline', input, `Bearer ${sales}`);
    const { from, to, ...figures } = res.data;
    void from;
    void to;
    close(figures, expectedPipeline(leads, { ...input, assigned_to: SALES_ID }));
    expect(res.data.leads).toBeLessThan(expectedPipeline(leads, input).leads);
  });

  it('refuses a bad period with a field-level 400', async () => {
    const res = await t.rest('GET', '/api/v1/reports/pipeline?from=yesterday', { token: admin });
    expect(res.status).toBe(400);
    expect(res.body.issues[0].path).toEqual(['from']);
  });
});

describe('reports.sources', () => {
  const GROUPS = ['source', 'utm_source', 'utm_medium', 'utm_campaign'] as const;

  it.each(SURFACES)('matches figures computed independently, for each grouping, period and filter, over %s', async (surface) => {
    for (const group_by of GROUPS) {
      for (const period of PERIODS) {
        for (const filter of FILTERS.slice(0, 3)) {
          const input = { group_by, ...period, ...filter };
          const res = await callProcedure(t, surface, 'reports.sources', input, `Bearer ${admin}`);
          expect(res.status).toBe(200);
          const expected = expectedSources(leads, group_by, input);
          close(res.data.groups, expected, JSON.stringify(input));
          const sum = (k: 'leads' | 'reached_qualified' | 'won' | 'lost') => expected.reduce((n, g) => n + g[k], 0);
          expect(res.data.total).toEqual({
            leads: sum('leads'),
            reached_qualified: sum('reached_qualified'),
            won: sum('won'),
            lost: sum('lost'),
          });
          expect(res.data.group_by).toBe(group_by);
        }
      }
    }
  });

  it('without a period, counts each source exactly as the list totals do', async () => {
    const report = await t.rest('GET', '/api/v1/reports/sources?group_by=source', { token: admin });
    for (const group of report.body.groups) {
      const list = await t.rest('GET', `/api/v1/leads?source=${group.key}&limit=1`, { token: admin });
      expect(group.leads, group.key).toBe(list.body.total);
    }
    expect(report.body.total.leads).toBe((await t.rest('GET', '/api/v1/leads?limit=1', { token: admin })).body.total);
  });

  it('holds no personal data', async () => {
    const text = JSON.stringify([
      (await t.rest('GET', '/api/v1/reports/sources?group_by=utm_campaign', { token: admin })).body,
      (await t.rest('GET', '/api/v1/reports/pipeline', { token: admin })).body,
    ]);
    expect(text).not.toMatch(/Person|@example\.com|\+9198|Acme|[0-9a-f]{8}-[0-9a-f]{4}-/);
  });

  it('refuses an unknown grouping with a field-level 400', async () => {
    const res = await t.rest('GET', '/api/v1/reports/sources?group_by=email', { token: admin });
    expect(res.status).toBe(400);
    expect(res.body.issues[0].path).toEqual(['group_by']);
  });
});
