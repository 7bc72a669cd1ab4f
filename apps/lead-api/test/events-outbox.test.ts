import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';
import { startDispatcher, startReceiver, type Receiver } from './support/events.js';
import { waitUntil } from './support/wait.js';
import type { EventDispatcher } from '../src/events/dispatcher.js';

const ASSIGNEE = '22222222-2222-4222-8222-222222222222';

let t: TestApp;
let receiver: Receiver;
let dispatcher: EventDispatcher;
let token: string;

beforeAll(async () => {
  t = await startTestApp();
  receiver = await startReceiver();
  dispatcher = startDispatcher(t, { url: receiver.url });
  token = await t.token();
});
afterAll(async () => {
  await dispatcher.stop();
  await receiver.close();
});

const eventsOf = (leadId: string) => receiver.accepted.filter((r) => r.body.lead_id === leadId);

describe('each change writes its event, delivered with the spec payload plus event_id', () => {
  it('create → LeadCreated, status change → LeadStatusChanged, assign → LeadAssigned, in that order', async () => {
    const created = await t.rest('POST', '/api/v1/leads', { body: sampleLead({ email: 'ada@example.com', source: 'referral' }) });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const contacted = await t.rest('PATCH', `/api/v1/leads/${id}/status`, { token, body: { status: 'contacted', notes: 'called' } });
    const assigned = await t.rest('POST', `/api/v1/leads/${id}/assign`, { token, body: { assigned_to: ASSIGNEE } });
    const unassigned = await t.rest('POST', `/api/v1/leads/${id}/assign`, { token, body: { assigned_to: null } });
    // No change, no event: the same assignee again, and the status it already has (409).
    expect((await t.rest('POST', `/api/v1/leads/${id}/assign`, { token, body: { assigned_to: null } })).status).toBe(200);
    expect((await t.rest('PATCH', `/api/v1/leads/${id}/status`, { token, body: { status: 'contacted' } })).status).toBe(409);

    await waitUntil('four events are delivered', () => eventsOf(id).length === 4);
    const events = eventsOf(id);
    expect(events.map((e) => e.body)).toEqual([
      {
        event_id: events[0]!.id,
        event_type: 'LeadCreated',
        lead_id: id,
        email: 'ada@example.com',
        source: 'referral',
        utm_source: null,
        utm_medium: null,
        utm_campaign: null,
        utm_term: null,
        utm_content: null,
        timestamp: created.body.created_at,
      },
      {
        event_id: events[1]!.id,
        event_type: 'LeadStatusChanged',
        lead_id: id,
        old_status: 'new',
        new_status: 'contacted',
        lost_reason: null,
        timestamp: contacted.body.updated_at,
      },
      {
        event_id: events[2]!.id,
        event_type: 'LeadAssigned',
        lead_id: id,
        old_assigned_to: null,
        new_assigned_to: ASSIGNEE,
        timestamp: assigned.body.updated_at,
      },
      {
        event_id: events[3]!.id,
        event_type: 'LeadAssigned',
        lead_id: id,
        old_assigned_to: ASSIGNEE,
        new_assigned_to: null,
        timestamp: unassigned.body.updated_at,
      },
    ]);
    expect(Object.keys(events[0]!.body)).toEqual([
      'event_id',
      'event_type',
      'lead_id',
      'email',
      'source',
      // The outbox stores payloads as jsonb, which orders keys by length.
      'utm_term',
      'utm_medium',
      'utm_source',
      'utm_content',
      'utm_campaign',
      'timestamp',
    ]);
    for (const e of events) {
      expect(e.type).toBe(e.body.event_type);
      expect(e.headers['content-type']).toBe('application/json');
      // Unsigned without NOTIFICATION_SIGNING_SECRET.
      expect(e.headers['x-signature']).toBeUndefined();
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(4);

    // Nothing more arrives: the refused changes wrote no event.
    await new Promise((r) => setTimeout(r, 300));
    expect(eventsOf(id)).toHaveLength(4);
    const rows = await t.sql<{ state: string; delivered_at: Date | null }>(
      'select state, delivered_at from lead.outbox_events where lead_id = ?',
      [id],
    );
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.state === 'delivered' && r.delivered_at !== null)).toBe(true);
    // The payload holds the email; the dispatcher's logs name events by id only.
    expect(t.logs()).toContain(events[0]!.id);
    expect(t.logs()).not.toContain('ada@example.com');
  });

  it('no change without its event: when the event cannot be written, the change is not either', async () => {
    const before = await t.sql<{ n: string }>('select count(*) as n from lead.leads');
    await t.sql(
      `create function lead.refuse_event() returns trigger language plpgsql as $$ begin raise exception 'outbox unavailable'; end $$`,
    );
    await t.sql('create trigger refuse_event before insert on lead.outbox_events for each row execute function lead.refuse_event()');
    try {
      const created = await t.rest('POST', '/api/v1/leads', { body: sampleLead() });
      expect(created.status).toBe(500);
      expect((await t.sql<{ n: string }>('select count(*) as n from lead.leads'))[0]!.n).toBe(before[0]!.n);

      const [lead] = await t.sql<{ id: string }>('select id from lead.leads limit 1');
      const changed = await t.rest('PATCH', `/api/v1/leads/${lead!.id}/status`, {
        token,
        body: { status: 'closed_lost', lost_reason: 'price' },
      });
      expect(changed.status).toBe(500);
      const [after] = await t.sql<{ status: string }>('select status from lead.leads where id = ?', [lead!.id]);
      expect(after!.status).not.toBe('closed_lost');
    } finally {
      await t.sql('drop trigger refuse_event on lead.outbox_events');
      await t.sql('drop function lead.refuse_event()');
    }
  });
});

describe('admin procedures: events by state, stats, retry of a dead event', () => {
  it('lists by state with pages, counts states with the oldest pending age, and retries a dead event', async () => {
    // A receiver that refuses everything from one lead: its event dies at once (4xx).
    const refused = await t.rest('POST', '/api/v1/leads', { body: sampleLead({ email: 'refused@example.com' }) });
    const refusedId = refused.body.id as string;
    receiver.answer((r) => (r.body.lead_id === refusedId ? 422 : 200));
    await waitUntil('the event is dead', async () => {
      const rows = await t.sql<{ state: string }>('select state from lead.outbox_events where lead_id = ?', [refusedId]);
      return rows[0]?.state === 'dead';
    });
    const [dead] = await t.sql<{ event_id: string; attempts: number; last_error: string }>(
      'select event_id, attempts, last_error from lead.outbox_events where lead_id = ?',
      [refusedId],
    );
    expect(dead).toMatchObject({ attempts: 1, last_error: 'HTTP 422' });

    const list = await t.rest('GET', '/api/v1/events?state=dead', { token });
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ total: 1, page: 1, limit: 20 });
    expect(list.body.items[0]).toEqual({
      event_id: dead!.event_id,
      event_type: 'LeadCreated',
      lead_id: refusedId,
      state: 'dead',
      payload: expect.objectContaining({ event_id: dead!.event_id, email: 'refused@example.com' }),
      attempts: 1,
      next_attempt_at: expect.any(String),
      last_error: 'HTTP 422',
      created_at: refused.body.created_at,
      delivered_at: null,
    });
    const delivered = await t.rest('GET', '/api/v1/events?state=delivered&limit=2&page=2', { token });
    expect(delivered.body.items).toHaveLength(2);
    expect(delivered.body.items.every((e: { state: string }) => e.state === 'delivered')).toBe(true);
    const all = await t.rest('GET', '/api/v1/events?limit=100', { token });
    // Newest first.
    expect(all.body.items[0].event_id).toBe(dead!.event_id);

    const stats = await t.rest('GET', '/api/v1/events/stats', { token });
    expect(stats.status).toBe(200);
    expect(stats.body).toEqual({ pending: 0, delivered: delivered.body.total, dead: 1, oldest_pending_age_seconds: null });

    // Retrying what is not dead, or unknown, is refused.
    const notDead = delivered.body.items[0].event_id as string;
    expect((await t.rest('POST', `/api/v1/events/${notDead}/retry`, { token, body: {} })).status).toBe(409);
    const unknown = await t.rest('POST', '/api/v1/events/00000000-0000-4000-8000-000000000000/retry', { token, body: {} });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('NOT_FOUND');

    // While the dispatcher is stopped, a retried event waits as pending, and its age shows.
    await dispatcher.stop();
    const retried = await t.trpc(token).events.retry.mutate({ event_id: dead!.event_id });
    expect(retried).toMatchObject({ state: 'pending', attempts: 0, last_error: 'HTTP 422' });
    await new Promise((r) => setTimeout(r, 1100));
    const waiting = await t.trpc(token).events.stats.query();
    expect(waiting.pending).toBe(1);
    expect(waiting.oldest_pending_age_seconds).toBeGreaterThanOrEqual(1);

    receiver.answer(() => 200);
    dispatcher = startDispatcher(t, { url: receiver.url });
    await waitUntil('the retried event is delivered', () => receiver.acceptedCount(dead!.event_id) === 1);
    await waitUntil('it is recorded as delivered', async () => (await t.trpc(token).events.stats.query()).dead === 0);
  });

  it('are admin-only', async () => {
    expect((await t.rest('GET', '/api/v1/events')).status).toBe(401);
    expect((await t.rest('GET', '/api/v1/events/stats', { token: await t.token('viewer') })).status).toBe(403);
    expect((await t.rest('POST', '/api/v1/events/00000000-0000-4000-8000-000000000000/retry', { body: {} })).status).toBe(401);
    expect((await t.rest('GET', '/api/v1/events?state=lost', { token })).status).toBe(400);
  });
});
