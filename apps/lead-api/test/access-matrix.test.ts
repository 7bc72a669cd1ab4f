import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ID, sampleLead, startTestApp, type TestApp } from './support/app.js';
import { allProcedures, callProcedure, SURFACES } from './support/surfaces.js';

const CMS_ID = '22222222-2222-4222-8222-222222222222';
const OWNER_ID = '33333333-3333-4333-8333-333333333333';
const OTHER_SALES_ID = '44444444-4444-4444-8444-444444444444';
const UNKNOWN_ROLE_ID = '55555555-5555-4555-8555-555555555555';
const SOMEONE_ELSE = '66666666-6666-4666-8666-666666666666';

const PRINCIPALS = ['no token', 'bad token', 'admin', 'cms', 'sales owner', 'sales non-owner', 'unknown role'] as const;
type Principal = (typeof PRINCIPALS)[number];

/** The subject each principal acts as (null: nobody is authenticated). */
const SUB: Record<Principal, string | null> = {
  'no token': null,
  'bad token': null,
  admin: ADMIN_ID,
  cms: CMS_ID,
  'sales owner': OWNER_ID,
  'sales non-owner': OTHER_SALES_ID,
  'unknown role': UNKNOWN_ROLE_ID,
};

/**
 * Expected REST status per procedure and principal; the lead under test is assigned to the
 * "sales owner". Over /trpc a success is always 200. `assign` hands the lead to someone else,
 * which only staff who work every lead may do.
 */
const EXPECTED: Record<
  string,
  {
    input: (leadId: string) => Record<string, unknown> | undefined;
    /** Sets the lead up for the call and gives its input, where `input` alone cannot. */
    prepare?: (leadId: string) => Promise<Record<string, unknown>>;
    status: Record<Principal, number>;
  }
> = {
  health: {
    input: () => undefined,
    status: { 'no token': 200, 'bad token': 200, admin: 200, cms: 200, 'sales owner': 200, 'sales non-owner': 200, 'unknown role': 200 },
  },
  'probes.live': {
    input: () => undefined,
    status: { 'no token': 200, 'bad token': 200, admin: 200, cms: 200, 'sales owner': 200, 'sales non-owner': 200, 'unknown role': 200 },
  },
  'probes.ready': {
    input: () => undefined,
    status: { 'no token': 200, 'bad token': 200, admin: 200, cms: 200, 'sales owner': 200, 'sales non-owner': 200, 'unknown role': 200 },
  },
  'leads.create': {
    input: () => sampleLead(),
    status: { 'no token': 201, 'bad token': 201, admin: 201, cms: 201, 'sales owner': 201, 'sales non-owner': 201, 'unknown role': 201 },
  },
  'leads.list': {
    input: () => ({}),
    status: { 'no token': 401, 'bad token': 401, admin: 200, cms: 200, 'sales owner': 200, 'sales non-owner': 200, 'unknown role': 403 },
  },
  'leads.get': {
    input: (id) => ({ lead_id: id }),
    status: { 'no token': 401, 'bad token': 401, admin: 200, cms: 200, 'sales owner': 200, 'sales non-owner': 404, 'unknown role': 403 },
  },
  'leads.updateStatus': {
    input: (id) => ({ lead_id: id, status: 'contacted', notes: 'Called' }),
    status: { 'no token': 401, 'bad token': 401, admin: 200, cms: 200, 'sales owner': 200, 'sales non-owner': 404, 'unknown role': 403 },
  },
  'leads.update': {
    input: (id) => ({ lead_id: id, company: 'Globex', priority: 'high' }),
    status: { 'no token': 401, 'bad token': 401, admin: 200, cms: 200, 'sales owner': 200, 'sales non-owner': 404, 'unknown role': 403 },
  },
  // Merges the lead under test into a fresh lead of the same owner (see MERGE_TARGET).
  'leads.merge': {
    input: (id) => ({ lead_id: id, into: mergeTargets.get(id) }),
    status: { 'no token': 401, 'bad token': 401, admin: 200, cms: 200, 'sales owner': 200, 'sales non-owner': 404, 'unknown role': 403 },
  },
  'leads.assign': {
    input: (id) => ({ lead_id: id, assigned_to: SOMEONE_ELSE }),
    status: { 'no token': 401, 'bad token': 401, admin: 200, cms: 200, 'sales owner': 403, 'sales non-owner': 404, 'unknown role': 403 },
  },
  'leads.addActivity': {
    input: (id) => ({ lead_id: id, activity_type: 'note_added', description: 'Sent pricing' }),
    status: { 'no token': 401, 'bad token': 401, admin: 201, cms: 201, 'sales owner': 201, 'sales non-owner': 404, 'unknown role': 403 },
  },
  'audit.list': {
    input: () => ({}),
    status: { 'no token': 401, 'bad token': 401, admin: 200, cms: 403, 'sales owner': 403, 'sales non-owner': 403, 'unknown role': 403 },
  },
  'events.list': {
    input: () => ({}),
    status: { 'no token': 401, 'bad token': 401, admin: 200, cms: 403, 'sales owner': 403, 'sales non-owner': 403, 'unknown role': 403 },
  },
  'events.stats': {
    input: () => undefined,
    status: { 'no token': 401, 'bad token': 401, admin: 200, cms: 403, 'sales owner': 403, 'sales non-owner': 403, 'unknown role': 403 },
  },
  'privacy.retention': {
    input: () => undefined,
    status: { 'no token': 401, 'bad token': 401, admin: 200, cms: 403, 'sales owner': 403, 'sales non-owner': 403, 'unknown role': 403 },
  },
  'reports.pipeline': {
    input: () => ({}),
    status: { 'no token': 401, 'bad token': 401, admin: 200, cms: 200, 'sales owner': 200, 'sales non-owner': 200, 'unknown role': 403 },
  },
  'reports.sources': {
    input: () => ({ group_by: 'source' }),
    status: { 'no token': 401, 'bad token': 401, admin: 200, cms: 200, 'sales owner': 200, 'sales non-owner': 200, 'unknown role': 403 },
  },
  // The lead gets an address of its own first, so that the export names exactly it.
  'privacy.export': {
    input: () => ({}),
    prepare: async (leadId) => {
      const email = `export-${leadId}@example.com`;
      await t.sql('update lead.leads set email = ? where id = ?', [email, leadId]);
      return { email };
    },
    status: { 'no token': 401, 'bad token': 401, admin: 200, cms: 403, 'sales owner': 403, 'sales non-owner': 403, 'unknown role': 403 },
  },
  'privacy.erase': {
    input: (id) => ({ lead_id: id, reason: 'access matrix' }),
    status: { 'no token': 401, 'bad token': 401, admin: 200, cms: 403, 'sales owner': 403, 'sales non-owner': 403, 'unknown role': 403 },
  },
  // The lead's LeadCreated event, made dead first (`prepare`): only the admin may revive it.
  'events.retry': {
    input: () => ({ event_id: '00000000-0000-4000-8000-000000000000' }),
    prepare: async (leadId) => {
      const [event] = await t.sql<{ event_id: string }>(
        `update lead.outbox_events set state = 'dead' where lead_id = ? returning event_id`,
        [leadId],
      );
      return { event_id: event!.event_id };
    },
    status: { 'no token': 401, 'bad token': 401, admin: 200, cms: 403, 'sales owner': 403, 'sales non-owner': 403, 'unknown role': 403 },
  },
};

/** For each lead under test, the lead of the same owner a merge goes into. */
const mergeTargets = new Map<string, string>();

const CODE: Record<number, string> = { 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND' };

let t: TestApp;
const authorization = {} as Record<Principal, string | undefined>;
beforeAll(async () => {
  t = await startTestApp();
  const forged = await new SignJWT({ role: 'admin' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(ADMIN_ID)
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode('not-the-service-secret-but-just-as-long-!!'));
  authorization['no token'] = undefined;
  authorization['bad token'] = `Bearer ${forged}`;
  authorization.admin = `Bearer ${await t.token('admin', ADMIN_ID)}`;
  authorization.cms = `Bearer ${await t.token('cms', CMS_ID)}`;
  authorization['sales owner'] = `Bearer ${await t.token('sales', OWNER_ID)}`;
  authorization['sales non-owner'] = `Bearer ${await t.token('sales', OTHER_SALES_ID)}`;
  authorization['unknown role'] = `Bearer ${await t.token('marketing', UNKNOWN_ROLE_ID)}`;
  // The non-owner has a lead of their own, so their list is not trivially empty.
  await newLeadAssignedTo(OTHER_SALES_ID);
});

async function newLeadAssignedTo(sub: string): Promise<string> {
  const created = await t.rest('POST', '/api/v1/leads', { body: sampleLead() });
  await t.sql('update lead.leads set assigned_to = ? where id = ?', [sub, created.body.id]);
  return created.body.id;
}

/** Everything a refused call must leave untouched. */
async function snapshot(leadId: string) {
  return {
    lead: await t.sql('select * from lead.leads where id = ?', [leadId]),
    activities: await t.sql('select * from lead.lead_activities where lead_id = ? order by id', [leadId]),
    leads: await t.sql('select count(*)::int as n from lead.leads'),
    audit: await t.sql<{ n: number }>('select count(*)::int as n from lead.audit_log'),
    events: await t.sql('select count(*)::int as n, max(attempts) as attempts from lead.outbox_events'),
  };
}

const latestAudit = async () =>
  (
    await t.sql<{ actor_sub: string | null; actor_role: string | null; action: string; lead_ids: string[] }>(
      'select actor_sub, actor_role, action, lead_ids from lead.audit_log order by id desc limit 1',
    )
  )[0];

it('the table covers every procedure in the contracts', () => {
  expect(Object.keys(EXPECTED).sort()).toEqual(
    allProcedures()
      .map(([path]) => path)
      .sort(),
  );
});

const contractOf = (path: string) => allProcedures().find(([p]) => p === path)![1];

const cells = allProcedures().flatMap(([path]) =>
  SURFACES.flatMap((surface) => PRINCIPALS.map((principal) => ({ path, surface, principal }))),
);

describe('every procedure × caller × surface', () => {
  it.each(cells)('$path over $surface as $principal', async ({ path, surface, principal }) => {
    const leadId = await newLeadAssignedTo(OWNER_ID);
    if (path === 'leads.merge') mergeTargets.set(leadId, await newLeadAssignedTo(OWNER_ID));
    const expected = EXPECTED[path]!;
    const restStatus = expected.status[principal];
    const input = expected.prepare ? await expected.prepare(leadId) : expected.input(leadId);
    const before = await snapshot(leadId);

    const res = await callProcedure(t, surface, path, input, authorization[principal]);

    if (restStatus >= 400) {
      expect(res).toEqual({ status: restStatus, code: CODE[restStatus] });
      expect(await snapshot(leadId)).toEqual(before);
      return;
    }
    expect(res.status).toBe(surface === 'rest' ? restStatus : 200);
    // Exactly the audit rows the contract's policy asks for: one per audited call, by this caller.
    const { audit: auditPolicy } = contractOf(path).meta.policy;
    const written = (await snapshot(leadId)).audit[0]!.n - before.audit[0]!.n;
    expect(written).toBe(auditPolicy === 'none' ? 0 : 1);
    if (auditPolicy === 'none') {
      if (path === 'audit.list') expect(res.data.total).toBeGreaterThan(0);
      return;
    }

    const audit = await latestAudit();
    expect(audit).toMatchObject({ action: path });
    if (path === 'leads.create') {
      // The public form: nobody is authenticated, whatever header it sends.
      expect(audit).toMatchObject({ actor_sub: null, actor_role: null, lead_ids: [res.data.id] });
      return;
    }
    expect(audit).toMatchObject({ actor_sub: SUB[principal] });
    if (path === 'events.list') {
      expect(res.data.total).toBeGreaterThan(0);
      expect(audit!.lead_ids).toEqual([...new Set(res.data.items.map((event: { lead_id: string }) => event.lead_id))]);
      return;
    }

    if (path.startsWith('reports.')) {
      // Figures only: the call is in the trail, naming no lead; sales count only their own leads.
      expect(audit!.lead_ids).toEqual([]);
      const visible = principal.startsWith('sales')
        ? await t.sql('select 1 from lead.leads where assigned_to = ?', [SUB[principal]])
        : await t.sql('select 1 from lead.leads');
      const counted = path === 'reports.pipeline' ? res.data.leads : res.data.total.leads;
      expect(counted).toBe(visible.length);
      return;
    }
    if (path === 'privacy.retention') {
      // Counts only: in the trail, naming no lead. The defaults are in force; the lead rules are off.
      expect(audit!.lead_ids).toEqual([]);
      expect(res.data.rules.closed_leads).toEqual({ days: null, would_erase: 0 });
      return;
    }
    const [lead] = await t.sql<{ status: string; assigned_to: string }>('select status, assigned_to from lead.leads where id = ?', [
      leadId,
    ]);
    if (path === 'leads.list') {
      const ids = res.data.items.map((item: { id: string }) => item.id);
      expect(audit!.lead_ids).toEqual(ids);
      if (principal.startsWith('sales')) {
        expect(res.data.items.every((item: { assigned_to: string }) => item.assigned_to === SUB[principal])).toBe(true);
        expect(res.data.total).toBe((await t.sql('select 1 from lead.leads where assigned_to = ?', [SUB[principal]])).length);
      } else {
        expect(res.data.total).toBe((await t.sql('select 1 from lead.leads')).length);
      }
      expect(ids.includes(leadId)).toBe(principal !== 'sales non-owner');
      return;
    }
    if (path === 'leads.merge') {
      expect(audit!.lead_ids).toEqual([leadId, mergeTargets.get(leadId)]);
      expect(res.data.id).toBe(mergeTargets.get(leadId));
      expect(await t.sql('select status, lost_reason, merged_into from lead.leads where id = ?', [leadId])).toEqual([
        { status: 'closed_lost', lost_reason: 'duplicate', merged_into: mergeTargets.get(leadId) },
      ]);
      return;
    }
    expect(audit!.lead_ids).toEqual([leadId]);
    if (path === 'leads.get') expect(res.data.id).toBe(leadId);
    if (path === 'events.retry') expect(res.data).toMatchObject({ event_id: input!.event_id, state: 'pending', lead_id: leadId });
    if (path === 'leads.update') expect(res.data).toMatchObject({ id: leadId, company: 'Globex', priority: 'high' });
    if (path === 'leads.updateStatus') expect(lead!.status).toBe('contacted');
    if (path === 'leads.assign') expect(lead!.assigned_to).toBe(SOMEONE_ELSE);
    if (path === 'privacy.export') expect(res.data.leads.map((l: { id: string }) => l.id)).toEqual([leadId]);
    if (path === 'privacy.erase') {
      expect(res.data.leads).toEqual([expect.objectContaining({ lead_id: leadId, already_erased: false })]);
      expect(await t.sql('select name, erased_at is not null as erased from lead.leads where id = ?', [leadId])).toEqual([
        { name: 'Erased', erased: true },
      ]);
    }
    if (path === 'leads.addActivity') {
      const notes = await t.sql('select performed_by from lead.lead_activities where lead_id = ? and activity_type = ?', [
        leadId,
        'note_added',
      ]);
      expect(notes).toEqual([{ performed_by: SUB[principal] }]);
    }
  });
});

describe('sales and assignment', () => {
  it.each(SURFACES)('a sales user may release their lead or keep it, over %s', async (surface) => {
    const leadId = await newLeadAssignedTo(OWNER_ID);
    const keep = await callProcedure(t, surface, 'leads.assign', { lead_id: leadId, assigned_to: OWNER_ID }, authorization['sales owner']);
    expect(keep.status).toBe(200);
    const release = await callProcedure(t, surface, 'leads.assign', { lead_id: leadId, assigned_to: null }, authorization['sales owner']);
    expect(release.status).toBe(200);
    expect(await t.sql('select assigned_to from lead.leads where id = ?', [leadId])).toEqual([{ assigned_to: null }]);
    // Released, the lead is out of their reach like any other.
    const after = await callProcedure(t, surface, 'leads.get', { lead_id: leadId }, authorization['sales owner']);
    expect(after).toEqual({ status: 404, code: 'NOT_FOUND' });
  });

  it.each(SURFACES)("another sales user's lead answers exactly like a lead that does not exist, over %s", async (surface) => {
    const leadId = await newLeadAssignedTo(OWNER_ID);
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const path of ['leads.get', 'leads.update', 'leads.updateStatus', 'leads.addActivity', 'leads.assign']) {
      const input = { ...EXPECTED[path]!.input(leadId), assigned_to: OTHER_SALES_ID };
      const other = await callProcedure(t, surface, path, input, authorization['sales non-owner']);
      const none = await callProcedure(t, surface, path, { ...input, lead_id: missing }, authorization['sales non-owner']);
      expect(other).toEqual(none);
    }
  });

  it('a sales user filtering the list by another assignee sees nothing', async () => {
    const res = await callProcedure(t, 'rest', 'leads.list', { assigned_to: OWNER_ID }, authorization['sales non-owner']);
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ items: [], total: 0 });
  });
});
