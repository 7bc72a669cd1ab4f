import { Database, LeadRepository, listQueries } from '@lead/db';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';
import { callProcedure, SURFACES } from './support/surfaces.js';

let t: TestApp;
let admin: string;
beforeAll(async () => {
  t = await startTestApp();
  admin = await t.token();
});

let n = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${n++}`;

const detail = async (id: string) => (await t.rest('GET', `/api/v1/leads/${id}`, { token: admin })).body;

describe('attribution on create', () => {
  it.each(SURFACES)('is stored with its URLs cleaned of personal data and shown in the detail, over %s', async (surface) => {
    const campaign = unique('spring');
    const res = await callProcedure(t, surface, 'leads.create', {
      ...sampleLead(),
      source: undefined,
      attribution: {
        utm_source: 'newsletter',
        utm_medium: 'email',
        utm_campaign: campaign,
        utm_term: 'crm software',
        utm_content: 'hero-button',
        referrer: 'https://mail.example.net/read?user=jane.doe%40example.com&token=s3cret#inbox',
        landing_page: `https://www.example.com/pricing?utm_source=newsletter&email=jane%40example.com&utm_campaign=${campaign}&gclid=abc123&fbclid=f1&msclkid=m1#plans`,
        page: 'https://user:pass@www.example.com/contact?name=Jane+Doe&phone=%2B4412345#form',
        first_touch: {
          referrer: 'https://www.google.com/search?q=jane+doe+crm',
          landing_page: 'https://www.example.com/?ref=jane@example.com',
          utm_source: 'google',
          at: '2024-01-10T08:00:00Z',
        },
      },
    });
    // The public answer is exactly what it was.
    expect(Object.keys(res.data).sort()).toEqual(['created_at', 'email', 'id', 'name', 'status']);
    const lead = await detail(res.data.id);
    expect(lead.source).toBe('other'); // utm_medium=email
    expect(lead.attribution).toEqual({
      utm_source: 'newsletter',
      utm_medium: 'email',
      utm_campaign: campaign,
      utm_term: 'crm software',
      utm_content: 'hero-button',
      referrer: 'https://mail.example.net/read',
      landing_page: `https://www.example.com/pricing?utm_source=newsletter&utm_campaign=${campaign}&gclid=abc123&fbclid=f1&msclkid=m1`,
      page: 'https://www.example.com/contact',
      first_touch: {
        utm_source: 'google',
        utm_medium: null,
        utm_campaign: null,
        utm_term: null,
        utm_content: null,
        referrer: 'https://www.google.com/search',
        landing_page: 'https://www.example.com/',
        page: null,
        at: '2024-01-10T08:00:00Z',
      },
    });
    // Nothing of the query strings reached any table.
    const stored = JSON.stringify(await t.sql('select * from lead.lead_attributions where lead_id = ?', [res.data.id]));
    for (const secret of ['jane', 'token', 's3cret', 'phone', 'pass', '#']) expect(stored).not.toContain(secret);
  });

  it('is null in the detail of a lead submitted without it', async () => {
    const { body } = await t.rest('POST', '/api/v1/leads', { body: sampleLead() });
    expect((await detail(body.id)).attribution).toBeNull();
  });

  it.each([
    ['utm_medium social', { utm_medium: 'Social' }, 'social'],
    ['utm_medium paid-social', { utm_medium: 'paid-social' }, 'social'],
    ['utm_medium affiliate', { utm_medium: 'affiliate' }, 'referral'],
    ['utm_medium cpc', { utm_medium: 'cpc' }, 'other'],
    ['utm_medium organic', { utm_medium: 'organic', referrer: 'https://www.facebook.com/' }, 'website'],
    ['a social network referrer', { referrer: 'https://l.facebook.com/l.php?u=x' }, 'social'],
    ['t.co', { referrer: 'https://t.co/abc' }, 'social'],
    ['a LinkedIn referrer', { referrer: 'https://www.linkedin.com/feed/' }, 'social'],
    ['a search engine', { referrer: 'https://www.google.co.uk/' }, 'website'],
    ['another site', { referrer: 'https://blog.partner.org/post', landing_page: 'https://www.example.com/' }, 'referral'],
    ['the site itself', { referrer: 'https://example.com/a', landing_page: 'https://www.example.com/b' }, 'website'],
    ['no referrer', { landing_page: 'https://www.example.com/' }, 'website'],
  ])('derives the source from %s', async (_, attribution, source) => {
    const { body } = await t.rest('POST', '/api/v1/leads', { body: { ...sampleLead(), source: undefined, attribution } });
    expect((await detail(body.id)).source).toBe(source);
  });

  it('never overrides an explicit source', async () => {
    const { body } = await t.rest('POST', '/api/v1/leads', {
      body: { ...sampleLead(), source: 'referral', attribution: { utm_medium: 'social' } },
    });
    expect((await detail(body.id)).source).toBe('referral');
  });

  it.each(SURFACES)('refuses unknown keys, non-http URLs and overlong values field by field, over %s', async (surface) => {
    const cases: Array<[Record<string, unknown>, Array<string | number>]> = [
      [{ gclid: 'x' }, ['attribution']],
      [{ first_touch: { email: 'a@b.co' } }, ['attribution', 'first_touch']],
      [{ referrer: 'javascript:alert(1)' }, ['attribution', 'referrer']],
      [{ landing_page: 'not a url' }, ['attribution', 'landing_page']],
      [{ page: `https://www.example.com/${'a'.repeat(2048)}` }, ['attribution', 'page']],
      [{ utm_campaign: 'c'.repeat(201) }, ['attribution', 'utm_campaign']],
      [{ first_touch: { at: 'yesterday' } }, ['attribution', 'first_touch', 'at']],
    ];
    for (const [attribution, path] of cases) {
      if (surface === 'rest') {
        const res = await t.rest('POST', '/api/v1/leads', { body: { ...sampleLead(), attribution } });
        expect(res.status, JSON.stringify(attribution)).toBe(400);
        expect(res.body.issues.map((i: { path: unknown[] }) => i.path)).toContainEqual(path);
      } else {
        const res = await callProcedure(t, surface, 'leads.create', { ...sampleLead(), attribution });
        expect(res, JSON.stringify(attribution)).toEqual({ status: 400, code: 'BAD_REQUEST' });
      }
    }
  });

  it('puts the utm fields in LeadCreated', async () => {
    const { body } = await t.rest('POST', '/api/v1/leads', {
      body: { ...sampleLead(), attribution: { utm_source: 'ads', utm_medium: 'cpc', utm_campaign: 'q1', utm_term: 'leads' } },
    });
    const [event] = await t.sql<{ payload: Record<string, unknown> }>(
      `select payload from lead.outbox_events where lead_id = ? and event_type = 'LeadCreated'`,
      [body.id],
    );
    expect(event!.payload).toMatchObject({
      utm_source: 'ads',
      utm_medium: 'cpc',
      utm_campaign: 'q1',
      utm_term: 'leads',
      utm_content: null,
    });
  });

  it('is part of what makes two submissions with one Idempotency-Key the same', async () => {
    const key = unique('attr-key');
    const body = { ...sampleLead({ email: `${key}@example.com` }), attribution: { utm_campaign: 'a', first_touch: { utm_source: 'x' } } };
    const headers = { 'idempotency-key': key };
    expect((await t.rest('POST', '/api/v1/leads', { body, headers })).status).toBe(201);
    const replay = await t.rest('POST', '/api/v1/leads', { body, headers });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    // Only a nested field differs.
    const other = { ...body, attribution: { utm_campaign: 'a', first_touch: { utm_source: 'y' } } };
    expect((await t.rest('POST', '/api/v1/leads', { body: other, headers })).status).toBe(422);
  });
});

describe('list filters by attribution', () => {
  const campaign = unique('autumn');
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    const make = async (name: string, attribution: Record<string, string>, source = 'website') => {
      const { body } = await t.rest('POST', '/api/v1/leads', { body: { ...sampleLead(), source, attribution } });
      ids[name] = body.id;
    };
    await make('a', { utm_source: 'google', utm_medium: 'cpc', utm_campaign: campaign });
    await make('b', { utm_source: 'bing', utm_medium: 'cpc', utm_campaign: campaign });
    await make('c', { utm_source: 'google', utm_medium: 'email', utm_campaign: campaign }, 'social');
    await make('d', { utm_source: 'google', utm_medium: 'cpc', utm_campaign: `${campaign}-other` });
  });

  it.each(SURFACES)('match exactly, combine with AND and with the other filters, and count exactly, over %s', async (surface) => {
    const list = async (filter: Record<string, string>) => {
      const res = await callProcedure(t, surface, 'leads.list', filter, `Bearer ${admin}`);
      expect(res.status).toBe(200);
      expect(res.data.total).toBe(res.data.items.length);
      return res.data.items.map((item: { id: string }) => item.id).sort();
    };
    expect(await list({ utm_campaign: campaign })).toEqual([ids.a, ids.b, ids.c].sort());
    expect(await list({ utm_campaign: campaign, utm_source: 'google' })).toEqual([ids.a, ids.c].sort());
    expect(await list({ utm_campaign: campaign, utm_source: 'google', utm_medium: 'cpc' })).toEqual([ids.a]);
    expect(await list({ utm_campaign: campaign, source: 'social' })).toEqual([ids.c]);
    expect(await list({ utm_campaign: campaign.toUpperCase() })).toEqual([]);
    expect(await list({ utm_campaign: campaign.slice(0, -1) })).toEqual([]);
  });

  it('refuses an overlong filter with a field-level 400', async () => {
    for (const query of [`utm_campaign=${'c'.repeat(201)}`, `utm_source=${'s'.repeat(201)}`]) {
      const res = await t.rest('GET', `/api/v1/leads?${query}`, { token: admin });
      expect(res.status).toBe(400);
      expect(res.body.issues[0].path).toEqual([query.split('=')[0]]);
    }
  });

  it('reads each utm filter from its own index', async () => {
    const db = Database.of(t.orm);
    for (const [column, filter] of [
      ['utm_source', { utmSource: 'google' }],
      ['utm_medium', { utmMedium: 'cpc' }],
      ['utm_campaign', { utmCampaign: campaign }],
    ] as const) {
      const { items, total } = listQueries(filter, { sort: 'created_at', order: 'desc', page: 1, limit: 20 }, {});
      for (const query of [items, total!]) {
        // A table this small is cheapest to scan whole: the test asks which index serves the filter.
        const plan = await db.transaction(async (tx) => {
          await tx.query('set local enable_seqscan = off');
          return tx.query<{ 'QUERY PLAN': unknown }>(`explain (format json) ${query.text}`, query.values);
        });
        expect(JSON.stringify(plan[0]!['QUERY PLAN'])).toContain(`leads_${column}_created_at_id_idx`);
      }
    }
  });

  it('sums the maintained counts only for status, source and assignee; a utm filter, with or without a search, is counted exactly', async () => {
    const request = { sort: 'created_at', order: 'desc', page: 1, limit: 20 } as const;
    expect(listQueries({ status: 'new', source: 'website' }, request, {}).total!.text).toContain('lead.lead_counts');
    for (const filter of [{ utmSource: 'google' }, { utmCampaign: campaign, q: 'person' }, { status: 'new', utmMedium: 'cpc' }] as const) {
      // A search counts its matches in the statement of its page.
      const { items, total } = listQueries(filter, request, {});
      expect((total ?? items).text).toContain('count(*)');
      expect((total ?? items).text).not.toContain('lead_counts');
    }
    const db = Database.of(t.orm);
    const [row] = await t.sql<{ n: number }>('select count(*)::int as n from lead.leads where utm_campaign = ? and status = ?', [
      campaign,
      'new',
    ]);
    const page = await new LeadRepository(db).listPage({ utmCampaign: campaign, status: 'new' }, request, {});
    expect(page.total).toBe(row!.n);
    expect(page.total).toBe(3);
  });
});
