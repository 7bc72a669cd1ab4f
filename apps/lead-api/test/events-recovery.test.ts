import { afterAll, beforeAll, expect, it } from 'vitest';
import type { EventDispatcher } from '../src/events/dispatcher.js';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';
import { startDispatcher, startReceiver, type Receiver } from './support/events.js';
import { waitUntil } from './support/wait.js';

/**
 * A 30 s receiver outage with the production backoff (1 s doubling, full jitter, up to 15 min):
 * once the receiver is back, every event still pending arrives within 15 s, each lead's in order.
 * Without bringing the backed-off events forward, one that drew a long backoff holds its lead's
 * later events for minutes.
 */

let t: TestApp;
let receiver: Receiver;
let dispatcher: EventDispatcher;

beforeAll(async () => {
  t = await startTestApp();
  receiver = await startReceiver();
  await receiver.down();
  dispatcher = startDispatcher(t, {
    url: receiver.url,
    timeoutMs: 1_000,
    pollIntervalMs: 500,
    leaseMs: 5_000,
    batchSize: 50,
    retryBaseMs: 1_000,
    retryMaxDelayMs: 15 * 60_000,
    maxAgeMs: 72 * 3600_000,
    recoveryProbeMs: 5_000,
  });
});

afterAll(async () => {
  await dispatcher.stop();
  await receiver.close();
});

const pending = async () =>
  Number((await t.sql<{ n: string }>(`select count(*) as n from lead.outbox_events where state = 'pending'`))[0]!.n);

it('after a 30 s outage, every pending event is delivered within 15 s of the receiver coming back, in order per lead', async () => {
  const token = await t.token('admin');
  const outageStarted = Date.now();
  const leads: string[] = [];
  // Changes keep coming during the outage, so events back off to every degree.
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 5; i++) {
      const created = await t.rest('POST', '/api/v1/leads', { body: sampleLead({ email: `recovery-${round}-${i}@example.com` }) });
      leads.push(created.body.id as string);
    }
    for (const id of leads.slice(-10)) {
      await t.rest('PATCH', `/api/v1/leads/${id}/status`, { token, body: { status: 'contacted' } }).catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 30_000 / 6 - (Date.now() - outageStarted - round * 5_000)));
  }
  const waiting = await pending();
  expect(waiting).toBeGreaterThan(30);
  expect(Date.now() - outageStarted).toBeGreaterThanOrEqual(29_000);

  await receiver.up();
  const back = Date.now();
  await waitUntil('every pending event is delivered', async () => (await pending()) === 0, 15_000);
  const drainMs = Date.now() - back;
  console.log(
    `${waiting} events pending after a ${Math.round((back - outageStarted) / 1000)} s outage: all delivered ${drainMs} ms after the receiver came back`,
  );

  const rows = await t.sql<{ event_id: string; lead_id: string }>(`select event_id, lead_id from lead.outbox_events order by seq`);
  const arrival = new Map(receiver.accepted.map((r, index) => [r.id, index]));
  for (const lead of new Set(rows.map((r) => r.lead_id))) {
    const order = rows.filter((r) => r.lead_id === lead).map((r) => arrival.get(r.event_id)!);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  }
}, 90_000);
