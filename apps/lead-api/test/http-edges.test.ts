import net from 'node:net';
import superjson from 'superjson';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';
import { parseResponse, rawRequest } from './support/raw-http.js';

/** Bad input and odd requests get a clear 4xx in the service's error shape, never a 5xx. */

const CMS = 'https://cms.example.com';
let t: TestApp;
let port: number;
beforeAll(async () => {
  t = await startTestApp({
    env: { CORS_ADMIN_ORIGINS: [CMS], REQUEST_TIMEOUT_MS: 1500, TRUST_PROXY: ['loopback'], RATE_LIMIT_CREATE_PER_HOUR: 3 },
  });
  port = Number(new URL(t.url).port);
});

const expectErrorShape = (res: { status: number; headers: Record<string, string>; body: string }, status: number, code: string) => {
  expect(res.status).toBe(status);
  const body = JSON.parse(res.body) as { code: string; request_id: string };
  expect(body).toMatchObject({ code, request_id: res.headers['x-request-id'] });
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['content-security-policy']).toContain("default-src 'none'");
};

describe('bad input is a 400, never a 500', () => {
  const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

  it('a body nested 10,000 deep, on REST and over tRPC', async () => {
    const rest = await rawRequest(port, 'POST', '/api/v1/leads', {
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.1' },
      body: `{"name":${deep(10_000)}}`,
    });
    expectErrorShape(rest, 400, 'PARSE_ERROR');
    expect(JSON.parse(rest.body).message).toMatch(/nested deeper than/);
    const token = await t.token();
    const trpc = await rawRequest(port, 'POST', '/trpc/leads.assign', {
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: `{"json":${deep(10_000)}}`,
    });
    // tRPC reads its own bodies: refused by input validation at the first level.
    expect(trpc.status).toBe(400);
    expect(JSON.parse(trpc.body).error.json.data).toMatchObject({ code: 'BAD_REQUEST', request_id: trpc.headers['x-request-id'] });
  });

  it('an audit period starting in year 0000', async () => {
    const res = await t.rest('GET', '/api/v1/audit?from=0000-01-01T00:00:00Z', { token: await t.token() });
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([expect.objectContaining({ path: ['from'], code: 'custom' })]);
  });
});

describe('logs', () => {
  it('never hold a query string: a GET of a mutation with its input in the URL is refused with 405, and its values are not logged', async () => {
    const input = encodeURIComponent(
      JSON.stringify(superjson.serialize(sampleLead({ name: 'Querida Quintana', email: 'querida@example.com' }))),
    );
    const res = await rawRequest(port, 'GET', `/trpc/leads.create?input=${input}`, { headers: { 'x-request-id': 'query-in-url' } });
    expect(res.status).toBe(405);
    const lines = t
      .logs()
      .split('\n')
      .filter((l) => l.includes('query-in-url'));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).toContain('/trpc/leads.create?[redacted]');
    for (const value of ['Querida', 'querida', 'Quintana', '919876543210', 'input=']) expect(t.logs()).not.toContain(value);
  });
});

describe("answers Node's HTTP parser gives itself", () => {
  it('431 for oversized headers, in the error shape', async () => {
    const res = await rawRequest(port, 'GET', '/health', { headers: { 'x-padding': 'x'.repeat(20_000) } });
    expectErrorShape(res, 431, 'REQUEST_HEADER_FIELDS_TOO_LARGE');
  });

  it('400 for a malformed request line, in the error shape', async () => {
    const res = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write('GARBAGE\r\n\r\n'));
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('close', () => resolve(text));
    });
    expectErrorShape(parseResponse(res), 400, 'BAD_REQUEST');
  });

  it('408 for a body that trickles in past REQUEST_TIMEOUT_MS', async () => {
    const started = Date.now();
    const text = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(`POST /api/v1/leads HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{`);
      });
      const drip = setInterval(() => socket.writable && socket.write(' '), 500);
      let received = '';
      socket.on('data', (c: Buffer) => (received += c.toString()));
      socket.on('error', () => {});
      socket.on('close', () => {
        clearInterval(drip);
        resolve(received);
      });
    });
    const elapsed = Date.now() - started;
    expectErrorShape(parseResponse(text), 408, 'TIMEOUT');
    // The timeout (1.5 s) is checked every second.
    expect(elapsed).toBeLessThan(4_000);
  });
});

describe('while the server closes', () => {
  it('a request still arriving on an open connection gets 503 in the error shape, with Connection: close', async () => {
    const closing = await startTestApp();
    const closingPort = Number(new URL(closing.url).port);
    const token = await closing.token();
    // The first request waits on a lock, so the server cannot finish closing and its connection
    // stays open; the second is written on that connection once closing has begun.
    const locker = await closing.orm.em.getConnection().getKnex().client.acquireConnection();
    await locker.query('begin; lock table lead.leads in access exclusive mode');
    const get = (path: string) => `GET ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\n\r\n`;
    let socket!: net.Socket;
    const text = new Promise<string>((resolve) => {
      socket = net.connect(closingPort, '127.0.0.1', () => socket.write(get('/api/v1/leads')));
      let received = '';
      socket.on('data', (c: Buffer) => (received += c.toString()));
      socket.on('close', () => resolve(received));
    });
    await new Promise((r) => setTimeout(r, 300));
    const closed = closing.app.close();
    await new Promise((r) => setTimeout(r, 100));
    socket.write(get('/api/v1/leads'));
    await new Promise((r) => setTimeout(r, 200));
    await locker.query('commit');
    await closing.orm.em.getConnection().getKnex().client.releaseConnection(locker);
    const answers = await text;
    await closed;
    const second = parseResponse(answers.slice(answers.indexOf('HTTP/1.1', 10)));
    expectErrorShape(second, 503, 'SERVICE_UNAVAILABLE');
    expect(second.headers.connection).toBe('close');
  });
});

describe('tRPC answers', () => {
  it('keep Vary: Origin when they carry CORS headers', async () => {
    const res = await fetch(`${t.url}/trpc/health`, { headers: { origin: CMS } });
    expect(res.headers.get('access-control-allow-origin')).toBe(CMS);
    expect(
      res.headers
        .get('vary')
        ?.split(',')
        .map((v) => v.trim().toLowerCase()),
    ).toContain('origin');
  });

  it('refuse a batch larger than TRPC_MAX_BATCH_SIZE (10) before spending any create budget', async () => {
    const calls = Array.from({ length: 11 }, () => 'leads.create').join(',');
    const body = JSON.stringify(Object.fromEntries(Array.from({ length: 11 }, (_, i) => [i, superjson.serialize(sampleLead())])));
    const res = await rawRequest(port, 'POST', `/trpc/${calls}?batch=1`, {
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.9' },
      body,
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.json.message).toBe('A batch holds at most 10 calls');
    const next = await fetch(`${t.url}/api/v1/leads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.9' },
      body: JSON.stringify(sampleLead()),
    });
    expect(next.headers.get('ratelimit-remaining')).toBe('2');
  });
});

describe('a forwarded client address', () => {
  it('keys one budget however it is spelt, and is audited canonical', async () => {
    const create = (forwardedFor: string) =>
      fetch(`${t.url}/api/v1/leads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
        body: JSON.stringify(sampleLead()),
      });
    const statuses = [];
    for (const spelling of ['192.0.2.077', '192.0.2.77:1234', '[::ffff:192.0.2.77]:80', '192.0.2.77'])
      statuses.push((await create(spelling)).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    const v6 = [];
    for (const spelling of ['[2001:db8::4]', '2001:0db8:0000::4', '[2001:db8:0:0::4]:443', '2001:db8::5'])
      v6.push((await create(spelling)).status);
    expect(v6).toEqual([201, 201, 201, 429]);
    const ips = await t.sql<{ client_ip: string }>(
      `select distinct client_ip from lead.audit_log where action = 'leads.create' and client_ip like '%2%'`,
    );
    expect(ips.map((r) => r.client_ip).sort()).toEqual(['192.0.2.77', '2001:db8::4']);
  });
});

describe('an operation whose input is all in its path', () => {
  it('is called without a body, as its OpenAPI document says (events.retry)', async () => {
    const res = await rawRequest(port, 'POST', '/api/v1/events/00000000-0000-4000-8000-000000000000/retry', {
      headers: { authorization: `Bearer ${await t.token()}` },
    });
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'NOT_FOUND' });
  });
});
