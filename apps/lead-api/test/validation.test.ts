import { request } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';

let t: TestApp;
let admin: string;
beforeAll(async () => {
  t = await startTestApp();
  admin = await t.token();
});

const leadCount = async () => Number((await t.sql<{ n: string }>('select count(*) as n from lead.leads'))[0]!.n);

/** A refused create: the status, the error code, the field at fault, and nothing stored. */
async function expectRefusedCreate(
  body: unknown,
  field: string | null,
  opts: { status?: number; code?: string; headers?: Record<string, string> } = {},
) {
  const before = await leadCount();
  const res = await t.rest('POST', '/api/v1/leads', { body, headers: opts.headers });
  expect(res.status).toBe(opts.status ?? 400);
  expect(res.body).toMatchObject({ code: opts.code ?? 'BAD_REQUEST', message: expect.any(String), request_id: expect.any(String) });
  expect(res.body.request_id).toBe(res.headers.get('x-request-id'));
  if (field) expect(res.body.issues.map((i: { path: string[] }) => i.path.join('.'))).toContain(field);
  expect(JSON.stringify(res.body)).not.toMatch(/\bat \S+:\d+|stack|select |insert /i);
  expect(await leadCount()).toBe(before);
  return res.body;
}

/** A body sent as chunks (`Transfer-Encoding: chunked`, no Content-Length), as a streaming client sends it. */
function postChunked(path: string, chunks: string[]): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('bad input to create: 400 with a machine-readable code and the field at fault', () => {
  it.each([
    ['a bad email', { email: 'not-an-email' }, 'email'],
    ['a missing email', { email: undefined }, 'email'],
    ['an empty name', { name: '' }, 'name'],
    ['a blank name', { name: '   ' }, 'name'],
    ['an over-long name', { name: 'x'.repeat(201) }, 'name'],
    ['an over-long message', { message: 'x'.repeat(5001) }, 'message'],
    ['an over-long company', { company: 'x'.repeat(201) }, 'company'],
    ['a phone with letters', { phone: 'call me maybe' }, 'phone'],
    ['an unknown source', { source: 'tv' }, 'source'],
    ['a number for a name', { name: 42 }, 'name'],
    ['an object for an email', { email: { a: 1 } }, 'email'],
    ['a NUL byte in the name', { name: 'John\u0000Doe' }, 'name'],
    ['a NUL byte in the message', { message: 'hi\u0000' }, 'message'],
  ])('%s', async (_what, override, field) => {
    await expectRefusedCreate(sampleLead(override), field);
  });

  it('names every field at fault at once', async () => {
    const body = await expectRefusedCreate({ name: '', email: 'x' }, 'name');
    expect(body.issues.map((i: { path: string[] }) => i.path[0]).sort()).toEqual(['email', 'name']);
    expect(body.issues[0]).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  });

  it('a JSON array, string or null body', async () => {
    await expectRefusedCreate([sampleLead()], null);
    await expectRefusedCreate('"hello"', null);
    await expectRefusedCreate('null', null);
  });

  it('malformed JSON', async () => {
    await expectRefusedCreate('{"name": "John", ', null, { code: 'PARSE_ERROR' });
  });

  it('an empty body', async () => {
    await expectRefusedCreate('', null, { code: 'PARSE_ERROR' });
  });

  it('a prototype-poisoning body', async () => {
    await expectRefusedCreate('{"__proto__": {"admin": true}, "name": "x", "email": "x@example.com"}', null, { code: 'PARSE_ERROR' });
  });

  it('a body over 64 KB gets 413', async () => {
    await expectRefusedCreate(sampleLead({ message: 'x'.repeat(70 * 1024) }), null, { status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('a body over 64 KB sent in chunks, without a Content-Length, gets 413 too; one under it is taken', async () => {
    const before = await leadCount();
    const body = JSON.stringify(sampleLead({ message: 'x'.repeat(70 * 1024) }));
    const refused = await postChunked('/api/v1/leads', body.match(/[^]{1,8192}/g)!);
    expect(refused).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(await leadCount()).toBe(before);
    const taken = await postChunked('/api/v1/leads', JSON.stringify(sampleLead()).match(/[^]{1,64}/g)!);
    expect(taken.status).toBe(201);
  });

  it('a body that is not JSON gets 415', async () => {
    await expectRefusedCreate('name=John', null, {
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      headers: { 'content-type': 'text/plain' },
    });
  });

  it('an unknown path gets 404 in the same error shape', async () => {
    const res = await t.rest('GET', '/api/v1/nope');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ code: 'NOT_FOUND', message: expect.any(String), request_id: expect.any(String) });
  });
});

describe('bad input to admin procedures', () => {
  it.each([
    ['status', 'PATCH', (id: string) => `/api/v1/leads/${id}/status`, { status: 'contacted', notes: 'x'.repeat(5001) }, 'notes'],
    ['status', 'PATCH', (id: string) => `/api/v1/leads/${id}/status`, { status: 'contacted', notes: 'a\u0000' }, 'notes'],
    ['status', 'PATCH', (id: string) => `/api/v1/leads/${id}/status`, {}, 'status'],
    ['activity', 'POST', (id: string) => `/api/v1/leads/${id}/activities`, { activity_type: 'note_added', description: '' }, 'description'],
    ['activity', 'POST', (id: string) => `/api/v1/leads/${id}/activities`, { activity_type: 'note_added' }, 'description'],
    ['assign', 'POST', (id: string) => `/api/v1/leads/${id}/assign`, {}, 'assigned_to'],
  ])('%s: %j is refused at %s', async (_what, method, path, body, field) => {
    const created = await t.rest('POST', '/api/v1/leads', { body: sampleLead() });
    const res = await t.rest(method, path(created.body.id), { token: admin, body });
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { path: string[] }) => i.path.join('.'))).toContain(field);
    const activities = await t.sql('select 1 from lead.lead_activities where lead_id = ?', [created.body.id]);
    expect(activities).toHaveLength(1);
  });

  it.each([
    ['status=won', 'status'],
    ['source=tv', 'source'],
    ['assigned_to=bob', 'assigned_to'],
    ['page=abc', 'page'],
    ['limit=-1', 'limit'],
    ['limit=1.5', 'limit'],
  ])('list with %s is refused at %s', async (query, field) => {
    const res = await t.rest('GET', `/api/v1/leads?${query}`, { token: admin });
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { path: string[] }) => i.path.join('.'))).toContain(field);
  });
});
