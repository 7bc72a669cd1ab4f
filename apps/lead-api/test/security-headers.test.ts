import { beforeAll, describe, expect, it } from 'vitest';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';

let t: TestApp;
let token: string;
let leadId: string;
beforeAll(async () => {
  t = await startTestApp();
  token = await t.token();
  leadId = (await t.rest('POST', '/api/v1/leads', { body: sampleLead() })).body.id;
});

const CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

describe('security headers', () => {
  const withLeadData: Array<[string, string, () => string, unknown?]> = [
    ['create', 'POST', () => '/api/v1/leads', sampleLead()],
    ['list', 'GET', () => '/api/v1/leads'],
    ['get', 'GET', () => `/api/v1/leads/${leadId}`],
    ['a refused get', 'GET', () => '/api/v1/leads/not-a-uuid'],
    ['add activity', 'POST', () => `/api/v1/leads/${leadId}/activities`, { activity_type: 'note_added', description: 'x' }],
    ['the audit trail', 'GET', () => '/api/v1/audit'],
    ['tRPC', 'GET', () => `/trpc/leads.get?input=${encodeURIComponent(JSON.stringify({ json: { lead_id: leadId } }))}`],
    ['a tRPC error', 'GET', () => '/trpc/leads.nope'],
    ['health', 'GET', () => '/health'],
    ['an unknown path', 'GET', () => '/nope'],
  ];

  it.each(withLeadData)('%s: no-store, nosniff, a restrictive CSP and no X-Powered-By', async (_what, method, path, body) => {
    const res = await t.rest(method, path(), { token, ...(body ? { body } : {}) });
    expect(res.status).toBeLessThan(500);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBe(CSP);
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('errors raised before any route (bad JSON) carry them too', async () => {
    const res = await t.rest('POST', '/api/v1/leads', { body: '{"name": ' });
    expect(res.status).toBe(400);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-security-policy')).toBe(CSP);
  });

  it('the OpenAPI document, free of personal data, may be cached, and still gets the CSP', async () => {
    const res = await t.rest('GET', '/api/v1/openapi.json');
    expect(res.headers.get('cache-control')).toBeNull();
    expect(res.headers.get('content-security-policy')).toBe(CSP);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('the docs page is exempt from the CSP, and only it', async () => {
    for (const path of ['/docs', '/docs/', '/docs?x=1']) {
      expect((await t.rest('GET', path)).headers.get('content-security-policy')).toBeNull();
    }
    expect((await t.rest('GET', '/docsx')).headers.get('content-security-policy')).toBe(CSP);
  });
});
