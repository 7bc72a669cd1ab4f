import { createHmac } from 'node:crypto';
import {
  Database,
  ERASED_NAME,
  erasedEmail,
  IdempotencyKeyRepository,
  LeadRepository,
  PrivacyRepository,
  type AuditEntry,
  type NewLead,
} from '@lead/db';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ID, startTestApp, type TestApp } from './support/app.js';

const SECRET = 'erasure-hash-secret-for-the-repository-test';
let t: TestApp;
let db: Database;
let privacy: PrivacyRepository;
let leads: LeadRepository;
beforeAll(async () => {
  t = await startTestApp();
  db = Database.of(t.orm);
  privacy = new PrivacyRepository(db, { erasureHashSecret: SECRET });
  leads = new LeadRepository(db);
});

let n = 0;
const audit = (action: string): AuditEntry => ({
  actorSub: ADMIN_ID,
  actorRole: 'admin',
  action,
  requestId: `req-${n++}`,
  clientIp: '127.0.0.1',
  userAgent: null,
});
const OPTIONS = { duplicateWindowDays: 30 };

const newLead = (email: string): NewLead => ({
  name: 'Jane Private',
  email,
  phone: '+44 20 7946 0958',
  company: 'Private Ltd',
  message: 'Please call me about my secret project',
  source: 'website',
  attribution: {
    utmSource: 'newsletter',
    utmMedium: 'email',
    utmCampaign: 'spring',
    utmTerm: null,
    utmContent: null,
    referrer: 'https://ref.example/page',
    landingPage: 'https://www.example.com/landing',
    page: 'https://www.example.com/contact',
    firstTouch: {
      utm_source: 'ads',
      utm_medium: 'cpc',
      utm_campaign: null,
      utm_term: null,
      utm_content: null,
      referrer: 'https://first.example/',
      landing_page: 'https://www.example.com/first',
      page: null,
      at: '2026-01-01T00:00:00Z',
    },
  },
  consent: { policyVersion: '2026-01', marketing: true, text: 'I agree to the privacy policy', page: 'https://www.example.com/contact' },
});

/** A lead with something in every table an erasure touches. */
async function richLead(email: string): Promise<string> {
  const { lead } = await new IdempotencyKeyRepository(db).createLeadOnce(
    { key: `key-${email}`, requestHash: 'x'.repeat(64) },
    newLead(email),
    audit('leads.create'),
    OPTIONS,
  );
  await leads.addActivity(
    lead.id,
    { type: 'note_added', description: 'Jane said her budget is tight', actor: ADMIN_ID },
    { scope: {}, audit: audit('leads.addActivity') },
  );
  await leads.changeStatus(lead.id, 'contacted', {
    scope: {},
    audit: audit('leads.updateStatus'),
    notes: 'Spoke to Jane on +44 20 7946 0958',
    actor: ADMIN_ID,
  });
  return lead.id;
}

const snapshot = async (id: string) => ({
  lead: await t.sql('select * from lead.leads where id = ?', [id]),
  attribution: await t.sql('select * from lead.lead_attributions where lead_id = ?', [id]),
  consents: await t.sql('select * from lead.lead_consents where lead_id = ?', [id]),
  activities: await t.sql('select * from lead.lead_activities where lead_id = ? order by id', [id]),
  events: await t.sql('select * from lead.outbox_events where lead_id = ? order by seq', [id]),
  keys: await t.sql('select * from lead.idempotency_keys where lead_id = ?', [id]),
  erasures: await t.sql('select * from lead.erasures where lead_id = ?', [id]),
});

describe('PrivacyRepository.eraseLead', () => {
  it('counts in a dry run exactly what the erasure then changes, and the dry run changes nothing', async () => {
    const id = await richLead('Jane.Private@Example.com');
    const before = await snapshot(id);
    const dry = await privacy.eraseLead(id, { actor: audit('privacy.erase'), reason: 'test', dryRun: true });
    expect(await snapshot(id)).toEqual(before);
    const expected = { leads: 1, lead_attributions: 1, lead_consents: 1, lead_activities: 2, outbox_events: 1, idempotency_keys: 1 };
    expect(dry).toEqual({ leadId: id, dryRun: true, alreadyErased: false, erasedAt: null, counts: expected });

    const real = await privacy.eraseLead(id, { actor: audit('privacy.erase'), reason: 'customer request', dryRun: false });
    expect(real).toMatchObject({ leadId: id, dryRun: false, alreadyErased: false, counts: expected });
    expect(real.erasedAt).toBeInstanceOf(Date);

    const after = await snapshot(id);
    expect(after.lead[0]).toMatchObject({
      name: ERASED_NAME,
      email: erasedEmail(id),
      phone: null,
      company: null,
      message: null,
      status: 'contacted',
      source: 'website',
      utm_source: 'newsletter',
    });
    expect(after.attribution[0]).toMatchObject({ referrer: null, landing_page: null, page: null, utm_source: 'newsletter' });
    expect(after.attribution[0]!.first_touch).toMatchObject({ referrer: null, landing_page: null, page: null, utm_source: 'ads' });
    expect(after.consents[0]).toMatchObject({
      page: null,
      policy_version: '2026-01',
      marketing: true,
      text: 'I agree to the privacy policy',
    });
    expect(after.activities.map((a) => a.activity_type)).toEqual(before.activities.map((a) => a.activity_type));
    expect(JSON.stringify(after)).not.toMatch(/Jane|7946|secret project|private/i);
    expect(after.keys).toEqual([]);
    expect(after.events.map((e) => e.event_type)).toEqual(['LeadCreated', 'LeadStatusChanged', 'LeadErased']);
    expect(after.events[0]!.payload).toMatchObject({ email: null, source: 'website', utm_source: 'newsletter' });
    expect(Object.keys(after.events[2]!.payload as object).sort()).toEqual(['event_id', 'event_type', 'lead_id', 'timestamp']);
    const hash = createHmac('sha256', SECRET).update('jane.private@example.com').digest('hex');
    expect(after.erasures).toMatchObject([{ email_hash: hash, actor_sub: ADMIN_ID, reason: 'customer request' }]);
    expect(await privacy.erasuresOf('  JANE.private@example.com ')).toMatchObject([{ leadId: id, reason: 'customer request' }]);
    const [row] = await t.sql<{ reason: string; lead_ids: string[] }>(
      `select reason, lead_ids from lead.audit_log where action = 'privacy.erase' order by created_at desc limit 1`,
    );
    expect(row).toEqual({ reason: 'customer request', lead_ids: [id] });

    const again = await privacy.eraseLead(id, { actor: audit('privacy.erase'), reason: null, dryRun: false });
    expect(again).toMatchObject({
      alreadyErased: true,
      counts: { leads: 0, lead_attributions: 0, lead_consents: 0, lead_activities: 0, outbox_events: 0, idempotency_keys: 0 },
    });
    expect((await snapshot(id)).events).toHaveLength(3);
  });
});

describe('lead.strip_personal_fields', () => {
  it('keeps every field of every event but the personal ones, and the keys of those', async () => {
    const at = '2024-01-15T10:30:00.000Z';
    const base = { event_id: 'e', lead_id: 'l', timestamp: at };
    const events = [
      {
        ...base,
        event_type: 'LeadCreated',
        email: 'a@b.co',
        source: 'website',
        utm_source: 's',
        utm_medium: 'm',
        utm_campaign: 'c',
        utm_term: 't',
        utm_content: 'x',
      },
      { ...base, event_type: 'LeadStatusChanged', old_status: 'new', new_status: 'closed_lost', lost_reason: 'price' },
      { ...base, event_type: 'LeadAssigned', old_assigned_to: null, new_assigned_to: ADMIN_ID },
      { ...base, event_type: 'LeadUpdated', changed_fields: ['phone'] },
      { ...base, event_type: 'LeadMerged', merged_into: 'm', filled_fields: ['company'] },
      { ...base, event_type: 'LeadErased' },
      // A field nobody declared harmless is stripped.
      { ...base, event_type: 'LeadCreated', name: 'Jane', phone: '+1 555' },
    ];
    const stripped = await Promise.all(
      events.map(
        async (event) => (await t.sql<{ p: object }>('select lead.strip_personal_fields(?::jsonb) as p', [JSON.stringify(event)]))[0]!.p,
      ),
    );
    expect(stripped).toEqual([
      { ...events[0], email: null },
      ...events.slice(1, 6),
      { ...base, event_type: 'LeadCreated', name: null, phone: null },
    ]);
  });
});
