import superjson from 'superjson';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});

const caught = async () => {
  // Plain text for scrapers, outside the OpenAPI document (like /docs), so not through `rest()`.
  const res = await fetch(`${t.url}/metrics`);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return Number(/^lead_honeypot_caught_total (\d+)$/m.exec(await res.text())?.[1]);
};
const count = async (query: string, params: unknown[] = []) => Number((await t.sql<{ n: string }>(query, params))[0]!.n);

describe('the honeypot field (`website`)', () => {
  it('answers a filled honeypot like a success, but stores nothing, sends no event, and counts it', async () => {
    const before = {
      leads: await count('select count(*) as n from lead.leads'),
      events: await count('select count(*) as n from lead.outbox_events'),
      caught: await caught(),
    };
    const bot = sampleLead({ name: 'Spam Bot Name', email: 'spam-bot@example.com', website: 'https://spam.example' });
    const res = await t.rest('POST', '/api/v1/leads', { body: bot });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(UUID),
      name: 'Spam Bot Name',
      email: 'spam-bot@example.com',
      status: 'new',
      created_at: expect.stringMatching(ISO_UTC),
    });
    expect(await count('select count(*) as n from lead.leads')).toBe(before.leads);
    expect(await count('select count(*) as n from lead.outbox_events')).toBe(before.events);
    expect(await count('select count(*) as n from lead.lead_activities where lead_id = ?', [res.body.id])).toBe(0);
    expect(await caught()).toBe(before.caught + 1);
    // The operator sees the catch in the logs, without the submitted data.
    const line = t
      .logs()
      .split('\n')
      .find((l) => l.includes('honeypot field filled'));
    expect(JSON.parse(line!)).toMatchObject({ level: 30, honeypot: true, reqId: res.headers.get('x-request-id') });
    expect(t.logs()).not.toMatch(/Spam Bot Name|spam-bot@example\.com|spam\.example/);
  });

  it('catches it over tRPC too', async () => {
    const before = await caught();
    const res = await fetch(`${t.url}/trpc/leads.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(superjson.serialize(sampleLead({ email: 'trpc-bot@example.com', website: 'x' }))),
    });
    expect(res.status).toBe(200);
    expect(await count('select count(*) as n from lead.leads where email = ?', ['trpc-bot@example.com'])).toBe(0);
    expect(await caught()).toBe(before + 1);
  });

  it('stores the lead when the honeypot is empty or absent', async () => {
    const before = await caught();
    for (const website of ['', undefined]) {
      const res = await t.rest('POST', '/api/v1/leads', { body: sampleLead({ email: 'person@example.com', website }) });
      expect(res.status).toBe(201);
    }
    expect(await count('select count(*) as n from lead.leads where email = ?', ['person@example.com'])).toBe(2);
    expect(await caught()).toBe(before);
  });
});
