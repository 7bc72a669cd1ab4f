import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ID, sampleLead, startTestApp, type TestApp } from './support/app.js';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let t: TestApp;
let admin: string;
beforeAll(async () => {
  t = await startTestApp();
  admin = await t.token();
});

const createLead = async (overrides: Record<string, unknown> = {}) => {
  const res = await t.rest('POST', '/api/v1/leads', { body: sampleLead(overrides) });
  expect(res.status).toBe(201);
  return res.body as { id: string; created_at: string };
};

describe('POST /api/v1/leads (public)', () => {
  it('answers 201 with exactly id, name, email, status and created_at', async () => {
    const res = await t.rest('POST', '/api/v1/leads', { body: sampleLead() });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(UUID),
      name: 'John Doe',
      email: 'john@example.com',
      status: 'new',
      created_at: expect.stringMatching(ISO_UTC),
    });
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('stores a new, medium-priority lead with a created activity in the same write', async () => {
    const { id } = await createLead({ source: 'referral' });
    const [row] = await t.sql('select status, priority, source, assigned_to, closed_at, phone from lead.leads where id = ?', [id]);
    expect(row).toEqual({
      status: 'new',
      priority: 'medium',
      source: 'referral',
      assigned_to: null,
      closed_at: null,
      phone: '+919876543210',
    });
    const activities = await t.sql('select activity_type, performed_by from lead.lead_activities where lead_id = ?', [id]);
    expect(activities).toEqual([{ activity_type: 'created', performed_by: null }]);
  });

  it('defaults source to website and stores empty optional fields as null', async () => {
    const res = await t.rest('POST', '/api/v1/leads', { body: { name: '  Jane  ', email: 'jane@example.com', phone: '', company: '' } });
    expect(res.status).toBe(201);
    expect(res.body.name).toBe('Jane');
    const [row] = await t.sql('select source, phone, company, message from lead.leads where id = ?', [res.body.id]);
    expect(row).toEqual({ source: 'website', phone: null, company: null, message: null });
  });

  it('never applies fields a client may not set', async () => {
    const res = await t.rest('POST', '/api/v1/leads', {
      body: sampleLead({
        id: '00000000-0000-4000-8000-000000000000',
        status: 'closed_won',
        priority: 'high',
        assigned_to: ADMIN_ID,
        created_at: '2000-01-01T00:00:00Z',
        closed_at: '2000-01-01T00:00:00Z',
      }),
    });
    expect(res.status).toBe(201);
    expect(res.body.id).not.toBe('00000000-0000-4000-8000-000000000000');
    const [row] = await t.sql<{ status: string; priority: string; assigned_to: null; created_at: string; closed_at: null }>(
      'select status, priority, assigned_to, created_at, closed_at from lead.leads where id = ?',
      [res.body.id],
    );
    expect(row).toMatchObject({ status: 'new', priority: 'medium', assigned_to: null, closed_at: null });
    expect(new Date(row!.created_at).getFullYear()).toBeGreaterThan(2020);
  });
});

describe('GET /api/v1/leads', () => {
  let ids: string[];
  beforeAll(async () => {
    await t.sql('truncate lead.leads cascade');
    ids = [];
    for (const source of ['website', 'referral', 'social', 'referral', 'other']) ids.push((await createLead({ source })).id);
    await t.rest('PATCH', `/api/v1/leads/${ids[1]}/status`, { token: admin, body: { status: 'contacted' } });
    await t.rest('POST', `/api/v1/leads/${ids[3]}/assign`, { token: admin, body: { assigned_to: ADMIN_ID } });
    await t.rest('POST', `/api/v1/leads/${ids[1]}/assign`, { token: admin, body: { assigned_to: ADMIN_ID } });
  });

  it('lists newest first with defaults page=1, limit=20 and the total', async () => {
    const res = await t.rest('GET', '/api/v1/leads', { token: admin });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ total: 5, page: 1, limit: 20 });
    expect(res.body.items.map((i: { id: string }) => i.id)).toEqual([...ids].reverse());
    expect(Object.keys(res.body.items[0]).sort()).toEqual(
      [
        'assigned_to',
        'company',
        'created_at',
        'duplicate_of',
        'email',
        'id',
        'lost_reason',
        'merged_into',
        'name',
        'priority',
        'source',
        'status',
        'updated_at',
      ].sort(),
    );
  });

  it('combines filters with AND and counts every match in total', async () => {
    const bySource = await t.rest('GET', '/api/v1/leads?source=referral', { token: admin });
    expect(bySource.body.total).toBe(2);
    const both = await t.rest('GET', `/api/v1/leads?source=referral&assigned_to=${ADMIN_ID}&status=contacted`, { token: admin });
    expect(both.body.items.map((i: { id: string }) => i.id)).toEqual([ids[1]]);
    expect(both.body.total).toBe(1);
    const none = await t.rest('GET', '/api/v1/leads?source=social&status=contacted', { token: admin });
    expect(none.body).toEqual({ items: [], total: 0, page: 1, limit: 20, next_cursor: null });
  });

  it('pages with a stable order, even for leads created in the same instant', async () => {
    await t.sql(`update lead.leads set created_at = '2024-01-15T10:30:00Z'`);
    const seen: string[] = [];
    for (let page = 1; page <= 3; page++) {
      const res = await t.rest('GET', `/api/v1/leads?limit=2&page=${page}`, { token: admin });
      expect(res.body).toMatchObject({ total: 5, page, limit: 2 });
      seen.push(...res.body.items.map((i: { id: string }) => i.id));
    }
    expect(new Set(seen).size).toBe(5);
    const again = await t.rest('GET', '/api/v1/leads?limit=5', { token: admin });
    expect(again.body.items.map((i: { id: string }) => i.id)).toEqual(seen);
  });

  it('refuses a limit over 100 and a page below 1', async () => {
    expect((await t.rest('GET', '/api/v1/leads?limit=101', { token: admin })).status).toBe(400);
    expect((await t.rest('GET', '/api/v1/leads?page=0', { token: admin })).status).toBe(400);
    expect((await t.rest('GET', '/api/v1/leads?limit=100', { token: admin })).status).toBe(200);
  });
});

describe('GET /api/v1/leads/{lead_id}', () => {
  it('returns the whole lead with its activities oldest first', async () => {
    const { id, created_at } = await createLead();
    await t.rest('PATCH', `/api/v1/leads/${id}/status`, { token: admin, body: { status: 'contacted', notes: 'Called' } });
    await t.rest('POST', `/api/v1/leads/${id}/activities`, {
      token: admin,
      body: { activity_type: 'note_added', description: 'Customer requested pricing information' },
    });
    const res = await t.rest('GET', `/api/v1/leads/${id}`, { token: admin });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id,
      name: 'John Doe',
      email: 'john@example.com',
      phone: '+919876543210',
      company: 'Acme Corp',
      message: 'Interested in your services',
      source: 'website',
      status: 'contacted',
      priority: 'medium',
      assigned_to: null,
      attribution: null,
      lost_reason: null,
      // Earlier leads of this file share its e-mail: it may be detected as their duplicate.
      duplicate_of: expect.toSatisfy((v: unknown) => v === null || (typeof v === 'string' && UUID.test(v))),
      merged_into: null,
      activities: [
        {
          id: expect.stringMatching(UUID),
          activity_type: 'created',
          description: 'Lead created from website',
          details: null,
          performed_by: null,
          created_at,
        },
        {
          id: expect.stringMatching(UUID),
          activity_type: 'status_changed',
          description: 'Called',
          details: { old_status: 'new', new_status: 'contacted' },
          performed_by: ADMIN_ID,
          created_at: expect.stringMatching(ISO_UTC),
        },
        {
          id: expect.stringMatching(UUID),
          activity_type: 'note_added',
          description: 'Customer requested pricing information',
          details: null,
          performed_by: ADMIN_ID,
          created_at: expect.stringMatching(ISO_UTC),
        },
      ],
      consents: [],
      created_at,
      updated_at: expect.stringMatching(ISO_UTC),
      closed_at: null,
      erased_at: null,
    });
  });

  it('answers 404 for an unknown lead and 400 for a malformed id', async () => {
    const missing = await t.rest('GET', '/api/v1/leads/0195f3a0-0000-7000-8000-000000000000', { token: admin });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ code: 'NOT_FOUND', message: 'Lead not found', request_id: expect.any(String) });
    const malformed = await t.rest('GET', '/api/v1/leads/not-a-uuid', { token: admin });
    expect(malformed.status).toBe(400);
    expect(malformed.body.issues[0].path).toEqual(['lead_id']);
  });
});

describe('PATCH /api/v1/leads/{lead_id}/status', () => {
  it('moves the status, records one activity per change, sets and clears closed_at', async () => {
    const { id } = await createLead();
    const contacted = await t.rest('PATCH', `/api/v1/leads/${id}/status`, {
      token: admin,
      body: { status: 'contacted', notes: 'Called customer' },
    });
    expect(contacted.status).toBe(200);
    expect(contacted.body).toEqual({
      id,
      status: 'contacted',
      lost_reason: null,
      updated_at: expect.stringMatching(ISO_UTC),
      closed_at: null,
    });

    const won = await t.rest('PATCH', `/api/v1/leads/${id}/status`, { token: admin, body: { status: 'closed_won' } });
    expect(won.body.closed_at).toMatch(ISO_UTC);
    expect(new Date(won.body.updated_at).getTime()).toBeGreaterThanOrEqual(new Date(contacted.body.updated_at).getTime());

    const lost = await t.rest('PATCH', `/api/v1/leads/${id}/status`, {
      token: admin,
      body: { status: 'closed_lost', lost_reason: 'timing' },
    });
    expect(lost.body.lost_reason).toBe('timing');
    expect(lost.body.closed_at).toBe(won.body.closed_at);

    const reopened = await t.rest('PATCH', `/api/v1/leads/${id}/status`, { token: admin, body: { status: 'qualified' } });
    expect(reopened.body.closed_at).toBeNull();

    const rows = await t.sql<{ details: Record<string, string> }>(
      `select details from lead.lead_activities where lead_id = ? and activity_type = 'status_changed' order by created_at, id`,
      [id],
    );
    expect(rows.map((r) => `${r.details.old_status}>${r.details.new_status}`)).toEqual([
      'new>contacted',
      'contacted>closed_won',
      'closed_won>closed_lost',
      'closed_lost>qualified',
    ]);
  });

  it('refuses the status the lead already has with 409 and records nothing', async () => {
    const { id } = await createLead();
    const res = await t.rest('PATCH', `/api/v1/leads/${id}/status`, { token: admin, body: { status: 'new' } });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'CONFLICT' });
    const [{ count }] = (await t.sql<{ count: string }>('select count(*) from lead.lead_activities where lead_id = ?', [id])) as [
      { count: string },
    ];
    expect(Number(count)).toBe(1);
  });

  it('answers 404 for an unknown lead and 400 for an unknown status', async () => {
    const missing = await t.rest('PATCH', '/api/v1/leads/0195f3a0-0000-7000-8000-000000000000/status', {
      token: admin,
      body: { status: 'contacted' },
    });
    expect(missing.status).toBe(404);
    const { id } = await createLead();
    const bad = await t.rest('PATCH', `/api/v1/leads/${id}/status`, { token: admin, body: { status: 'won' } });
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0]).toMatchObject({ path: ['status'], code: 'invalid_value' });
  });

  it('records the true previous status when changes race', async () => {
    const { id } = await createLead();
    const targets = ['contacted', 'qualified', 'proposal', 'closed_won', 'closed_lost'];
    const results = await Promise.all(
      targets.map((status) =>
        t.rest('PATCH', `/api/v1/leads/${id}/status`, {
          token: admin,
          body: { status, ...(status === 'closed_lost' ? { lost_reason: 'other' } : {}) },
        }),
      ),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const rows = await t.sql<{ details: Record<string, string> }>(
      `select details from lead.lead_activities where lead_id = ? and activity_type = 'status_changed' order by created_at, id`,
      [id],
    );
    // Each change starts where the previous one ended: a chain from `new` without gaps.
    let previous = 'new';
    for (const { details } of rows) {
      expect(details.old_status).toBe(previous);
      previous = details.new_status!;
    }
    expect(rows).toHaveLength(5);
  });
});

describe('POST /api/v1/leads/{lead_id}/assign', () => {
  it('assigns, records who assigned whom, and unassigns', async () => {
    const { id } = await createLead();
    const assignee = '22222222-2222-4222-8222-222222222222';
    const res = await t.rest('POST', `/api/v1/leads/${id}/assign`, { token: admin, body: { assigned_to: assignee } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id, assigned_to: assignee, updated_at: expect.stringMatching(ISO_UTC) });
    const un = await t.rest('POST', `/api/v1/leads/${id}/assign`, { token: admin, body: { assigned_to: null } });
    expect(un.body.assigned_to).toBeNull();
    const rows = await t.sql(
      'select performed_by, details from lead.lead_activities where lead_id = ? and activity_type = ? order by created_at, id',
      [id, 'assigned'],
    );
    expect(rows).toEqual([
      { performed_by: ADMIN_ID, details: { assigned_from: null, assigned_to: assignee } },
      { performed_by: ADMIN_ID, details: { assigned_from: assignee, assigned_to: null } },
    ]);
  });

  it('answers 400 for a non-UUID assignee and 404 for an unknown lead', async () => {
    const { id } = await createLead();
    const bad = await t.rest('POST', `/api/v1/leads/${id}/assign`, { token: admin, body: { assigned_to: 'bob' } });
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toEqual(['assigned_to']);
    const missing = await t.rest('POST', '/api/v1/leads/0195f3a0-0000-7000-8000-000000000000/assign', {
      token: admin,
      body: { assigned_to: null },
    });
    expect(missing.status).toBe(404);
  });
});

describe('POST /api/v1/leads/{lead_id}/activities', () => {
  it('adds a note or contact with 201, performed by the authenticated user', async () => {
    const { id } = await createLead();
    const res = await t.rest('POST', `/api/v1/leads/${id}/activities`, {
      token: admin,
      body: { activity_type: 'contacted', description: 'Left a voicemail' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(UUID),
      activity_type: 'contacted',
      description: 'Left a voicemail',
      details: null,
      performed_by: ADMIN_ID,
      created_at: expect.stringMatching(ISO_UTC),
    });
  });

  it.each(['created', 'status_changed', 'assigned'])('refuses the service-only type %s, so the timeline cannot be forged', async (type) => {
    const { id } = await createLead();
    const res = await t.rest('POST', `/api/v1/leads/${id}/activities`, { token: admin, body: { activity_type: type, description: 'x' } });
    expect(res.status).toBe(400);
    expect(res.body.issues[0].path).toEqual(['activity_type']);
    const rows = await t.sql('select 1 from lead.lead_activities where lead_id = ?', [id]);
    expect(rows).toHaveLength(1);
  });
});

describe('GET /health', () => {
  it('answers 200 when the database is reachable', async () => {
    const res = await t.rest('GET', '/health');
    expect(res).toMatchObject({ status: 200, body: { status: 'ok', database: 'ok' } });
  });
});
