import { SignJWT, UnsecuredJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ID, sampleLead, startTestApp, TEST_SECRET, type TestApp } from './support/app.js';

let t: TestApp;
let leadId: string;
beforeAll(async () => {
  t = await startTestApp();
  leadId = (await t.rest('POST', '/api/v1/leads', { body: sampleLead() })).body.id;
});

const key = new TextEncoder().encode(TEST_SECRET);
const sign = (claims: Record<string, unknown>, opts: { exp?: number | string; secret?: Uint8Array; sub?: string | null } = {}) => {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  if (opts.sub !== null) jwt = jwt.setSubject(opts.sub ?? ADMIN_ID);
  if (opts.exp !== undefined) jwt = jwt.setExpirationTime(opts.exp);
  else jwt = jwt.setExpirationTime('1h');
  return jwt.sign(opts.secret ?? key);
};

const badCredentials: Array<[string, () => Promise<string | undefined>]> = [
  ['no Authorization header', () => Promise.resolve(undefined)],
  ['a malformed token', () => Promise.resolve('Bearer not.a.jwt!')],
  ['the wrong scheme', async () => `Basic ${await sign({ role: 'admin' })}`],
  ['a token without a scheme', async () => sign({ role: 'admin' })],
  [
    'a forged signature',
    async () =>
      `Bearer ${await sign({ role: 'admin' }, { secret: new TextEncoder().encode('another-secret-of-at-least-32-characters!!') })}`,
  ],
  [
    'an unsigned token (alg: none)',
    () => Promise.resolve(`Bearer ${new UnsecuredJWT({ role: 'admin' }).setSubject(ADMIN_ID).setExpirationTime('1h').encode()}x`),
  ],
  ['an expired token', async () => `Bearer ${await sign({ role: 'admin' }, { exp: Math.floor(Date.now() / 1000) - 60 })}`],
  ['a token without sub', async () => `Bearer ${await sign({ role: 'admin' }, { sub: null })}`],
  ['a token whose sub is not a UUID', async () => `Bearer ${await sign({ role: 'admin' }, { sub: 'alice' })}`],
  ['a role that is not a string', async () => `Bearer ${await sign({ role: ['admin'] })}`],
];

const adminCalls: Array<[string, string, (id: string) => string, unknown]> = [
  ['list', 'GET', () => '/api/v1/leads', undefined],
  ['get', 'GET', (id) => `/api/v1/leads/${id}`, undefined],
  ['updateStatus', 'PATCH', (id) => `/api/v1/leads/${id}/status`, { status: 'contacted' }],
  ['assign', 'POST', (id) => `/api/v1/leads/${id}/assign`, { assigned_to: ADMIN_ID }],
  ['addActivity', 'POST', (id) => `/api/v1/leads/${id}/activities`, { activity_type: 'note_added', description: 'x' }],
];

describe('admin endpoints need a valid admin bearer token', () => {
  describe.each(adminCalls)('%s', (_name, method, path, body) => {
    it.each(badCredentials)('401 and no change with %s', async (_what, credential) => {
      const authorization = await credential();
      const res = await t.rest(method, path(leadId), { body, headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'UNAUTHORIZED', request_id: expect.any(String) });
      const [lead] = await t.sql('select status, assigned_to from lead.leads where id = ?', [leadId]);
      expect(lead).toEqual({ status: 'new', assigned_to: null });
      expect(await t.sql('select 1 from lead.lead_activities where lead_id = ?', [leadId])).toHaveLength(1);
    });

    it.each([
      ['another role', { role: 'visitor' }],
      ['no role', {}],
    ])('403 for a valid token with %s', async (_what, claims) => {
      const res = await t.rest(method, path(leadId), { body, token: await sign(claims) });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('FORBIDDEN');
    });
  });

  it('the public create needs no token and ignores a bad one', async () => {
    const res = await t.rest('POST', '/api/v1/leads', { body: sampleLead(), headers: { authorization: 'Bearer garbage' } });
    expect(res.status).toBe(201);
  });

  it('a valid admin token works, and the token never appears in the logs', async () => {
    const token = await sign({ role: 'admin' });
    const res = await t.rest('GET', '/api/v1/leads', { token });
    expect(res.status).toBe(200);
    expect(t.logs()).not.toContain(token);
  });
});
