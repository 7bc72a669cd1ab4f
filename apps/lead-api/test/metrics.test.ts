import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventDispatcher } from '../src/events/dispatcher.js';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';
import { startDispatcher, startReceiver, type Receiver } from './support/events.js';
import { waitUntil } from './support/wait.js';
import { SHARED_REDIS_URL } from './support/redis.js';

/** `/metrics` moves with real traffic, and its labels never carry ids, addresses or text. */

let t: TestApp;
let receiver: Receiver;
let dispatcher: EventDispatcher | undefined;

beforeAll(async () => {
  t = await startTestApp({ env: { RATE_LIMIT_CREATE_PER_HOUR: 6 } });
  receiver = await startReceiver();
});
afterAll(async () => {
  await dispatcher?.stop();
  await receiver.close();
});

async function scrape(app: TestApp = t): Promise<string> {
  const res = await fetch(`${app.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of one series, e.g. `lead_creates_total{outcome="stored"}`; 0 when absent. */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('GET /metrics', () => {
  it('counts creates by outcome and times requests by operation and status, never by URL', async () => {
    await t.rest('POST', '/api/v1/leads', { body: sampleLead() }); // stored
    const key = { 'idempotency-key': 'metrics-key-1' };
    await t.rest('POST', '/api/v1/leads', { body: sampleLead({ email: 'key@example.com' }), headers: key }); // stored
    await t.rest('POST', '/api/v1/leads', { body: sampleLead({ email: 'key@example.com' }), headers: key }); // replayed
    await t.rest('POST', '/api/v1/leads', { body: sampleLead({ website: 'http://spam.example' }) }); // honeypot
    await t.rest('POST', '/api/v1/leads', { body: sampleLead({ email: 'not-an-email' }) }); // invalid
    await t.rest('POST', '/api/v1/leads', { body: sampleLead() }); // stored (6th of 6)
    await t.rest('POST', '/api/v1/leads', { body: sampleLead() }); // rate limited
    const lead = await t
      .trpc()
      .leads.create.mutate({ name: 'John Doe', email: 'john@example.com' })
      .catch(() => null); // over tRPC: rate limited too
    expect(lead).toBeNull();
    const token = await t.token('admin');
    const [row] = await t.sql<{ id: string }>('select id from lead.leads limit 1');
    await t.rest('GET', `/api/v1/leads/${row!.id}?utm=secret-campaign`, { token });
    await t.rest('GET', '/no/such/path/6f1c');

    const text = await scrape();
    expect(value(text, 'lead_creates_total{outcome="stored"}')).toBe(3);
    expect(value(text, 'lead_creates_total{outcome="replayed"}')).toBe(1);
    expect(value(text, 'lead_creates_total{outcome="honeypot"}')).toBe(1);
    expect(value(text, 'lead_creates_total{outcome="invalid"}')).toBe(1);
    expect(value(text, 'lead_creates_total{outcome="rate_limited"}')).toBe(2);
    expect(value(text, 'lead_honeypot_caught_total')).toBe(1);
    expect(value(text, 'lead_http_request_duration_seconds_count{operation="leads.create",status="201"}')).toBe(5);
    expect(value(text, 'lead_http_request_duration_seconds_count{operation="leads.create",status="429"}')).toBe(2);
    expect(value(text, 'lead_http_request_duration_seconds_count{operation="leads.get",status="200"}')).toBe(1);
    expect(value(text, 'lead_http_request_duration_seconds_count{operation="unmatched",status="404"}')).toBe(1);
    // No id, query string, made-up path or address in any label.
    for (const leaked of [row!.id, 'secret-campaign', '6f1c', '127.0.0.1', 'key@example.com']) expect(text).not.toContain(leaked);
    const operations = new Set([...text.matchAll(/operation="([^"]*)"/g)].map((m) => m[1]));
    expect([...operations].sort()).toEqual(['leads.create', 'leads.get', 'unmatched']);
  });

  it('shows the outbox backlog and counts delivery attempts by outcome', async () => {
    const before = await scrape();
    expect(value(before, 'lead_outbox_events{state="pending"}')).toBe(3);
    expect(value(before, 'lead_outbox_oldest_pending_age_seconds')).toBeGreaterThan(0);

    let answered = 0;
    receiver.answer(() => (answered++ === 0 ? 503 : answered === 2 ? 400 : 200));
    dispatcher = startDispatcher(t, { url: receiver.url }, t.app.metrics);
    await waitUntil('the outbox is worked off', async () => value(await scrape(), 'lead_outbox_events{state="pending"}') === 0);
    const after = await scrape();
    expect(value(after, 'lead_outbox_events{state="dead"}')).toBe(1);
    expect(value(after, 'lead_outbox_oldest_pending_age_seconds')).toBe(0);
    expect(value(after, 'lead_event_delivery_attempts_total{outcome="retry"}')).toBe(1);
    expect(value(after, 'lead_event_delivery_attempts_total{outcome="refused"}')).toBe(1);
    expect(value(after, 'lead_event_delivery_attempts_total{outcome="delivered"}')).toBe(2);
  });

  it('shows the pool, the rate-limit store and the process', async () => {
    const text = await scrape();
    expect(text).toMatch(/^lead_db_pool_connections\{state="in_use"\} \d+$/m);
    expect(text).toMatch(/^lead_db_pool_connections\{state="idle"\} \d+$/m);
    expect(text).toMatch(/^lead_db_pool_waiting \d+$/m);
    expect(value(text, 'lead_rate_limit_store{store="memory"}')).toBe(1);
    expect(value(text, 'lead_rate_limit_store{store="redis"}')).toBe(0);
    expect(text).toMatch(/^lead_process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^lead_nodejs_eventloop_lag_seconds \d/m);

    const redis = new Redis(SHARED_REDIS_URL, { lazyConnect: true });
    await redis.connect();
    try {
      const withRedis = await startTestApp({ redis });
      const inRedis = await scrape(withRedis);
      expect(value(inRedis, 'lead_rate_limit_store{store="redis"}')).toBe(1);
      expect(value(inRedis, 'lead_rate_limit_store{store="memory"}')).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
});
