// The receiver entry against the real dispatcher: the built service POSTs its events to a
// receiver in this test, which checks and parses them with `constructLeadEvent`.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeadClient, LeadServiceError } from '../dist/index.js';
import {
  constructLeadEvent,
  EventParseError,
  parseLeadEvent,
  SignatureVerificationError,
  verifyLeadEventSignature,
  type LeadServiceEvent,
} from '../dist/receiver.js';
import { ADMIN_ID, startService, uniqueEmail, type Service } from './support/service.js';

const SECRET = 'receiver-test-signing-secret-of-32-chars-or-more';

interface Delivery {
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

let service: Service;
let receiver: Server;
const deliveries: Delivery[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, raw: Buffer.concat(chunks) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
  service = await startService({ NOTIFICATION_SERVICE_URL: url, NOTIFICATION_SIGNING_SECRET: SECRET, EVENT_POLL_INTERVAL_MS: '50' });
});
afterAll(async () => {
  await service?.stop();
  receiver?.close();
});

async function eventsOf(leadId: string, count: number): Promise<Delivery[]> {
  for (let i = 0; i < 200; i++) {
    const found = deliveries.filter((d) => d.raw.toString().includes(leadId));
    if (found.length >= count) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`expected ${count} deliveries for ${leadId}, got ${deliveries.length} in all`);
}

describe('receiving the dispatcher’s deliveries', () => {
  it('verifies and parses each event into the typed union', async () => {
    const cms = createLeadClient({ baseURL: service.url, token: await service.adminToken() });
    const email = uniqueEmail();
    const lead = await cms.leads.create.mutate({ name: 'Receiver', email, source: 'referral' });
    await cms.leads.updateStatus.mutate({ lead_id: lead.id, status: 'contacted' });
    await cms.leads.assign.mutate({ lead_id: lead.id, assigned_to: ADMIN_ID });

    const received = await eventsOf(lead.id, 3);
    const events: LeadServiceEvent[] = [];
    for (const { headers, raw } of received) events.push(await constructLeadEvent({ secret: SECRET, headers, rawBody: raw }));
    const base = { event_id: expect.any(String), lead_id: lead.id, timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) };
    expect(events).toEqual([
      {
        ...base,
        event_type: 'LeadCreated',
        email,
        source: 'referral',
        ...{ utm_source: null, utm_medium: null, utm_campaign: null, utm_term: null, utm_content: null },
      },
      { ...base, event_type: 'LeadStatusChanged', old_status: 'new', new_status: 'contacted', lost_reason: null },
      { ...base, event_type: 'LeadAssigned', old_assigned_to: null, new_assigned_to: ADMIN_ID },
    ]);
    expect(events.map((e) => e.event_id)).toEqual(received.map((d) => d.headers['x-event-id']));

    // Narrowing by event_type gives each event's own fields.
    const changed = events.find((e) => e.event_type === 'LeadStatusChanged');
    if (changed?.event_type !== 'LeadStatusChanged') throw new Error('no status change');
    expect(changed.new_status).toBe('contacted');

    // A string body verifies as well as the bytes; so does a Fetch Headers object.
    const [{ headers, raw }] = received as [Delivery];
    const fetchHeaders = new Headers(Object.entries(headers).map(([k, v]): [string, string] => [k, String(v)]));
    expect(await verifyLeadEventSignature({ secret: SECRET, headers: fetchHeaders, rawBody: raw.toString() })).toBe(true);
  });

  it('parses LeadErased, which carries the lead id only', async () => {
    const cms = createLeadClient({ baseURL: service.url, token: await service.adminToken() });
    const lead = await cms.leads.create.mutate({ name: 'Forget Me', email: uniqueEmail() });
    await eventsOf(lead.id, 1);
    await cms.privacy.erase.mutate({ lead_id: lead.id, reason: 'receiver test' });
    const [, { headers, raw }] = (await eventsOf(lead.id, 2)) as [Delivery, Delivery];
    const event = await constructLeadEvent({ secret: SECRET, headers, rawBody: raw });
    expect(event).toEqual({
      event_id: headers['x-event-id'],
      event_type: 'LeadErased',
      lead_id: lead.id,
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('refuses a wrong secret, a changed body, a missing or stale signature', async () => {
    const cms = createLeadClient({ baseURL: service.url });
    const lead = await cms.leads.create.mutate({ name: 'Tamper', email: uniqueEmail() });
    const [{ headers, raw }] = (await eventsOf(lead.id, 1)) as [Delivery];
    const refusal = (options: Parameters<typeof constructLeadEvent>[0]) =>
      constructLeadEvent(options).then(
        () => expect.unreachable('should be refused'),
        (e: unknown) => e,
      );

    for (const error of [
      await refusal({ secret: `${SECRET}x`, headers, rawBody: raw }),
      await refusal({ secret: SECRET, headers, rawBody: raw.toString().replace('"source":"website"', '"source":"referral"') }),
      await refusal({ secret: SECRET, headers: { ...headers, 'x-signature': undefined }, rawBody: raw }),
      await refusal({ secret: SECRET, headers, rawBody: raw, now: Number(headers['x-signature-timestamp']) + 301 }),
    ]) {
      expect(error).toBeInstanceOf(SignatureVerificationError);
      expect(error).toBeInstanceOf(LeadServiceError);
    }
    // Within the tolerance it passes.
    expect(
      await verifyLeadEventSignature({ secret: SECRET, headers, rawBody: raw, now: Number(headers['x-signature-timestamp']) + 299 }),
    ).toBe(true);
  });

  it('refuses bodies that are not events it knows', () => {
    const base = { event_id: 'e', lead_id: 'l', timestamp: '2024-01-15T10:30:00.000Z' };
    expect(() => parseLeadEvent('not json')).toThrow(EventParseError);
    expect(() => parseLeadEvent(JSON.stringify({ ...base, event_type: 'LeadDeleted' }))).toThrow(/Unknown event type "LeadDeleted"/);
    expect(() =>
      parseLeadEvent(JSON.stringify({ ...base, event_type: 'LeadStatusChanged', old_status: 'new', new_status: 'won' })),
    ).toThrow(/LeadStatusChanged has missing or invalid new_status/);
    expect(
      parseLeadEvent(JSON.stringify({ ...base, event_type: 'LeadAssigned', old_assigned_to: 'a', new_assigned_to: null })),
    ).toMatchObject({
      event_type: 'LeadAssigned',
    });
  });
});
