import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ID, sampleLead, startTestApp, type TestApp } from './support/app.js';
import { callProcedure, SURFACES } from './support/surfaces.js';

const CMS_ID = '22222222-2222-4222-8222-222222222222';
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let t: TestApp;
let admin: string;
let cms: string;
beforeAll(async () => {
  t = await startTestApp();
  admin = await t.token('admin', ADMIN_ID);
  cms = await t.token('cms', CMS_ID);
});

const createLead = async () => (await t.rest('POST', '/api/v1/leads', { body: sampleLead() })).body.id as string;
const auditRows = (leadId: string) => t.sql('select * from lead.audit_log where lead_ids @> array[?]::uuid[] order by id', [leadId]);

describe('the audit trail', () => {
  it('records who read a lead, which one, when, under which request, from which address and client', async () => {
    const leadId = await createLead();
    const before = Date.now();
    const res = await t.rest('GET', `/api/v1/leads/${leadId}`, {
      token: cms,
      headers: { 'x-request-id': 'audit-read-1', 'user-agent': 'AuditTest/1.0' },
    });
    expect(res.status).toBe(200);
    const rows = await auditRows(leadId);
    expect(rows.map((r) => r.action)).toEqual(['leads.create', 'leads.get']);
    expect(rows[1]).toEqual({
      id: expect.any(String),
      actor_sub: CMS_ID,
      actor_role: 'cms',
      action: 'leads.get',
      lead_ids: [leadId],
      request_id: 'audit-read-1',
      client_ip: '127.0.0.1',
      user_agent: 'AuditTest/1.0',
      created_at: expect.any(String),
      reason: null,
    });
    expect(new Date(rows[1]!.created_at as string).getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('records every change with its actor, and the list with the ids of the page it returned', async () => {
    const leadId = await createLead();
    await t.rest('PATCH', `/api/v1/leads/${leadId}/status`, { token: admin, body: { status: 'contacted' } });
    await t.rest('POST', `/api/v1/leads/${leadId}/assign`, { token: admin, body: { assigned_to: CMS_ID } });
    await t.rest('POST', `/api/v1/leads/${leadId}/activities`, { token: cms, body: { activity_type: 'contacted', description: 'Called' } });
    const rows = await auditRows(leadId);
    expect(rows.map((r) => [r.action, r.actor_sub])).toEqual([
      ['leads.create', null],
      ['leads.updateStatus', ADMIN_ID],
      ['leads.assign', ADMIN_ID],
      ['leads.addActivity', CMS_ID],
    ]);

    const page = await t.rest('GET', '/api/v1/leads?limit=2', { token: cms, headers: { 'x-request-id': 'audit-list-1' } });
    const [listed] = await t.sql("select lead_ids from lead.audit_log where request_id = 'audit-list-1'");
    expect(listed!.lead_ids).toEqual(page.body.items.map((l: { id: string }) => l.id));
    expect(page.body.items).toHaveLength(2);
  });

  it('writes nothing for a refused call', async () => {
    const leadId = await createLead();
    await t.rest('PATCH', `/api/v1/leads/${leadId}/status`, { token: admin, body: { status: 'new' } });
    await t.rest('GET', `/api/v1/leads/${leadId}`, { token: await t.token('visitor') });
    expect((await auditRows(leadId)).map((r) => r.action)).toEqual(['leads.create']);
  });

  it('is append-only in the database itself: UPDATE, DELETE and TRUNCATE fail', async () => {
    const leadId = await createLead();
    await expect(t.sql("update lead.audit_log set actor_role = 'admin' where lead_ids @> array[?]::uuid[]", [leadId])).rejects.toThrow(
      /append-only: UPDATE/,
    );
    await expect(t.sql('delete from lead.audit_log where lead_ids @> array[?]::uuid[]', [leadId])).rejects.toThrow(/append-only: DELETE/);
    await expect(t.sql('truncate lead.audit_log')).rejects.toThrow(/append-only: TRUNCATE/);
    await expect(t.sql('truncate lead.leads, lead.audit_log cascade')).rejects.toThrow(/append-only: TRUNCATE/);
    expect(await auditRows(leadId)).toHaveLength(1);
  });
});

describe('when the audit row cannot be written', () => {
  const breakAudit = () =>
    t.sql(`create function lead.test_refuse_audit() returns trigger language plpgsql as $$
             begin raise exception 'audit storage is full'; end; $$;
           create trigger test_refuse_audit before insert on lead.audit_log for each row execute function lead.test_refuse_audit();`);
  const repairAudit = () => t.sql('drop trigger test_refuse_audit on lead.audit_log; drop function lead.test_refuse_audit();');

  it.each(SURFACES)('reads answer 503 without the data, and changes are not made, over %s', async (surface) => {
    const leadId = await createLead();
    const state = async () => ({
      lead: await t.sql('select * from lead.leads where id = ?', [leadId]),
      activities: await t.sql('select * from lead.lead_activities where lead_id = ?', [leadId]),
      leads: await t.sql('select count(*)::int as n from lead.leads'),
    });
    const before = await state();
    await breakAudit();
    try {
      const calls: Array<[string, Record<string, unknown>, string | undefined]> = [
        ['leads.list', {}, admin],
        ['leads.get', { lead_id: leadId }, admin],
        ['leads.updateStatus', { lead_id: leadId, status: 'qualified' }, admin],
        ['leads.assign', { lead_id: leadId, assigned_to: CMS_ID }, cms],
        ['leads.addActivity', { lead_id: leadId, activity_type: 'note_added', description: 'x' }, cms],
        ['leads.create', sampleLead(), undefined],
      ];
      for (const [path, input, token] of calls) {
        const res = await callProcedure(t, surface, path, input, token && `Bearer ${token}`);
        expect({ path, ...res }).toEqual({ path, status: 503, code: 'SERVICE_UNAVAILABLE' });
      }
    } finally {
      await repairAudit();
    }
    expect(await state()).toEqual(before);
    expect((await t.rest('GET', `/api/v1/leads/${leadId}`, { token: admin })).status).toBe(200);
  });
});

describe("reads' audit rows, committed together", () => {
  const readAll = (leadId: string, ids: string[]) =>
    Promise.all(ids.map((id) => t.rest('GET', `/api/v1/leads/${leadId}`, { token: admin, headers: { 'x-request-id': id } })));
  const rowsOf = (prefix: string) =>
    t.sql<{ request_id: string; lead_ids: string[]; tx: string }>(
      "select request_id, lead_ids, xmin::text as tx from lead.audit_log where request_id like ? || '%' order by request_id",
      [prefix],
    );

  it('writes one row per concurrent read, several in one commit', async () => {
    const leadId = await createLead();
    const ids = Array.from({ length: 60 }, (_, i) => `group-commit-${String(i).padStart(2, '0')}`);
    expect((await readAll(leadId, ids)).map((r) => r.status)).toEqual(ids.map(() => 200));
    const rows = await rowsOf('group-commit-');
    expect(rows.map((r) => [r.request_id, r.lead_ids])).toEqual(ids.map((id) => [id, [leadId]]));
    // Rows of one insert share its transaction id: fewer transactions than rows.
    expect(new Set(rows.map((r) => r.tx)).size).toBeLessThan(rows.length);
  });

  it('fails only the read whose row PostgreSQL refuses, not the others committed beside it', async () => {
    const leadId = await createLead();
    await t.sql(`create function lead.test_refuse_one() returns trigger language plpgsql as $$
                   begin if new.request_id = 'refused-one-07' then raise exception 'refused'; end if; return new; end; $$;
                 create trigger test_refuse_one before insert on lead.audit_log for each row execute function lead.test_refuse_one();`);
    try {
      const ids = Array.from({ length: 20 }, (_, i) => `refused-one-${String(i).padStart(2, '0')}`);
      const statuses = (await readAll(leadId, ids)).map((r) => r.status);
      expect(statuses).toEqual(ids.map((id) => (id === 'refused-one-07' ? 503 : 200)));
      expect((await rowsOf('refused-one-')).map((r) => r.request_id)).toEqual(ids.filter((id) => id !== 'refused-one-07'));
    } finally {
      await t.sql('drop trigger test_refuse_one on lead.audit_log; drop function lead.test_refuse_one();');
    }
  });
});

describe('GET /api/v1/audit', () => {
  let leadA: string;
  let leadB: string;
  let times: Date[];
  beforeAll(async () => {
    leadA = await createLead();
    leadB = await createLead();
    for (const [lead, token] of [
      [leadA, admin],
      [leadB, cms],
      [leadA, cms],
    ] as const) {
      await new Promise((r) => setTimeout(r, 15));
      await t.rest('GET', `/api/v1/leads/${lead}`, { token });
    }
    times = (await t.sql<{ created_at: Date }>("select created_at from lead.audit_log where action = 'leads.get' order by id desc limit 3"))
      .map((r) => new Date(r.created_at))
      .reverse();
  });

  it('lists entries newest first with the whole shape', async () => {
    const res = await t.rest('GET', `/api/v1/audit?lead_id=${leadA}`, { token: admin });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      items: [
        expect.objectContaining({ action: 'leads.get', actor: CMS_ID, actor_role: 'cms' }),
        expect.objectContaining({ action: 'leads.get', actor: ADMIN_ID, actor_role: 'admin' }),
        expect.objectContaining({ action: 'leads.create', actor: null, actor_role: null }),
      ],
      total: 3,
      page: 1,
      limit: 20,
    });
    expect(res.body.items[0]).toEqual({
      id: expect.any(String),
      actor: CMS_ID,
      actor_role: 'cms',
      action: 'leads.get',
      lead_ids: [leadA],
      request_id: expect.any(String),
      client_ip: '127.0.0.1',
      user_agent: expect.any(String),
      created_at: expect.stringMatching(ISO_UTC),
      reason: null,
    });
  });

  it('filters by actor and time range, combined with AND', async () => {
    const byCms = await t.rest('GET', `/api/v1/audit?actor=${CMS_ID}&lead_id=${leadB}`, { token: admin });
    expect(byCms.body.items.map((e: { lead_ids: string[] }) => e.lead_ids)).toEqual([[leadB]]);

    const from = times[1]!.toISOString();
    const to = times[2]!.toISOString();
    const range = await t.rest('GET', `/api/v1/audit?from=${from}&to=${to}`, { token: admin });
    expect(range.body.items.map((e: { lead_ids: string[] }) => e.lead_ids)).toEqual([[leadB]]);
  });

  it('pages with the total over all pages', async () => {
    const first = await t.rest('GET', `/api/v1/audit?limit=2`, { token: admin });
    const second = await t.rest('GET', `/api/v1/audit?limit=2&page=2`, { token: admin });
    expect(first.body.total).toBe(second.body.total);
    expect(first.body.items).toHaveLength(2);
    const ids = [...first.body.items, ...second.body.items].map((e: { id: string }) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('answers 400 naming the field for a bad filter', async () => {
    for (const [query, field] of [
      ['lead_id=nope', 'lead_id'],
      ['actor=1', 'actor'],
      ['from=yesterday', 'from'],
      ['limit=101', 'limit'],
    ]) {
      const res = await t.rest('GET', `/api/v1/audit?${query}`, { token: admin });
      expect(res.status).toBe(400);
      expect(res.body.issues.map((i: { path: string[] }) => i.path)).toEqual([[field]]);
    }
  });

  it('is the same procedure over /trpc, with Dates', async () => {
    const page = await t.trpc(admin).audit.list.query({ lead_id: leadB });
    expect(page.items.map((e) => e.action)).toEqual(['leads.get', 'leads.create']);
    expect(page.items[0]!.created_at).toBeInstanceOf(Date);
  });
});
