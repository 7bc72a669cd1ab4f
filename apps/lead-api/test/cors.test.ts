import { beforeAll, describe, expect, it } from 'vitest';
import { parseEnv } from '../src/env.js';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';

const WEBSITE = 'https://www.example.com';
const CMS = 'https://cms.example.com';
const STRANGER = 'https://evil.example.net';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { CORS_ORIGINS: [WEBSITE], CORS_ADMIN_ORIGINS: [CMS] } });
});

const preflight = (path: string, origin: string, method = 'POST') =>
  fetch(`${t.url}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type,idempotency-key' },
  });

const corsHeaders = (headers: Headers) => Object.fromEntries([...headers].filter(([name]) => name.startsWith('access-control-')));

describe('CORS for the public create endpoint', () => {
  it('answers the preflight of a website origin, for REST and tRPC', async () => {
    for (const path of ['/api/v1/leads', '/trpc/leads.create']) {
      const res = await preflight(path, WEBSITE);
      expect(res.status).toBe(204);
      expect(corsHeaders(res.headers)).toEqual({
        'access-control-allow-origin': WEBSITE,
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'content-type,idempotency-key',
        'access-control-expose-headers':
          'Retry-After, RateLimit, RateLimit-Policy, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, X-Request-Id, Idempotent-Replayed',
        'access-control-max-age': '600',
      });
    }
  });

  it('lets the website read the answer to a create, errors included', async () => {
    const created = await t.rest('POST', '/api/v1/leads', { body: sampleLead(), headers: { origin: WEBSITE } });
    expect(created.status).toBe(201);
    expect(created.headers.get('access-control-allow-origin')).toBe(WEBSITE);
    expect(created.headers.get('access-control-expose-headers')).toContain('X-Request-Id');

    const refused = await t.rest('POST', '/api/v1/leads', { body: { name: 'x' }, headers: { origin: WEBSITE } });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('access-control-allow-origin')).toBe(WEBSITE);
  });

  it('gives another origin no CORS headers at all', async () => {
    const pre = await preflight('/api/v1/leads', STRANGER);
    expect(pre.status).not.toBe(204);
    expect(corsHeaders(pre.headers)).toEqual({});
    const res = await t.rest('POST', '/api/v1/leads', { body: sampleLead(), headers: { origin: STRANGER } });
    expect(corsHeaders(res.headers)).toEqual({});
  });
});

describe('CORS for the admin endpoints', () => {
  it('answers only the CMS origins', async () => {
    const token = await t.token();
    const cms = await t.rest('GET', '/api/v1/leads', { token, headers: { origin: CMS } });
    expect(cms.status).toBe(200);
    expect(cms.headers.get('access-control-allow-origin')).toBe(CMS);
    const cmsPreflight = await preflight('/api/v1/leads/00000000-0000-4000-8000-000000000000/status', CMS, 'PATCH');
    expect(cmsPreflight.status).toBe(204);
    // The preflight names the methods of the operation asked for: its contract's.
    expect(cmsPreflight.headers.get('access-control-allow-methods')).toBe('PATCH');

    // The website may create leads, not list them: same path, other method.
    const website = await t.rest('GET', '/api/v1/leads', { token, headers: { origin: WEBSITE } });
    expect(corsHeaders(website.headers)).toEqual({});
    expect(corsHeaders((await preflight('/api/v1/leads', WEBSITE, 'GET')).headers)).toEqual({});
    expect(corsHeaders((await preflight('/trpc/leads.list', WEBSITE, 'GET')).headers)).toEqual({});
    // A tRPC batch that smuggles an admin call along with a create is treated as admin.
    expect(corsHeaders((await preflight('/trpc/leads.create,leads.assign?batch=1', WEBSITE)).headers)).toEqual({});
    expect((await preflight('/trpc/leads.create,leads.assign?batch=1', CMS)).headers.get('access-control-allow-origin')).toBe(CMS);
  });

  it('lets the CMS create leads too', async () => {
    const res = await preflight('/trpc/leads.create', CMS);
    expect(res.headers.get('access-control-allow-origin')).toBe(CMS);
  });
});

describe('CORS configuration', () => {
  it('reads comma-separated origins and refuses anything that is not an origin', () => {
    expect(parseEnv({ CORS_ORIGINS: ' https://a.example.com, http://localhost:8080 ' }).CORS_ORIGINS).toEqual([
      'https://a.example.com',
      'http://localhost:8080',
    ]);
    expect(parseEnv({}).CORS_ADMIN_ORIGINS).toEqual([]);
    expect(() => parseEnv({ CORS_ADMIN_ORIGINS: 'https://cms.example.com/' })).toThrow(
      /CORS_ADMIN_ORIGINS\.0: https:\/\/cms\.example\.com\/ is not an origin/,
    );
    expect(() => parseEnv({ CORS_ORIGINS: 'example.com' })).toThrow(/CORS_ORIGINS\.0/);
  });
});
