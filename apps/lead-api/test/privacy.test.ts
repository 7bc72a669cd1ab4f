import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventDispatcher } from '../src/events/dispatcher.js';
import { ADMIN_ID, sampleLead, startTestApp, TEST_ERASURE_HASH_SECRET, type TestApp } from './support/app.js';
import { connect, databaseUrl } from './support/database.js';
import { startDispatcher, startReceiver, type Receiver } from './support/events.js';
import { callProcedure, SURFACES } from './support/surfaces.js';
import { waitUntil } from './support/wait.js';

let t: TestApp & { database: string };
let admin: string;
let receiver: Receiver;
let dispatcher: EventDispatcher;
beforeAll(async () => {
  t = await startTestApp();
  admin = await t.token();
  receiver = await startReceiver();
  dispatcher = startDispatcher(t, { url: receiver.url });
});
afterAll(async () => {
  await dispatcher.stop();
  await receiver.close();
});

let n = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${n++}`;

const CONSENT = { policy_version: '2024-01', marketing: true, text: 'I agree to the privacy policy.' };

/** A person whose data ends up in every table an erasure must reach. */
function person() {
  const id = unique('p');
  return {
    name: `Veronica Quillfeather ${id}`,
    email: `Veronica.Quill+${id}@Example.com`,
    phone: `+44 20 7${String(process.pid % 1000).padStart(3, '0')} ${String(n).padStart(4, '0')}`,
    company: `Quillfeather Holdings ${id}`,
    message: `Private enquiry ${id}: please ring after six`,
    note: `Veronica mentioned her divorce ${id}`,
  };
}
type Person = ReturnType<typeof person>;

/** A lead of `p` with attribution, consent, an idempotency key, a note, a status note, a correction and an assignee. */
async function richLead(p: Person, opts: { source?: string } = {}): Promise<string> {
  const created = await t.rest('POST', '/api/v1/leads', {
    headers: { 'idempotency-key': unique('key') },
    body: {
      name: p.name,
      email: p.email,
      phone: p.phone,
      company: p.company,
      message: p.message,
      ...(opts.source ? { source: opts.source } : {}),
      attribution: {
        utm_source: 'newsletter',
        utm_campaign: 'privacy-test',
        referrer: 'https://partner.example/blog',
        landing_page: 'https://www.example.com/landing?utm_medium=email',
        page: `https://www.example.com/contact?who=${encodeURIComponent(p.email)}&utm_source=newsletter#form`,
        first_touch: { referrer: 'https://www.google.com/', landing_page: 'https://www.example.com/' },
      },
      consent: CONSENT,
    },
  });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  const token = admin;
  expect(
    (
      await t.rest('POST', `/api/v1/leads/${id}/activities`, {
        token,
        body: { activity_type: 'note_added', description: p.note },
      })
    ).status,
  ).toBe(201);
  expect(
    (await t.rest('PATCH', `/api/v1/leads/${id}/status`, { token, body: { status: 'contacted', notes: `Called ${p.name} on ${p.phone}` } }))
      .status,
  ).toBe(200);
  expect((await t.rest('PATCH', `/api/v1/leads/${id}`, { token, body: { priority: 'high', company: `${p.company} plc` } })).status).toBe(
    200,
  );
  expect((await t.rest('POST', `/api/v1/leads/${id}/assign`, { token, body: { assigned_to: ADMIN_ID } })).status).toBe(200);
  return id;
}

/** Every row of every table but the audit trail (which only grows), in a stable order. */
async function everything() {
  const tables = [
    'leads',
    'lead_attributions',
    'lead_consents',
    'lead_activities',
    'outbox_events',
    'idempotency_keys',
    'lead_counts',
    'erasures',
  ];
  const state: Record<string, unknown[]> = {};
  for (const table of tables) state[table] = await t.sql(`select * from lead.${table} order by 1, 2`);
  // Delivery moves on meanwhile; what an erasure may change is the payload.
  state.outbox_events = (state.outbox_events as Array<Record<string, unknown>>).map((e) => ({ event_id: e.event_id, payload: e.payload }));
  return state;
}

/** What the list and both reports show, per status and source. */
async function figures() {
  const rest = (path: string) => t.rest('GET', path, { token: admin }).then((r) => r.body);
  const totals: Record<string, number> = { all: (await rest('/api/v1/leads?limit=1')).total };
  for (const status of ['new', 'contacted', 'qualified']) totals[status] = (await rest(`/api/v1/leads?status=${status}&limit=1`)).total;
  for (const source of ['website', 'referral']) totals[source] = (await rest(`/api/v1/leads?source=${source}&limit=1`)).total;
  return {
    totals,
    counts: await t.sql('select * from lead.lead_counts order by status, source, assigned_to'),
    pipeline: await rest('/api/v1/reports/pipeline'),
    sources: await rest('/api/v1/reports/sources?group_by=source'),
    campaigns: await rest('/api/v1/reports/sources?group_by=utm_campaign'),
  };
}

const pgDump = async () =>
  (await promisify(execFile)('pg_dump', ['--no-owner', databaseUrl(t.database)], { maxBuffer: 256 * 1024 * 1024 })).stdout;

/** The ways a value of `p` could be spelled in storage. */
const traces = (p: Person) => [
  p.email,
  p.email.toLowerCase(),
  encodeURIComponent(p.email),
  p.name,
  p.phone,
  p.phone.replace(/\D/g, ''),
  p.company,
  p.message,
  p.note,
];

describe('consent at capture', () => {
  it('is stored with its time and the cleaned page, and listed on the lead', async () => {
    const before = Date.now();
    const p = person();
    const id = await richLead(p);
    const detail = await t.rest('GET', `/api/v1/leads/${id}`, { token: admin });
    expect(detail.body.consents).toEqual([
      { ...CONSENT, page: 'https://www.example.com/contact?utm_source=newsletter', given_at: expect.any(String) },
    ]);
    expect(new Date(detail.body.consents[0].given_at).getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(detail.body.erased_at).toBeNull();

    // Without a page, the landing page; marketing defaults to false; no consent, no record.
    const landing = await t.rest('POST', '/api/v1/leads', {
      body: sampleLead({ consent: { policy_version: 'v2' }, attribution: { landing_page: 'https://www.example.com/l?email=a@b.co' } }),
    });
    const [consent] = (await t.rest('GET', `/api/v1/leads/${landing.body.id}`, { token: admin })).body.consents;
    expect(consent).toMatchObject({ policy_version: 'v2', marketing: false, text: null, page: 'https://www.example.com/l' });
    const none = await t.rest('POST', '/api/v1/leads', { body: sampleLead() });
    expect((await t.rest('GET', `/api/v1/leads/${none.body.id}`, { token: admin })).body.consents).toEqual([]);
  });

  it('refuses a consent beyond its limits or with unknown fields, naming the field', async () => {
    for (const [consent, path, code] of [
      [{ policy_version: 'x'.repeat(101) }, ['consent', 'policy_version'], 'too_big'],
      [{ text: 'x'.repeat(2001) }, ['consent', 'text'], 'too_big'],
      // Not coerced: "false" must never record a yes.
      [{ marketing: 'false' }, ['consent', 'marketing'], 'invalid_value'],
      [{ policy: 'v1' }, ['consent'], 'unrecognized_keys'],
    ] as const) {
      const res = await t.rest('POST', '/api/v1/leads', { body: sampleLead({ consent }) });
      expect(res.status, JSON.stringify(consent)).toBe(400);
      expect(res.body.issues).toEqual([expect.objectContaining({ path, code })]);
    }
  });

  it('with REQUIRE_CONSENT=true, a create without consent.policy_version is refused with 400 naming it, on both surfaces', async () => {
    const strict = await startTestApp({ env: { REQUIRE_CONSENT: true } });
    const email = `${unique('consent')}@example.com`;
    for (const body of [sampleLead({ email }), sampleLead({ email, consent: { marketing: true } })]) {
      const res = await strict.rest('POST', '/api/v1/leads', { body });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        code: 'BAD_REQUEST',
        message: 'Input validation failed',
        request_id: res.headers.get('x-request-id'),
        issues: [{ path: ['consent', 'policy_version'], code: 'custom', message: expect.stringContaining('required') }],
      });
    }
    const trpc = await strict
      .trpc()
      .leads.create.mutate(sampleLead({ email }) as never)
      .catch((e: unknown) => e);
    expect((trpc as { data: { code: string; issues: unknown[] } }).data).toMatchObject({
      code: 'BAD_REQUEST',
      issues: [{ path: ['consent', 'policy_version'], code: 'custom' }],
    });
    expect(await strict.sql('select 1 from lead.leads where email = ?', [email])).toEqual([]);
    const ok = await strict.rest('POST', '/api/v1/leads', { body: sampleLead({ email, consent: { policy_version: '3' } }) });
    expect(ok.status).toBe(201);
  });
});

describe('privacy.export', () => {
  it('returns every lead of the address with all it holds and who read it, audited, and never logs the address', async () => {
    const p = person();
    const first = await richLead(p);
    const second = (await t.rest('POST', '/api/v1/leads', { body: sampleLead({ email: p.email.toUpperCase(), name: p.name }) })).body.id;
    await t.rest('POST', '/api/v1/leads', { body: sampleLead({ email: `other-${p.email}` }) });
    await t.rest('GET', `/api/v1/leads/${first}`, { token: await t.token('cms', '22222222-2222-4222-8222-222222222222') });

    const query = encodeURIComponent(`  ${p.email.toLowerCase()} `);
    const res = await t.rest('GET', `/api/v1/privacy/export?email=${query}`, { token: admin });
    expect(res.status).toBe(200);
    expect(res.body.leads.map((l: { id: string }) => l.id)).toEqual([first, second]);
    const [lead] = res.body.leads;
    expect(lead).toMatchObject({
      name: p.name,
      email: p.email,
      phone: p.phone,
      company: `${p.company} plc`,
      message: p.message,
      status: 'contacted',
      priority: 'high',
      assigned_to: ADMIN_ID,
      utm_source: 'newsletter',
      utm_campaign: 'privacy-test',
      erased_at: null,
      attribution: expect.objectContaining({ referrer: 'https://partner.example/blog' }),
      consents: [expect.objectContaining(CONSENT)],
    });
    expect(lead.activities.map((a: { activity_type: string }) => a.activity_type)).toEqual([
      'created',
      'note_added',
      'status_changed',
      'updated',
      'assigned',
      'duplicate_detected',
    ]);
    expect(lead.events.map((e: { event_type: string }) => e.event_type)).toEqual([
      'LeadCreated',
      'LeadStatusChanged',
      'LeadUpdated',
      'LeadAssigned',
    ]);
    expect(lead.events[0].payload).toMatchObject({ email: p.email, lead_id: first });
    const actions = res.body.audit.map((a: { action: string; actor_role: string | null }) => `${a.action} ${a.actor_role}`);
    expect(actions).toEqual(expect.arrayContaining(['leads.create null', 'leads.get cms', 'leads.addActivity admin']));
    expect(res.body.audit_total).toBe(res.body.audit.length);
    expect(res.body).toMatchObject({ erased: false, erasures: [] });

    const [audit] = await t.sql<{ action: string; lead_ids: string[]; actor_sub: string }>(
      `select action, lead_ids, actor_sub from lead.audit_log where request_id = ?`,
      [res.headers.get('x-request-id')],
    );
    expect(audit).toEqual({ action: 'privacy.export', lead_ids: [first, second], actor_sub: ADMIN_ID });

    const viaTrpc = await t.trpc(admin).privacy.export.query({ email: p.email });
    expect(viaTrpc.leads.map((l) => l.id)).toEqual([first, second]);

    const logs = t.logs().toLowerCase();
    expect(logs).toContain('/api/v1/privacy/export?[redacted]');
    for (const spelling of [p.email.toLowerCase(), encodeURIComponent(p.email).toLowerCase(), 'veronica.quill']) {
      expect(logs).not.toContain(spelling);
    }
  });

  it('answers 400 for a bad address and requires one', async () => {
    for (const query of ['?email=not-an-address', '']) {
      const res = await t.rest('GET', `/api/v1/privacy/export${query}`, { token: admin });
      expect(res.status).toBe(400);
      expect(res.body.issues).toEqual([expect.objectContaining({ path: ['email'] })]);
    }
  });
});

describe('privacy.erase', () => {
  it('leaves nothing of the person in a pg_dump, moves no figure, tells the receiver and proves the erasure', async () => {
    const p = person();
    const ids = [await richLead(p, { source: 'website' }), await richLead({ ...p, email: p.email.toLowerCase() }, { source: 'referral' })];
    const bystander = person();
    const kept = await richLead(bystander);
    await waitUntil('the earlier events are delivered', async () => {
      const [row] = await t.sql<{ n: number }>(`select count(*)::int as n from lead.outbox_events where state = 'pending'`);
      return row!.n === 0;
    });
    const dumpBefore = await pgDump();
    for (const trace of [p.email, p.name, p.phone, p.company, p.message, p.note]) expect(dumpBefore).toContain(trace);
    const before = await figures();
    const state = await everything();

    const dry = await t.rest('POST', '/api/v1/privacy/erasures', { token: admin, body: { email: p.email.toUpperCase(), dry_run: true } });
    expect(dry.status).toBe(200);
    expect(await everything()).toEqual(state);
    const perLead = { leads: 1, lead_attributions: 1, lead_consents: 1, lead_activities: 2, outbox_events: 1, idempotency_keys: 1 };
    expect(dry.body).toEqual({
      dry_run: true,
      leads: ids.map((lead_id) => ({ lead_id, already_erased: false, erased_at: null, counts: perLead })),
      totals: { leads: 2, lead_attributions: 2, lead_consents: 2, lead_activities: 4, outbox_events: 2, idempotency_keys: 2 },
    });

    const res = await t.rest('POST', '/api/v1/privacy/erasures', {
      token: admin,
      body: { email: ` ${p.email} `, reason: 'GDPR request #42' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ...dry.body,
      dry_run: false,
      leads: dry.body.leads.map((l: object) => ({ ...l, erased_at: expect.any(String) })),
    });

    const dump = await pgDump();
    for (const trace of traces(p)) expect(dump, trace).not.toContain(trace);
    expect(dump.toLowerCase()).not.toContain(p.email.toLowerCase());
    // The bystander is untouched.
    for (const trace of [bystander.email, bystander.name, bystander.phone, bystander.message]) expect(dump).toContain(trace);

    expect(await figures()).toEqual(before);

    await waitUntil('LeadErased reached the receiver for both leads', () =>
      ids.every((id) => receiver.accepted.some((r) => r.type === 'LeadErased' && r.body.lead_id === id)),
    );
    const erasedEvent = receiver.accepted.find((r) => r.type === 'LeadErased')!;
    expect(Object.keys(erasedEvent.body).sort()).toEqual(['event_id', 'event_type', 'lead_id', 'timestamp']);

    const detail = (await t.rest('GET', `/api/v1/leads/${ids[0]}`, { token: admin })).body;
    expect(detail).toMatchObject({
      name: 'Erased',
      email: `erased-${ids[0]}@invalid`,
      phone: null,
      company: null,
      message: null,
      status: 'contacted',
      priority: 'high',
      assigned_to: ADMIN_ID,
      erased_at: expect.any(String),
      attribution: expect.objectContaining({ referrer: null, page: null, landing_page: null, utm_source: 'newsletter' }),
      consents: [{ ...CONSENT, page: null, given_at: expect.any(String) }],
    });
    // The timeline keeps its entries; only what people wrote is gone.
    expect(detail.activities.map((a: { activity_type: string; description: string | null }) => [a.activity_type, a.description])).toEqual([
      ['created', 'Lead created from website'],
      ['note_added', null],
      ['status_changed', null],
      ['updated', 'Updated company, priority'],
      ['assigned', `Assigned to ${ADMIN_ID}`],
      ['duplicate_detected', 'A new lead with the same e-mail address was submitted'],
    ]);

    const exported = await t.rest('GET', `/api/v1/privacy/export?email=${encodeURIComponent(p.email)}`, { token: admin });
    expect(exported.body).toEqual({
      leads: [],
      audit: [],
      audit_total: 0,
      erased: true,
      erasures: ids.map((lead_id) => ({
        lead_id,
        erased_at: expect.any(String),
        actor: ADMIN_ID,
        actor_role: 'admin',
        reason: 'GDPR request #42',
      })),
    });
    const hash = createHmac('sha256', TEST_ERASURE_HASH_SECRET).update(p.email.toLowerCase()).digest('hex');
    expect(await t.sql('select email_hash from lead.erasures where lead_id in (?)', [ids])).toEqual([
      { email_hash: hash },
      { email_hash: hash },
    ]);

    const audit = await t.sql<{ lead_ids: string[]; reason: string; actor_sub: string }>(
      `select lead_ids, reason, actor_sub from lead.audit_log where action = 'privacy.erase' and request_id = ? order by created_at`,
      [res.headers.get('x-request-id')],
    );
    expect(audit).toEqual(ids.map((id) => ({ lead_ids: [id], reason: 'GDPR request #42', actor_sub: ADMIN_ID })));
    expect((await t.rest('GET', `/api/v1/leads/${kept}`, { token: admin })).body.name).toBe(bystander.name);

    // Again: nothing left, nothing sent, nothing recorded twice.
    const again = await t.rest('POST', '/api/v1/privacy/erasures', { token: admin, body: { lead_id: ids[0] } });
    expect(again.body.leads).toEqual([
      expect.objectContaining({ already_erased: true, counts: Object.fromEntries(Object.keys(perLead).map((k) => [k, 0])) }),
    ]);
    expect(await t.sql('select 1 from lead.erasures where lead_id = ?', [ids[0]])).toHaveLength(1);
  });

  it.each(SURFACES)('refuses bad input with 400 and an unknown lead with 404, changing nothing, over %s', async (surface) => {
    const state = await everything();
    for (const input of [
      { email: 'a@example.com', lead_id: '00000000-0000-4000-8000-000000000000' },
      {},
      { reason: 'no target' },
      { email: 'not-an-address' },
      { lead_id: 'not-a-uuid' },
      { email: 'a@example.com', dryrun: true },
      { email: 'a@example.com', dry_run: 'false' },
      { email: 'a@example.com', reason: 'x'.repeat(501) },
    ]) {
      expect(await callProcedure(t, surface, 'privacy.erase', input, `Bearer ${admin}`), JSON.stringify(input)).toEqual({
        status: 400,
        code: 'BAD_REQUEST',
      });
    }
    expect(
      await callProcedure(t, surface, 'privacy.erase', { lead_id: '00000000-0000-4000-8000-000000000000' }, `Bearer ${admin}`),
    ).toEqual({
      status: 404,
      code: 'NOT_FOUND',
    });
    expect(await everything()).toEqual(state);
    const nobody = await callProcedure(t, surface, 'privacy.erase', { email: `${unique('nobody')}@example.com` }, `Bearer ${admin}`);
    expect(nobody.data).toMatchObject({ dry_run: false, leads: [], totals: { leads: 0 } });
  });

  it('names the field at fault in a 400', async () => {
    const both = await t.rest('POST', '/api/v1/privacy/erasures', {
      token: admin,
      body: { email: 'a@example.com', lead_id: '00000000-0000-4000-8000-000000000000' },
    });
    expect(both.body.issues).toEqual([{ path: [], code: 'custom', message: 'give exactly one of email, lead_id' }]);
    const bad = await t.rest('POST', '/api/v1/privacy/erasures', { token: admin, body: { email: 'nope' } });
    expect(bad.body.issues).toEqual([expect.objectContaining({ path: ['email'], code: 'invalid_format' })]);
  });

  it('erases a lead by id over tRPC, with Dates', async () => {
    const p = person();
    const id = await richLead(p);
    const result = await t.trpc(admin).privacy.erase.mutate({ lead_id: id, reason: 'trpc' });
    expect(result.leads[0]).toMatchObject({ lead_id: id, already_erased: false, counts: { leads: 1 } });
    expect(result.leads[0]!.erased_at).toBeInstanceOf(Date);
    const [row] = await t.sql('select name, phone from lead.leads where id = ?', [id]);
    expect(row).toEqual({ name: 'Erased', phone: null });
  });

  it('keeps personal data out of an erased lead: an edit of its contact fields and a merge into it are 409s', async () => {
    const id = await richLead(person());
    const other = await richLead(person());
    expect((await t.rest('POST', '/api/v1/privacy/erasures', { token: admin, body: { lead_id: id } })).status).toBe(200);
    const before = await t.sql('select * from lead.leads where id = ?', [id]);
    for (const body of [{ phone: '+1 555 0142' }, { name: 'Back Again' }, { email: 'back@example.com', priority: 'high' }]) {
      const res = await t.rest('PATCH', `/api/v1/leads/${id}`, { token: admin, body });
      expect(res.status, JSON.stringify(body)).toBe(409);
      expect(res.body.code).toBe('CONFLICT');
    }
    const merged = await t.rest('POST', `/api/v1/leads/${other}/merge`, { token: admin, body: { into: id } });
    expect(merged.status).toBe(409);
    expect(await t.sql('select * from lead.leads where id = ?', [id])).toEqual(before);
    expect(await t.sql('select count(*)::int as n from lead.lead_activities where lead_id = ?', [other])).not.toEqual([{ n: 0 }]);
    // What holds no personal data still changes.
    const priority = await t.rest('PATCH', `/api/v1/leads/${id}`, { token: admin, body: { priority: 'low' } });
    expect(priority.status).toBe(200);
    expect(priority.body).toMatchObject({ name: 'Erased', priority: 'low', phone: null });
  });

  it('and a concurrent status change never leave a half-erased row', async () => {
    const ids = await Promise.all([0, 1, 2, 3, 4, 5].map(() => richLead(person())));
    // Every pair races: the status change and the erasure of the same lead, at once.
    const results = await Promise.all(
      ids.flatMap((id) => [
        t.rest('PATCH', `/api/v1/leads/${id}/status`, { token: admin, body: { status: 'qualified' } }),
        t.rest('POST', '/api/v1/privacy/erasures', { token: admin, body: { lead_id: id } }),
      ]),
    );
    expect(results.map((r) => r.status)).toEqual(ids.flatMap(() => [200, 200]));
    const rows = await t.sql<Record<string, unknown>>(
      'select id, name, email, phone, company, message, status, erased_at is not null as erased from lead.leads where id in (?) order by id',
      [ids],
    );
    expect(rows).toEqual(
      [...ids].sort().map((id) => ({
        id,
        name: 'Erased',
        email: `erased-${id}@invalid`,
        phone: null,
        company: null,
        message: null,
        status: 'qualified',
        erased: true,
      })),
    );
    const listed = await t.rest('GET', '/api/v1/leads?status=qualified&limit=1', { token: admin });
    const [counts] = await t.sql<{ real: string }>(`select count(*) as real from lead.leads where status = 'qualified'`);
    expect(listed.body.total).toBe(Number(counts!.real));
  });

  it('waits for a transaction holding the lead and erases what it committed', async () => {
    const p = person();
    const id = await richLead(p);
    const other = await connect(t.database);
    try {
      await other.query('begin');
      await other.query(`select 1 from lead.leads where id = $1 for update`, [id]);
      await other.query(`update lead.leads set name = 'Renamed Meanwhile', phone = '+1 555 0100' where id = $1`, [id]);
      let done = false;
      const erasing = t.rest('POST', '/api/v1/privacy/erasures', { token: admin, body: { lead_id: id } }).then((r) => {
        done = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(done).toBe(false);
      await other.query('commit');
      expect((await erasing).status).toBe(200);
    } finally {
      await other.end();
    }
    expect(await t.sql('select name, phone from lead.leads where id = ?', [id])).toEqual([{ name: 'Erased', phone: null }]);
  });
});
