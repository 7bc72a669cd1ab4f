import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { TEST_SECRET } from './support/app.js';
import { connect, createDatabase, databaseUrl, dropDatabase } from './support/database.js';
import { startReceiver, type Receiver } from './support/events.js';
import { spawnService, stopServices } from './support/service.js';
import { waitUntil } from './support/wait.js';

let dbName: string;
let db: pg.Client;
let receiver: Receiver;

/** The built service, as deployed: its own process on the test file's database. */
const service = (env: Record<string, string>) =>
  spawnService(
    {
      DATABASE_URL: databaseUrl(dbName),
      AUTH_JWT_SECRET: TEST_SECRET,
      EVENT_POLL_INTERVAL_MS: '100',
      EVENT_RETRY_BASE_MS: '50',
      EVENT_RETRY_MAX_DELAY_MS: '500',
      ...env,
    },
    { unset: ['NOTIFICATION_SERVICE_URL'] },
  );

/** `perLead` events for each of `leads` leads, written in a lead-interleaved order. */
async function seed(leads: number, perLead: number): Promise<void> {
  await db.query(
    `insert into lead.outbox_events (event_id, event_type, lead_id, payload, state, attempts, next_attempt_at, created_at)
     select e.id, 'LeadStatusChanged', e.lead_id,
            jsonb_build_object('event_id', e.id, 'event_type', 'LeadStatusChanged', 'lead_id', e.lead_id,
                               'old_status', 'new', 'new_status', 'contacted', 'timestamp', now()),
            'pending', 0, now(), now()
       from (select gen_random_uuid() as id, g,
                    ('00000000-0000-4000-8000-' || lpad(((g - 1) % $1::int)::text, 12, '0'))::uuid as lead_id
               from generate_series(1, $1::int * $2::int) g) e
      order by e.g`,
    [leads, perLead],
  );
}

async function outbox(): Promise<Array<{ event_id: string; lead_id: string; state: string; attempts: number }>> {
  return (await db.query('select event_id, lead_id, state, attempts from lead.outbox_events order by seq')).rows;
}

beforeAll(async () => {
  dbName = await createDatabase(inject('templateDatabase'));
  db = await connect(dbName);
});
afterEach(async () => {
  await stopServices();
  await receiver?.close();
  await db.query('truncate lead.outbox_events, lead.leads cascade');
});
afterAll(async () => {
  await db.end();
  await dropDatabase(dbName);
});

describe('dispatchers in separate service processes', () => {
  it('two processes deliver 1,000 events to a healthy receiver exactly once, each lead in order', async () => {
    receiver = await startReceiver();
    await seed(250, 4);
    const env = { NOTIFICATION_SERVICE_URL: receiver.url, EVENT_BATCH_SIZE: '25' };
    const [a, b] = [service(env), service(env)];
    await Promise.all([a.url(), b.url()]);

    const events = await outbox();
    expect(events).toHaveLength(1000);
    await waitUntil('every event is accepted', () => events.every((e) => receiver.acceptedCount(e.event_id) >= 1), 60_000);
    await waitUntil('every event is recorded as delivered', async () => (await outbox()).every((e) => e.state === 'delivered'));
    // Anything delivered twice would have arrived by now.
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.requests).toHaveLength(1000);
    for (const e of events) expect(receiver.acceptedCount(e.event_id)).toBe(1);
    expect((await outbox()).every((e) => e.attempts === 1)).toBe(true);

    const arrived = new Map<string, string[]>();
    for (const r of receiver.accepted) arrived.set(String(r.body.lead_id), [...(arrived.get(String(r.body.lead_id)) ?? []), r.id]);
    for (const [lead, ids] of arrived) expect(ids).toEqual(events.filter((e) => e.lead_id === lead).map((e) => e.event_id));
  }, 90_000);

  it('a process killed (SIGKILL) mid-delivery loses nothing: a restarted one delivers after the lease', async () => {
    receiver = await startReceiver();
    // Requests are received but never answered: the first process dies with all of them in flight.
    receiver.answer(() => 'hold');
    await seed(10, 2);
    const env = { NOTIFICATION_SERVICE_URL: receiver.url, EVENT_DELIVERY_TIMEOUT_MS: '5000', EVENT_LEASE_MS: '6000' };
    const first = service(env);
    await first.url();
    await waitUntil('the first event of each lead is in flight', () => receiver.requests.length === 10);
    first.child.kill('SIGKILL');
    await first.exited;
    expect((await outbox()).filter((e) => e.state === 'pending')).toHaveLength(20);

    receiver.answer(() => 200);
    const second = service(env);
    await second.url();
    const events = await outbox();
    await waitUntil('every event is accepted', () => events.every((e) => receiver.acceptedCount(e.event_id) === 1), 30_000);
    await waitUntil('every event is recorded as delivered', async () => (await outbox()).every((e) => e.state === 'delivered'));
    // The events the dead process held were left alone until its lease ran out.
    for (const held of receiver.requests.slice(0, 10)) {
      const redelivered = receiver.accepted.find((r) => r.id === held.id)!;
      expect(redelivered.at - held.at).toBeGreaterThanOrEqual(5500);
    }
    for (const lead of new Set(events.map((e) => e.lead_id))) {
      const ids = receiver.accepted.filter((r) => r.body.lead_id === lead).map((r) => r.id);
      expect(ids).toEqual(events.filter((e) => e.lead_id === lead).map((e) => e.event_id));
    }
  }, 60_000);

  it('without NOTIFICATION_SERVICE_URL, events wait in the outbox (start-up warns once) and go out once it is set', async () => {
    receiver = await startReceiver();
    const bare = service({});
    const url = await bare.url();
    const created = await fetch(`${url}/api/v1/leads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'John Doe', email: 'john@example.com' }),
    });
    expect(created.status).toBe(201);
    await new Promise((r) => setTimeout(r, 500));
    expect(await outbox()).toMatchObject([{ state: 'pending', attempts: 0 }]);
    expect(bare.output().match(/NOTIFICATION_SERVICE_URL is not set/g)).toHaveLength(1);
    expect(bare.output()).not.toContain('john@example.com');
    bare.child.kill('SIGTERM');
    expect(await bare.exited).toBe(0);

    const configured = service({ NOTIFICATION_SERVICE_URL: receiver.url });
    await configured.url();
    const [event] = await outbox();
    await waitUntil('the waiting event is delivered', () => receiver.acceptedCount(event!.event_id) === 1);
    expect(configured.output()).not.toContain('NOTIFICATION_SERVICE_URL is not set');
  }, 60_000);
});
