import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});

describe('logs', () => {
  it('are JSON lines with a request id, and never contain personal data', async () => {
    const secret = {
      name: 'Zebulon Quixote-Marchetti',
      email: 'zq.marchetti@personal-mail.example',
      phone: '+44 20 7946 0958',
      company: 'Quixote Holdings',
      message: 'Please call me about the secret project Bluebird',
    };
    const created = await t.rest('POST', '/api/v1/leads', { body: secret });
    expect(created.status).toBe(201);
    const token = await t.token();
    await t.rest('GET', `/api/v1/leads/${created.body.id}`, { token });
    await t.rest('PATCH', `/api/v1/leads/${created.body.id}/status`, { token, body: { status: 'contacted', notes: 'Spoke to Zebulon at home' } });
    // Refused input is not logged either.
    await t.rest('POST', '/api/v1/leads', { body: { ...secret, email: 'zq.marchetti@' } });
    await t.rest('POST', '/api/v1/leads', { body: `{"name": "${secret.name}", ` });

    const logs = t.logs();
    const lines = logs.trim().split('\n').map((l) => JSON.parse(l) as { reqId?: string });
    expect(lines.filter((l) => l.reqId).length).toBeGreaterThan(5);
    for (const value of [...Object.values(secret), 'Zebulon', 'zq.marchetti', 'Bluebird']) {
      expect(logs).not.toContain(value);
    }
  });

  it('write one INFO line per request, when it completes; the incoming request only at DEBUG', async () => {
    const res = await t.rest('GET', '/health', { headers: { 'x-request-id': 'log-lines-per-request' } });
    expect(res.status).toBe(200);
    const lines = t
      .logs()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { reqId?: string; level: number; msg: string; req?: { method?: string; url?: string }; res?: { statusCode?: number }; responseTime?: number })
      .filter((l) => l.reqId === 'log-lines-per-request');
    const info = lines.filter((l) => l.level >= 30);
    expect(info).toEqual([
      expect.objectContaining({ msg: 'request completed', req: expect.objectContaining({ method: 'GET', url: '/health' }), res: { statusCode: 200 }, responseTime: expect.any(Number) }),
    ]);
    expect(lines.filter((l) => l.level === 20).map((l) => l.msg)).toEqual(['incoming request']);
  });
});
