import { randomBytes } from 'node:crypto';
import { TRPCClientError } from '@trpc/client';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl } from './support/database.js';
import { waitUntil } from './support/wait.js';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';
import { callProcedure, SURFACES, type Surface } from './support/surfaces.js';

// Issue 16: search, sort, keyset and sync paging, edit, lost reasons, duplicates and merge,
// each proved over REST and tRPC against the real service and database.

const OWNER = '33333333-3333-4333-8333-333333333333';
const OTHER = '44444444-4444-4444-8444-444444444444';

let t: TestApp & { database: string };
let admin: string;
let owner: string;
let other: string;
beforeAll(async () => {
  t = await startTestApp();
  admin = `Bearer ${await t.token('admin')}`;
  owner = `Bearer ${await t.token('sales', OWNER)}`;
  other = `Bearer ${await t.token('sales', OTHER)}`;
});

/** A token of letters only, unique to this run, for searches that must match only this test's leads. */
const token = () =>
  [...randomBytes(8)]
    .map((b) => String.fromCharCode(97 + (b % 26)))
    .join('')
    .slice(0, 8);

/** The same value whichever surface it came over (tRPC gives Dates, REST ISO strings). */
const plain = <T>(value: T): any => JSON.parse(JSON.stringify(value));

async function createLead(overrides: Record<string, unknown> = {}, assignedTo?: string): Promise<string> {
  const res = await t.rest('POST', '/api/v1/leads', { body: sampleLead({ email: `${token()}@example.com`, ...overrides }) });
  expect(res.status).toBe(201);
  if (assignedTo) await t.sql('update lead.leads set assigned_to = ? where id = ?', [assignedTo, res.body.id]);
  return res.body.id;
}

const call = (surface: Surface, path: string, input: Record<string, unknown>, auth = admin) => callProcedure(t, surface, path, input, auth);

async function list(surface: Surface, input: Record<string, unknown>, auth = admin) {
  const res = await call(surface, 'leads.list', input, auth);
  expect(res.status).toBe(200);
  return plain(res.data) as { items: Array<Record<string, any>>; total: number; next_cursor: string | null };
}

/** The field paths of a 400's issues, on either surface. */
async function issuePaths(surface: Surface, path: string, input: Record<string, unknown>): Promise<string[]> {
  if (surface === 'rest') {
    const res = await callProcedure(t, 'rest', path, input, admin);
    expect(res).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    // callProcedure keeps only the code: ask again for the body.
    const { method, path: template } = (await import('@lead/contracts')).procedures.find((p) => p.path === path)!.contract.meta.openapi;
    const rest = { ...input };
    let url: string = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = String(rest[name]);
      delete rest[name];
      return value;
    });
    if (method === 'GET')
      url += `?${new URLSearchParams(Object.entries(rest).map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
    const raw = await t.rest(method, url, { headers: { authorization: admin }, ...(method === 'GET' ? {} : { body: rest }) });
    return raw.body.issues.map((i: { path: string[] }) => i.path.join('.'));
  }
  const procedure = path.split('.').reduce<any>((node, key) => node[key], t.trpc(admin.slice(7)));
  const error = await (path === 'leads.list' ? procedure.query(input) : procedure.mutate(input)).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TRPCClientError);
  expect(error.data).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400 });
  return error.data.issues.map((i: { path: string[] }) => i.path.join('.'));
}

/** Walks every page by cursor; returns the ids in order. */
async function walk(surface: Surface, input: Record<string, unknown>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 50; pages++) {
    const page = await list(surface, { ...input, ...(cursor ? { cursor } : {}) });
    ids.push(...page.items.map((i) => i.id));
    if (!page.next_cursor) return ids;
    cursor = page.next_cursor;
  }
  throw new Error('no last page');
}

describe.each(SURFACES)('over %s', (surface) => {
  it('q finds name, e-mail, company, phone digits and message, ignoring case and accents, with filters and scope', async () => {
    const tag = token();
    const digits = String(1e7 + (randomBytes(4).readUInt32BE() % 9e7));
    const phone = `+44 20 ${digits.slice(0, 4)} ${digits.slice(4)}`;
    const jose = await createLead(
      { name: `José Müller ${tag}`, company: `Ácme ${tag}`, phone, message: `Wants ÜBER pricing ${tag}` },
      OWNER,
    );
    const other1 = await createLead({ name: `Ana ${tag}`, email: `ana.${tag}@widgets.example`, company: null, phone: null, message: null });
    await createLead({ name: 'Unrelated Person', company: 'Nothing', phone: '+1 555 0100', message: 'nothing here' });

    const ids = async (q: string, extra: Record<string, unknown> = {}, auth = admin) => {
      const page = await list(surface, { q, ...extra }, auth);
      expect(page.total).toBe(page.items.length);
      return page.items.map((i) => i.id).sort();
    };
    expect(await ids(`JOSE MULLER ${tag}`)).toEqual([jose]);
    expect(await ids(`acme ${tag}`)).toEqual([jose]);
    expect(await ids(`über pricing ${tag}`)).toEqual([jose]);
    expect(await ids(`${tag}@widgets`)).toEqual([other1]);
    expect(await ids(tag)).toEqual([jose, other1].sort());
    // Phone by its digits, however they are written.
    expect(await ids(`${digits.slice(0, 4)} ${digits.slice(4)}`)).toEqual([jose]);
    expect(await ids(`+44 (20) ${digits.slice(0, 4)}-${digits.slice(4)}`)).toEqual([jose]);
    // Combined with filters and the sales scope.
    expect(await ids(tag, { assigned_to: OWNER })).toEqual([jose]);
    expect(await ids(tag, { status: 'contacted' })).toEqual([]);
    expect(await ids(tag, {}, owner)).toEqual([jose]);
    expect(await ids(tag, {}, other)).toEqual([]);
    // LIKE's wildcards are only characters.
    expect(await ids(`%${tag}`)).toEqual([]);
    expect(await ids(`_${tag.slice(1)}`)).toEqual([]);
    expect(await issuePaths(surface, 'leads.list', { q: 'a\u0001' })).toEqual(['q']);
  });

  it('sorts by every key with ties by id, and cursors walk the same order as offsets', async () => {
    const tag = token();
    const names = ['delta', 'Álpha', 'charlie', 'bravo', 'alpha'];
    const created: string[] = [];
    for (const name of names) created.push(await createLead({ name: `${name} ${tag}`, company: tag }));
    await call(surface, 'leads.update', { lead_id: created[2], priority: 'high' });
    await call(surface, 'leads.update', { lead_id: created[4], priority: 'low' });
    await call(surface, 'leads.updateStatus', { lead_id: created[0], status: 'qualified' });

    const rows = (
      await t.sql<{ id: string; name: string; priority: string; status: string; created_at: string; updated_at: string }>(
        'select id, name, priority, status, created_at, updated_at from lead.leads where company = ?',
        [tag],
      )
    ).map((r) => ({ ...r, created_at: new Date(r.created_at), updated_at: new Date(r.updated_at) }));
    const rank = {
      priority: ['low', 'medium', 'high'],
      status: ['new', 'contacted', 'qualified', 'proposal', 'closed_won', 'closed_lost'],
    };
    const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
    const keyOf: Record<string, (r: (typeof rows)[number]) => string | number> = {
      created_at: (r) => r.created_at.getTime(),
      updated_at: (r) => r.updated_at.getTime(),
      priority: (r) => rank.priority.indexOf(r.priority),
      status: (r) => rank.status.indexOf(r.status),
      name: (r) => fold(r.name),
    };
    for (const sort of Object.keys(keyOf)) {
      for (const order of ['asc', 'desc'] as const) {
        const expected = [...rows]
          .sort((a, b) => {
            const [x, y] = [keyOf[sort]!(a), keyOf[sort]!(b)];
            const byKey = x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : 1;
            return order === 'asc' ? byKey : -byKey;
          })
          .map((r) => r.id);
        expect({ sort, order, ids: await walk(surface, { q: tag, sort, order, limit: 2 }) }).toEqual({ sort, order, ids: expected });
        const offsets = [1, 2, 3].map((page) => list(surface, { q: tag, sort, order, limit: 2, page }));
        expect((await Promise.all(offsets)).flatMap((p) => p.items.map((i) => i.id))).toEqual(expected);
      }
    }
    // The default is newest first, as before.
    expect(await walk(surface, { q: tag, limit: 2 })).toEqual([...created].reverse());

    const first = await list(surface, { q: tag, sort: 'name', limit: 2 });
    expect(first.next_cursor).toEqual(expect.any(String));
    expect(await issuePaths(surface, 'leads.list', { q: tag, sort: 'priority', cursor: first.next_cursor })).toEqual(['cursor']);
    expect(await issuePaths(surface, 'leads.list', { cursor: 'not-a-cursor' })).toEqual(['cursor']);
    const forged = Buffer.from(JSON.stringify(['created_at', 'desc', "'; drop table x", '00000000-0000-4000-8000-000000000000'])).toString(
      'base64url',
    );
    expect(await issuePaths(surface, 'leads.list', { cursor: forged })).toEqual(['cursor']);
  });

  it('updated_since returns every change once, in the order written, and waits for a transaction that commits late', async () => {
    const since = new Date().toISOString();
    const a = await createLead();
    const b = await createLead();
    const seen: string[] = [];
    const poll = async (cursor?: string) => {
      const page = await list(surface, cursor ? { cursor, limit: 100 } : { updated_since: since, limit: 100 });
      expect(page.next_cursor).toEqual(expect.any(String));
      seen.push(...page.items.map((i) => i.id));
      return page.next_cursor!;
    };
    // The feed hands out what transactions older than the oldest one still running (on the whole
    // cluster, other tests' included) wrote: polls from the cursor until `n` changes came.
    const pollUntil = async (cursor: string | undefined, n: number) => {
      let at = cursor;
      await waitUntil(`${n} changes came`, async () => {
        at = await poll(at);
        return seen.length >= n;
      });
      return at!;
    };
    let cursor = await pollUntil(undefined, 2);
    expect(seen).toEqual([a, b]);
    cursor = await poll(cursor);
    expect(seen).toEqual([a, b]);

    // A transaction begins and writes `a`, but commits only after a later one wrote `b`.
    const late = new pg.Client({ connectionString: databaseUrl(t.database) });
    await late.connect();
    try {
      await late.query('begin');
      await late.query(`update lead.leads set phone = '+1 555 0199', updated_at = now() where id = $1`, [a]);
      expect((await call(surface, 'leads.update', { lead_id: b, company: 'Later Co' })).status).toBe(200);
      // Nothing past the open transaction is handed out yet, so `b` cannot get ahead of `a`.
      cursor = await poll(cursor);
      expect(seen).toEqual([a, b]);
      await late.query('commit');
    } finally {
      await late.end();
    }
    cursor = await pollUntil(cursor, 4);
    expect(seen).toEqual([a, b, a, b]);
    await poll(cursor);
    expect(seen).toEqual([a, b, a, b]);

    // With a page size of 1 every change still comes once.
    const one: string[] = [];
    let c: string | null | undefined;
    for (let i = 0; i < 5 || one.length < 2; i++) {
      const page = await list(surface, c ? { cursor: c, limit: 1 } : { updated_since: since, limit: 1 });
      one.push(...page.items.map((x) => x.id));
      c = page.next_cursor;
      // Bounded: 200 polls, 50 ms apart once the first five came back short.
      expect(i).toBeLessThan(200);
      if (i >= 5) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(one).toEqual([a, b]);
    expect(await issuePaths(surface, 'leads.list', { updated_since: since, sort: 'name' })).toEqual(['sort']);
    expect(await issuePaths(surface, 'leads.list', { updated_since: 'yesterday' })).toEqual(['updated_since']);
  });

  it('update changes the given fields, names them in an activity and a LeadUpdated event, and refuses bad input', async () => {
    const id = await createLead({ phone: '+1 555 0100', company: 'Acme' }, OWNER);
    const res = await call(
      surface,
      'leads.update',
      { lead_id: id, phone: '+1 555 0101', company: null, priority: 'high', name: 'John Doe' },
      owner,
    );
    expect(res.status).toBe(200);
    expect(plain(res.data)).toMatchObject({ id, phone: '+1 555 0101', company: null, priority: 'high', name: 'John Doe' });
    const updated = plain(res.data).activities.filter((a: { activity_type: string }) => a.activity_type === 'updated');
    expect(updated).toEqual([
      expect.objectContaining({
        description: 'Updated phone, company, priority',
        details: { changed_fields: 'phone, company, priority' },
        performed_by: OWNER,
      }),
    ]);
    const events = await t.sql<{ payload: Record<string, unknown> }>(
      'select payload from lead.outbox_events where lead_id = ? and event_type = ?',
      [id, 'LeadUpdated'],
    );
    expect(events.map((e) => e.payload.changed_fields)).toEqual([['phone', 'company', 'priority']]);
    expect(JSON.stringify(events)).not.toContain('555');

    // The same values again change nothing: no activity, no event.
    expect((await call(surface, 'leads.update', { lead_id: id, phone: '+1 555 0101' }, owner)).status).toBe(200);
    expect(
      await t.sql('select count(*)::int as n from lead.lead_activities where lead_id = ? and activity_type = ?', [id, 'updated']),
    ).toEqual([{ n: 1 }]);

    expect(await issuePaths(surface, 'leads.update', { lead_id: id })).toEqual(['']);
    expect(await issuePaths(surface, 'leads.update', { lead_id: id, email: 'not-an-email', priority: 'urgent' })).toEqual([
      'email',
      'priority',
    ]);
    expect(await call(surface, 'leads.update', { lead_id: id, name: 'X' }, other)).toEqual({ status: 404, code: 'NOT_FOUND' });
  });

  it('closed_lost needs a lost reason, which is stored, shown, filterable and carried by LeadStatusChanged', async () => {
    const id = await createLead();
    expect(await issuePaths(surface, 'leads.updateStatus', { lead_id: id, status: 'closed_lost' })).toEqual(['lost_reason']);
    expect(await issuePaths(surface, 'leads.updateStatus', { lead_id: id, status: 'contacted', lost_reason: 'price' })).toEqual([
      'lost_reason',
    ]);
    expect(await issuePaths(surface, 'leads.updateStatus', { lead_id: id, status: 'closed_lost', lost_reason: 'bored' })).toEqual([
      'lost_reason',
    ]);

    const res = await call(surface, 'leads.updateStatus', { lead_id: id, status: 'closed_lost', lost_reason: 'competitor' });
    expect(plain(res)).toMatchObject({ status: 200, data: { id, status: 'closed_lost', lost_reason: 'competitor' } });
    expect(plain((await call(surface, 'leads.get', { lead_id: id })).data)).toMatchObject({ lost_reason: 'competitor' });
    const filtered = await list(surface, { lost_reason: 'competitor', limit: 100 });
    expect(filtered.items.map((i) => i.id)).toContain(id);
    expect(filtered.total).toBe((await t.sql(`select 1 from lead.leads where lost_reason = 'competitor'`)).length);
    const [event] = await t.sql<{ payload: Record<string, unknown> }>(
      `select payload from lead.outbox_events where lead_id = ? and event_type = 'LeadStatusChanged'`,
      [id],
    );
    expect(event!.payload).toMatchObject({ old_status: 'new', new_status: 'closed_lost', lost_reason: 'competitor' });

    // Reopened, the reason goes with the status.
    await call(surface, 'leads.updateStatus', { lead_id: id, status: 'contacted' });
    expect(plain((await call(surface, 'leads.get', { lead_id: id })).data)).toMatchObject({ status: 'contacted', lost_reason: null });
  });

  it('a second lead with the same e-mail becomes a duplicate of the oldest open one, unknown to the submitter', async () => {
    const email = `${token()}@Example.com`;
    const first = await t.rest('POST', '/api/v1/leads', { body: sampleLead({ email }) });
    const second = await t.rest('POST', '/api/v1/leads', { body: sampleLead({ email: ` ${email.toUpperCase()} `.trim() }) });
    expect(Object.keys(second.body).sort()).toEqual(Object.keys(first.body).sort());
    expect(second.body).toMatchObject({ status: 'new' });

    const detail = plain((await call(surface, 'leads.get', { lead_id: second.body.id })).data);
    expect(detail.duplicate_of).toBe(first.body.id);
    const original = plain((await call(surface, 'leads.get', { lead_id: first.body.id })).data);
    expect(original.duplicate_of).toBeNull();
    expect(original.activities.filter((a: { activity_type: string }) => a.activity_type === 'duplicate_detected')).toEqual([
      expect.objectContaining({ details: { duplicate_lead_id: second.body.id }, performed_by: null }),
    ]);

    const only = await list(surface, { duplicates: 'only', limit: 100 });
    expect(only.items.map((i) => i.id)).toContain(second.body.id);
    expect(only.items.every((i) => i.duplicate_of !== null)).toBe(true);
    expect(only.total).toBe((await t.sql('select 1 from lead.leads where duplicate_of is not null')).length);
    const exclude = await list(surface, { duplicates: 'exclude', limit: 1 });
    expect(exclude.total).toBe((await t.sql('select 1 from lead.leads where duplicate_of is null')).length);

    // Outside the window, or once the first is closed, a new lead is an original again.
    await t.sql(`update lead.leads set created_at = now() - interval '91 days' where id = ?`, [first.body.id]);
    await t.sql(`update lead.leads set status = 'closed_won' where id = ?`, [second.body.id]);
    const third = await t.rest('POST', '/api/v1/leads', { body: sampleLead({ email }) });
    expect(plain((await call(surface, 'leads.get', { lead_id: third.body.id })).data).duplicate_of).toBeNull();
  });

  it('of simultaneous submissions with one address exactly one is the original', async () => {
    const email = `${token()}@example.com`;
    const created = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        i % 2
          ? t.rest('POST', '/api/v1/leads', { body: sampleLead({ email }) })
          : t.rest('POST', '/api/v1/leads', { body: sampleLead({ email }), headers: { 'idempotency-key': token() } }),
      ),
    );
    expect(created.map((r) => r.status)).toEqual(created.map(() => 201));
    const rows = await t.sql<{ id: string; duplicate_of: string | null; first: boolean }>(
      'select id, duplicate_of, created_at = min(created_at) over () as first from lead.leads where email = ?',
      [email],
    );
    const originals = rows.filter((r) => r.duplicate_of === null);
    expect(originals).toHaveLength(1);
    expect(rows.filter((r) => r.duplicate_of === originals[0]!.id)).toHaveLength(7);
    // Each is timed once it holds the address's lock: none is earlier than the original.
    expect(originals[0]!.first).toBe(true);
  });

  it("merge copies the source's attribution into a target without one, never over the target's own, and its consents", async () => {
    const campaign = `merge-${token()}`;
    const attribution = {
      utm_source: 'newsletter',
      utm_medium: 'email',
      utm_campaign: campaign,
      landing_page: 'https://www.example.com/pricing',
    };
    const target = await createLead({ consent: { policy_version: 'target-v1', marketing: false, text: 'I agree' } }, OWNER);
    const source = await createLead({ attribution, consent: { policy_version: 'source-v2', marketing: true, text: 'Send news' } }, OWNER);
    const res = await call(surface, 'leads.merge', { lead_id: source, into: target }, owner);
    expect(res.status).toBe(200);
    const merged = plain(res.data);
    expect(merged.attribution).toMatchObject(attribution);
    // The consents given with the source's data come along; the source keeps its own record.
    expect(merged.consents.map((c: { policy_version: string }) => c.policy_version).sort()).toEqual(['source-v2', 'target-v1']);
    const kept = plain((await call(surface, 'leads.get', { lead_id: source }, owner)).data);
    expect(kept.consents).toEqual([expect.objectContaining({ policy_version: 'source-v2', marketing: true, text: 'Send news' })]);
    expect(plain((await call(surface, 'leads.get', { lead_id: target }, owner)).data).attribution).toMatchObject(attribution);
    expect(merged.activities).toContainEqual(
      expect.objectContaining({ activity_type: 'merged', details: { merged_lead_id: source, filled_fields: 'attribution' } }),
    );
    const [event] = await t.sql<{ payload: Record<string, unknown> }>(
      `select payload from lead.outbox_events where lead_id = ? and event_type = 'LeadMerged'`,
      [source],
    );
    expect(event!.payload).toMatchObject({ filled_fields: ['attribution'] });
    // The lead's own utm columns come with it: the campaign filter finds the target.
    expect((await list(surface, { utm_campaign: campaign })).items.map((i) => i.id).sort()).toEqual([source, target].sort());

    const own = { ...attribution, utm_campaign: `own-${token()}` };
    const keeper = await createLead({ attribution: own }, OWNER);
    const second = await createLead({ attribution }, OWNER);
    const intoKeeper = plain((await call(surface, 'leads.merge', { lead_id: second, into: keeper }, owner)).data);
    expect(intoKeeper.attribution).toMatchObject(own);
    expect(await t.sql('select utm_campaign from lead.leads where id = ?', [keeper])).toEqual([{ utm_campaign: own.utm_campaign }]);
    expect(intoKeeper.activities).toContainEqual(
      expect.objectContaining({ activity_type: 'merged', details: { merged_lead_id: second, filled_fields: null } }),
    );
  });

  it('merge moves the timeline, fills empty fields, closes the source, audits both and emits LeadMerged', async () => {
    const target = await createLead({ phone: null, company: 'Target Co', message: null }, OWNER);
    const source = await createLead({ phone: '+1 555 0142', company: 'Source Co', message: 'Please call' }, OWNER);
    const note = await call(
      surface,
      'leads.addActivity',
      { lead_id: source, activity_type: 'note_added', description: 'Spoke to them' },
      owner,
    );
    const moved = await t.sql<{ id: string; created_at: string }>(
      'select id, created_at from lead.lead_activities where lead_id = ? order by id',
      [source],
    );

    const res = await call(surface, 'leads.merge', { lead_id: source, into: target }, owner);
    expect(res.status).toBe(200);
    const merged = plain(res.data);
    expect(merged).toMatchObject({ id: target, phone: '+1 555 0142', company: 'Target Co', message: 'Please call', merged_into: null });
    for (const activity of moved) {
      expect(merged.activities).toContainEqual(
        expect.objectContaining({ id: activity.id, created_at: new Date(activity.created_at).toISOString() }),
      );
    }
    expect(merged.activities.map((a: { id: string }) => a.id)).toContain(plain(note.data).id);
    expect(merged.activities).toContainEqual(
      expect.objectContaining({ activity_type: 'merged', details: { merged_lead_id: source, filled_fields: 'phone, message' } }),
    );
    const closed = plain((await call(surface, 'leads.get', { lead_id: source }, owner)).data);
    expect(closed).toMatchObject({ status: 'closed_lost', lost_reason: 'duplicate', merged_into: target, closed_at: expect.any(String) });
    expect(closed.activities.map((a: { activity_type: string }) => a.activity_type)).toEqual(['merged']);

    const [audit] = await t.sql<{ lead_ids: string[]; actor_sub: string }>(
      `select lead_ids, actor_sub from lead.audit_log where action = 'leads.merge' and lead_ids @> array[?]::uuid[]`,
      [source],
    );
    expect(audit).toEqual({ lead_ids: [source, target], actor_sub: OWNER });
    const events = await t.sql<{ event_type: string; payload: Record<string, unknown> }>(
      `select event_type, payload from lead.outbox_events where lead_id = ? order by seq`,
      [source],
    );
    expect(events.map((e) => e.event_type)).toEqual(['LeadCreated', 'LeadStatusChanged', 'LeadMerged']);
    expect(events[2]!.payload).toMatchObject({ merged_into: target, filled_fields: ['phone', 'message'] });

    // Refusals, each with its own clear answer and nothing changed.
    const another = await createLead({}, OWNER);
    expect(await call(surface, 'leads.merge', { lead_id: another, into: another }, owner)).toEqual({ status: 400, code: 'BAD_REQUEST' });
    expect(await call(surface, 'leads.merge', { lead_id: another, into: source }, owner)).toEqual({ status: 409, code: 'CONFLICT' });
    expect(await call(surface, 'leads.merge', { lead_id: source, into: another }, owner)).toEqual({ status: 409, code: 'CONFLICT' });
    const foreign = await createLead({}, OTHER);
    expect(await call(surface, 'leads.merge', { lead_id: another, into: foreign }, owner)).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect(await call(surface, 'leads.merge', { lead_id: another, into: foreign }, admin)).toEqual({ status: 409, code: 'CONFLICT' });
    expect(await t.sql('select status, merged_into from lead.leads where id = ?', [another])).toEqual([
      { status: 'new', merged_into: null },
    ]);
  });
});

describe('query plans', () => {
  /**
   * The indexes a list statement reads, with sequential scans made as costly as they are at a
   * million leads (and, for `scans: 'bitmap'`, walks of a whole index too: in this small database
   * a walk of `lead_search`'s primary key that checks every row is cheaper than the trigram index).
   */
  async function indexesOf(
    input: Record<string, unknown>,
    statement: 'items' | 'total' = 'items',
    scans: 'any' | 'bitmap' = 'any',
  ): Promise<string[]> {
    const { listQueries } = await import('@lead/db');
    const { text, values } = listQueries(
      { q: input.q as string | undefined },
      { sort: (input.sort as never) ?? 'created_at', order: 'asc', limit: 20, page: 1, after: input.after as never },
      {},
    )[statement]!;
    const client = new pg.Client({ connectionString: databaseUrl(t.database) });
    await client.connect();
    try {
      await client.query('set enable_seqscan = off');
      if (scans === 'bitmap') await client.query('set enable_indexscan = off');
      const { rows } = await client.query(`explain (format json) ${text}`, values);
      const names: string[] = [];
      const visit = (node: { 'Index Name'?: string; Plans?: unknown[] }) => {
        if (node['Index Name']) names.push(node['Index Name']);
        for (const child of node.Plans ?? []) visit(child as typeof node);
      };
      visit(rows[0]['QUERY PLAN'][0].Plan);
      return names;
    } finally {
      await client.end();
    }
  }

  // A search collects its matches once, for its page and its total, from the trigram index.
  it('a search can read the trigram index', async () => {
    expect(await indexesOf({ q: 'acme' }, 'items', 'bitmap')).toContain('lead_search_trgm_idx');
  });

  it.each([
    ['name', 'leads_name_key_id_idx', 'alpha'],
    ['priority', 'leads_priority_rank_id_idx', '2'],
    ['status', 'leads_status_rank_id_idx', '3'],
    ['updated_at', 'leads_updated_at_id_idx', '2024-01-15 10:30:00+00'],
    ['change', 'leads_change_xid_id_idx', '100'],
  ])('a cursor page by %s reads its (key, id) index', async (sort, index, key) => {
    expect(await indexesOf({ sort, after: { key, id: '00000000-0000-4000-8000-000000000000' } })).toContain(index);
  });
});

describe('a search where most leads share words', () => {
  // At a million leads a trigram in every lead (`com` of `Company …`) costs the index its whole
  // posting list; the index is asked for the term's uncommon part only, and every candidate is
  // checked for the whole term. Neither may change what a search finds or counts.
  async function withClient<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: databaseUrl(t.database) });
    await client.connect();
    try {
      return await use(client);
    } finally {
      await client.end();
    }
  }
  const key = (term: string, common: string[] | null) =>
    withClient(
      async (c) => (await c.query('select lead.search_key(lead.search_normalize($1), $2::text[]) as k', [term, common])).rows[0].k,
    );

  it('a corrected field is searched by its new value (the stored document follows every edit)', async () => {
    const tag = token();
    const id = await createLead({ company: `Old ${tag}` });
    expect((await call('rest', 'leads.update', { lead_id: id, company: `New ${tag}` })).status).toBe(200);
    expect((await list('rest', { q: `new ${tag}` })).items.map((i) => i.id)).toEqual([id]);
    expect((await list('rest', { q: `old ${tag}` })).total).toBe(0);
    expect((await call('rest', 'leads.updateStatus', { lead_id: id, status: 'contacted' })).status).toBe(200);
    expect((await list('rest', { q: `new ${tag}`, status: 'contacted' })).items.map((i) => i.id)).toEqual([id]);
  });

  it('a status change, assignment or note leaves the lead’s search row as it was; a contact edit or a new creation time rewrites it; it goes with its lead', async () => {
    const tag = token();
    const id = await createLead({ company: `Kept ${tag}` });
    // The row's version (xmin): any write of it, even of the same text, makes a new one.
    const row = async () => (await t.sql('select xmin::text as version, search_text from lead.lead_search where lead_id = ?', [id]))[0]!;
    const created = await row();
    expect(created.search_text).toContain(`kept ${tag}`);
    expect((await call('rest', 'leads.updateStatus', { lead_id: id, status: 'contacted' })).status).toBe(200);
    expect((await call('rest', 'leads.assign', { lead_id: id, assigned_to: OWNER })).status).toBe(200);
    expect((await call('rest', 'leads.addActivity', { lead_id: id, activity_type: 'note_added', description: 'Called back' })).status).toBe(
      201,
    );
    expect((await call('rest', 'leads.update', { lead_id: id, priority: 'high' })).status).toBe(200);
    expect(await row()).toEqual(created);
    expect((await call('rest', 'leads.update', { lead_id: id, company: `Moved ${tag}` })).status).toBe(200);
    const edited = await row();
    expect(edited.version).not.toBe(created.version);
    expect(edited.search_text).toContain(`moved ${tag}`);
    // Its creation time orders a search's matches from this table: it follows a correction by hand.
    await t.sql(`update lead.leads set created_at = '2025-01-02T03:04:05Z' where id = ?`, [id]);
    expect(
      await t.sql(
        'select l.created_at = s.created_at as same from lead.leads l join lead.lead_search s on s.lead_id = l.id where l.id = ?',
        [id],
      ),
    ).toEqual([{ same: true }]);
    await t.sql('delete from lead.leads where id = ?', [id]);
    expect(await t.sql('select 1 from lead.lead_search where lead_id = ?', [id])).toEqual([]);
  });

  it('lead.search_key keeps the longest run of letters and digits without a common trigram, else the whole term', async () => {
    expect(await key('Company 1234', ['com', 'omp', 'mpa', 'pan', 'any'])).toBe('1234');
    expect(await key('ead12345@exam', ['ead', 'ad1', 'exa', 'xam'])).toBe('d12345');
    expect(await key('Company 1234', null)).toBe('company 1234');
    expect(await key('Company 1234', [])).toBe('company 1234');
    expect(await key('com', ['com'])).toBe('com');
    expect(await key('50%_\\x', ['zzz'])).toBe('50\\%\\_\\\\x');
  });

  it('finds and counts exactly what the whole term finds, reading the common trigrams from the statistics', async () => {
    const { Database, listQueries, readCommonTrigrams } = await import('@lead/db');
    const tag = token();
    // A thousand leads sharing `Company <tag>`: its trigrams are then in most of this database's leads.
    await withClient((c) =>
      c.query(
        `insert into lead.leads (id, name, email, company, phone, message, source, status, priority, created_at, updated_at)
         select gen_random_uuid(), 'Lead ' || i, $1 || i || '@example.com', 'Cómpany ' || $1 || ' ' || i, '+44 20 7946 ' || i, 'About ' || i,
                'website', 'new', 'medium', now(), now()
           from generate_series(1000, 1999) as i`,
        [tag],
      ),
    );
    await withClient((c) => c.query('analyze lead.lead_search'));
    const common = await readCommonTrigrams(Database.of(t.orm));
    expect(common).toEqual(expect.arrayContaining([tag.slice(0, 3), 'com', 'omp']));

    for (const [q, run, count] of [
      [`company ${tag} 1042`, '1042', 1],
      [`COMPANY ${tag.toUpperCase()} 104`, null, 10],
      [`${tag}1042@exam`, null, 1],
      ['7946 1042', null, 1],
      [`Cómpany ${tag}`, null, 1000],
    ] as const) {
      // `updatedSince` (every lead matches it) takes the path that reads each match's lead too.
      const search = async (trigrams: string[] | null, updatedSince?: Date) => {
        const { items } = listQueries({ q, updatedSince }, { sort: 'created_at', order: 'desc', page: 1, limit: 100 }, {}, trigrams);
        const { rows } = await withClient((c) => c.query(items.text, items.values));
        return { ids: rows.filter((r) => r.id).map((r: { id: string }) => r.id), total: Number(rows[0].matchTotal) };
      };
      const whole = await search(null);
      expect(whole.total).toBe(count);
      expect(await search(common)).toEqual(whole);
      expect(await search(common, new Date('2000-01-01T00:00:00Z'))).toEqual(whole);
      if (run) expect(await key(q, common)).toBe(run);
    }
  });
});
