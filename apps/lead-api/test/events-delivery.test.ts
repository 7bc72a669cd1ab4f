import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRetryAfter, signature } from '../src/events/delivery.js';
import { backoffMs, type DispatcherConfig, type EventDispatcher } from '../src/events/dispatcher.js';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';
import { startDispatcher, startReceiver, type Receiver } from './support/events.js';
import { waitUntil } from './support/wait.js';

let t: TestApp;
let receiver: Receiver;
let token: string;
let dispatcher: EventDispatcher | undefined;

beforeAll(async () => {
  t = await startTestApp();
  receiver = await startReceiver();
  token = await t.token();
});
afterAll(async () => {
  await dispatcher?.stop();
  await receiver.close();
});

async function run(config: Partial<DispatcherConfig> = {}): Promise<void> {
  await dispatcher?.stop();
  dispatcher = startDispatcher(t, { url: receiver.url, ...config });
}

async function createLeads(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await t.rest('POST', '/api/v1/leads', { body: sampleLead({ email: `lead${i}@example.com` }) });
    expect(res.status).toBe(201);
    ids.push(res.body.id as string);
  }
  return ids;
}

/** Event ids of these leads, each lead's in the order they happened. */
async function eventsOf(leadIds: string[]): Promise<Map<string, string[]>> {
  const rows = await t.sql<{ lead_id: string; event_id: string }>(
    'select lead_id, event_id from lead.outbox_events where lead_id in (?) order by seq',
    [leadIds],
  );
  const map = new Map<string, string[]>(leadIds.map((id) => [id, []]));
  for (const row of rows) map.get(row.lead_id)!.push(row.event_id);
  return map;
}

const allAccepted = (ids: string[]) => ids.every((id) => receiver.acceptedCount(id) >= 1);

describe('delivery to the notification service', () => {
  it('while the receiver is down, events wait and retry; once it is up, every one arrives, once', async () => {
    await receiver.down();
    await run();
    const leads = await createLeads(10);
    const events = [...(await eventsOf(leads)).values()].flat();
    await waitUntil('every event has failed twice', async () => {
      const rows = await t.sql<{ attempts: number; last_error: string | null }>(
        'select attempts, last_error from lead.outbox_events where event_id in (?)',
        [events],
      );
      return rows.every((r) => r.attempts >= 2 && r.last_error === 'ECONNREFUSED');
    });
    await receiver.up();
    await waitUntil('every event is delivered', () => allAccepted(events));
    for (const id of events) expect(receiver.acceptedCount(id)).toBe(1);
  });

  it('an event written by this instance goes out at once, not at the next poll', async () => {
    receiver.answer(() => 200);
    await run({ pollIntervalMs: 60_000 });
    await new Promise((r) => setTimeout(r, 200));
    const [lead] = await createLeads(1);
    await t.rest('PATCH', `/api/v1/leads/${lead}/status`, { token, body: { status: 'contacted' } });
    const events = (await eventsOf([lead!])).get(lead!)!;
    await waitUntil('both are delivered', () => allAccepted(events), 5_000);
  });

  it('a receiver answering 500 at random still gets every event, each lead in order', async () => {
    receiver.answer(() => (Math.random() < 0.5 ? 500 : 200));
    await run();
    const leads = await createLeads(30);
    for (const id of leads) {
      for (const status of ['contacted', 'qualified']) {
        expect((await t.rest('PATCH', `/api/v1/leads/${id}/status`, { token, body: { status } })).status).toBe(200);
      }
    }
    const byLead = await eventsOf(leads);
    const events = [...byLead.values()].flat();
    expect(events).toHaveLength(90);
    await waitUntil('every event is delivered', () => allAccepted(events), 60_000);
    for (const id of events) expect(receiver.acceptedCount(id)).toBe(1);
    expect(receiver.requests.filter((r) => events.includes(r.id)).length).toBeGreaterThan(90);

    // Per lead, requests (retries included) never jump ahead: collapsing repeats of one event
    // leaves exactly the lead's events in the order they happened.
    for (const [lead, expected] of byLead) {
      const seen = receiver.requests.filter((r) => r.body.lead_id === lead).map((r) => r.id);
      expect(seen.filter((id, i) => id !== seen[i - 1])).toEqual(expected);
    }
    await waitUntil('all are recorded as delivered', async () => {
      const rows = await t.sql<{ n: string }>(
        `select count(*) as n from lead.outbox_events where event_id in (?) and state = 'delivered'`,
        [events],
      );
      return Number(rows[0]!.n) === 90;
    });
  });

  it('429 and 503 are retried no sooner than Retry-After says', async () => {
    const answered = new Set<string>();
    receiver.answer((r) => {
      if (answered.has(r.id)) return 200;
      answered.add(r.id);
      return r.body.email === 'lead0@example.com'
        ? { status: 429, headers: { 'retry-after': '1' } }
        : { status: 503, headers: { 'retry-after': new Date(Date.now() + 2000).toUTCString() } };
    });
    await run();
    const leads = await createLeads(2);
    const events = [...(await eventsOf(leads)).values()].flat();
    await waitUntil('both are delivered', () => allAccepted(events));
    const [first, second] = events.map((id) => receiver.requests.filter((r) => r.id === id).map((r) => r.at));
    expect(first).toHaveLength(2);
    expect(first![1]! - first![0]!).toBeGreaterThanOrEqual(1000);
    expect(second).toHaveLength(2);
    // An HTTP date has a resolution of one second.
    expect(second![1]! - second![0]!).toBeGreaterThanOrEqual(1000);

    expect(parseRetryAfter('7')).toBe(7000);
    expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it('a timeout is retried', async () => {
    const answered = new Set<string>();
    receiver.answer((r) => (answered.has(r.id) ? 200 : (answered.add(r.id), 'hold')));
    await run({ timeoutMs: 300, leaseMs: 2000 });
    const [lead] = await createLeads(1);
    const [event] = (await eventsOf([lead!])).get(lead!)!;
    await waitUntil('it is delivered', () => receiver.acceptedCount(event!) === 1);
    expect(receiver.requests.filter((r) => r.id === event)).toHaveLength(2);
  });

  it('a redirect is not followed but retried: the signed POST never goes elsewhere', async () => {
    const answered = new Set<string>();
    receiver.answer((r) =>
      answered.has(r.id) ? 200 : (answered.add(r.id), { status: 302, headers: { location: `${receiver.url}/elsewhere` } }),
    );
    await run();
    const [lead] = await createLeads(1);
    const [event] = (await eventsOf([lead!])).get(lead!)!;
    await waitUntil('it is delivered', () => receiver.acceptedCount(event!) === 1);
    expect(receiver.requests.filter((r) => r.id === event)).toHaveLength(2);
  });

  it('any other 4xx is dead at once and kept; the lead’s later events still go', async () => {
    receiver.answer((r) => (r.type === 'LeadCreated' ? 400 : 200));
    await run();
    const [lead] = await createLeads(1);
    await t.rest('PATCH', `/api/v1/leads/${lead}/status`, { token, body: { status: 'contacted' } });
    const [created, changed] = (await eventsOf([lead!])).get(lead!)!;
    await waitUntil('the status change is delivered', () => receiver.acceptedCount(changed!) === 1);
    const [row] = await t.sql<{ state: string; attempts: number; last_error: string }>(
      'select state, attempts, last_error from lead.outbox_events where event_id = ?',
      [created],
    );
    expect(row).toEqual({ state: 'dead', attempts: 1, last_error: 'HTTP 400' });
  });

  it('an event still failing at the end of its retry window is dead and kept', async () => {
    receiver.answer(() => 503);
    await run({ maxAgeMs: 500 });
    const [lead] = await createLeads(1);
    const [event] = (await eventsOf([lead!])).get(lead!)!;
    await waitUntil('it is dead', async () => {
      const [row] = await t.sql<{ state: string }>('select state from lead.outbox_events where event_id = ?', [event]);
      return row!.state === 'dead';
    });
    const [row] = await t.sql<{ attempts: number; last_error: string; payload: object }>(
      'select attempts, last_error, payload from lead.outbox_events where event_id = ?',
      [event],
    );
    expect(row!.attempts).toBeGreaterThan(1);
    expect(row!.last_error).toBe('HTTP 503');
    expect(row!.payload).toMatchObject({ event_id: event, lead_id: lead });
  });

  it('backs off exponentially with full jitter, up to the maximum delay', () => {
    expect(backoffMs(1, 1000, 60_000, () => 0.999)).toBe(999);
    expect(backoffMs(4, 1000, 60_000, () => 0.5)).toBe(4000);
    expect(backoffMs(40, 1000, 60_000, () => 0.999)).toBe(59_940);
    expect(backoffMs(3, 1000, 60_000, () => 0)).toBe(0);
  });
});

describe('signatures', () => {
  const SECRET = 'receiver-secret-that-is-at-least-32-chars';
  let verifyLeadEvent: (secret: string, headers: Record<string, unknown>, rawBody: string, tolerance?: number) => boolean;
  let dir: string;

  beforeAll(async () => {
    // The README's receiver snippet, exactly as documented.
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    const snippet = /```js\n([\s\S]*?export function verifyLeadEvent[\s\S]*?)```/.exec(readme)?.[1];
    expect(snippet).toBeDefined();
    dir = await mkdtemp(join(tmpdir(), 'lead-snippet-'));
    const file = join(dir, 'verify.mjs');
    await writeFile(file, snippet!);
    ({ verifyLeadEvent } = await import(pathToFileURL(file).href));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('verify with the documented snippet; a changed body, another secret or an old timestamp do not', async () => {
    receiver.answer(() => 200);
    await run({ signingSecret: SECRET });
    const leads = await createLeads(3);
    const events = [...(await eventsOf(leads)).values()].flat();
    await waitUntil('all are delivered', () => allAccepted(events));
    const signed = receiver.accepted.filter((r) => events.includes(r.id));
    for (const r of signed) {
      expect(r.headers['x-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
      expect(verifyLeadEvent(SECRET, r.headers, r.rawBody)).toBe(true);
      expect(verifyLeadEvent(SECRET, r.headers, r.rawBody.replace('lead', 'LEAD'))).toBe(false);
      expect(verifyLeadEvent(`${SECRET}x`, r.headers, r.rawBody)).toBe(false);
      // Correctly signed, but ten minutes old: a replay.
      const old = String(Math.floor(Date.now() / 1000) - 600);
      const replay = { ...r.headers, 'x-signature-timestamp': old, 'x-signature': signature(SECRET, old, r.rawBody) };
      expect(verifyLeadEvent(SECRET, replay, r.rawBody)).toBe(false);
      expect(verifyLeadEvent(SECRET, replay, r.rawBody, 900)).toBe(true);
    }
  });
});
