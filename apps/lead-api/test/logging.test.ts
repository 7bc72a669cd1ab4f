import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { allProcedures, callProcedure, SURFACES, type Surface } from './support/surfaces.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});

/** Values no log line could contain by accident: one set per surface. */
const personal = (surface: Surface) => ({
  name: `Zebulon Quixote-Marchetti ${surface}`,
  email: `zq.marchetti.${surface}@personal-mail.example`,
  phone: surface === 'rest' ? '+44 20 7946 0958' : '+44 20 7946 0777',
  company: `Quixote Holdings ${surface}`,
  message: `Please call me about the secret project Bluebird ${surface}`,
  notes: `Spoke to Zebulon at home ${surface}`,
  description: `Zebulon's home address is 12 Larkspur Lane ${surface}`,
});

describe('logs', () => {
  it('are JSON lines with a request id, and never contain personal data, on every procedure and both surfaces', async () => {
    const admin = `Bearer ${await t.token()}`;
    const sales = `Bearer ${await t.token('sales', '77777777-7777-4777-8777-777777777777')}`;
    const called = new Set<string>();
    const call = async (surface: Surface, path: string, input: Record<string, unknown> | undefined, auth?: string) => {
      called.add(path);
      return callProcedure(t, surface, path, input, auth);
    };

    for (const surface of SURFACES) {
      const p = personal(surface);
      const lead = {
        name: p.name,
        email: p.email,
        phone: p.phone,
        company: p.company,
        message: p.message,
        // Query strings of the visitor's pages can hold their address too.
        attribution: { utm_campaign: 'spring', landing_page: `https://www.example.com/?email=${encodeURIComponent(p.email)}` },
      };
      const created = await call(surface, 'leads.create', lead);
      expect(created.status).toBeLessThan(300);
      const id = created.data.id as string;
      await call(surface, 'leads.list', { limit: 100 }, admin);
      // A search term is personal data too, and travels in the query string.
      await call(surface, 'leads.list', { q: p.name, limit: 100 }, admin);
      await call(surface, 'leads.get', { lead_id: id }, admin);
      await call(surface, 'leads.update', { lead_id: id, company: `${p.company} Ltd`, message: `${p.message}!` }, admin);
      const second = await call(surface, 'leads.create', lead);
      await call(surface, 'leads.merge', { lead_id: second.data.id, into: id }, admin);
      await call(surface, 'leads.updateStatus', { lead_id: id, status: 'contacted', notes: p.notes }, admin);
      await call(surface, 'leads.assign', { lead_id: id, assigned_to: '77777777-7777-4777-8777-777777777777' }, admin);
      await call(surface, 'leads.addActivity', { lead_id: id, activity_type: 'note_added', description: p.description }, admin);
      await call(surface, 'audit.list', { lead_id: id }, admin);
      await call(surface, 'events.list', {}, admin);
      await call(surface, 'events.stats', undefined, admin);
      await call(surface, 'events.retry', { event_id: '00000000-0000-4000-8000-000000000000' }, admin);
      await call(surface, 'health', undefined);
      await call(surface, 'probes.live', undefined);
      await call(surface, 'probes.ready', undefined);
      await call(surface, 'reports.pipeline', { utm_campaign: 'spring', from: '2020-01-01T00:00:00Z' }, admin);
      await call(surface, 'reports.sources', { group_by: 'utm_campaign' }, sales);
      // The address travels in the export's query string.
      await call(surface, 'privacy.export', { email: p.email }, admin);
      await call(surface, 'privacy.erase', { email: p.email, dry_run: true }, admin);
      await call(surface, 'privacy.retention', undefined, admin);
      // Refused calls carrying personal data: invalid input, a conflict, a role refused, a scoped 404.
      const refused = [
        await call(surface, 'leads.create', { ...lead, email: `${p.email}@` }),
        await call(surface, 'leads.updateStatus', { lead_id: id, status: 'contacted', notes: p.notes }, admin),
        await call(surface, 'leads.addActivity', { lead_id: id, activity_type: 'created', description: p.description }, admin),
        await call(
          surface,
          'leads.updateStatus',
          { lead_id: id, status: 'qualified', notes: p.notes },
          `Bearer ${await t.token('visitor')}`,
        ),
        await call(
          surface,
          'leads.addActivity',
          { lead_id: '00000000-0000-4000-8000-000000000000', activity_type: 'note_added', description: p.description },
          sales,
        ),
      ];
      refused.push(await call(surface, 'privacy.erase', { email: `${p.email}@`, reason: p.notes }, admin));
      expect(refused.map((r) => r.status)).toEqual([400, 409, 400, 403, 404, 400]);
      expect((await call(surface, 'privacy.erase', { lead_id: id, reason: 'logging test' }, admin)).status).toBe(200);
    }
    // A body that is not even JSON still holds personal data.
    await t.rest('POST', '/api/v1/leads', { body: `{"name": "${personal('rest').name}", ` });

    expect([...called].sort()).toEqual(
      allProcedures()
        .map(([path]) => path)
        .sort(),
    );
    const logs = t.logs();
    const lines = logs
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { reqId?: string });
    expect(lines.filter((l) => l.reqId).length).toBeGreaterThan(40);
    for (const surface of SURFACES) {
      for (const value of [...Object.values(personal(surface)), 'Zebulon', 'zq.marchetti', 'Bluebird', 'Larkspur', '2079460958']) {
        expect(logs).not.toContain(value);
      }
    }
  });

  it('write one INFO line per request, when it completes; the incoming request only at DEBUG', async () => {
    const res = await t.rest('GET', '/health', { headers: { 'x-request-id': 'log-lines-per-request' } });
    expect(res.status).toBe(200);
    const lines = t
      .logs()
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            reqId?: string;
            level: number;
            msg: string;
            req?: { method?: string; url?: string };
            res?: { statusCode?: number };
            responseTime?: number;
          },
      )
      .filter((l) => l.reqId === 'log-lines-per-request');
    const info = lines.filter((l) => l.level >= 30);
    expect(info).toEqual([
      expect.objectContaining({
        msg: 'request completed',
        req: expect.objectContaining({ method: 'GET', url: '/health' }),
        res: { statusCode: 200 },
        responseTime: expect.any(Number),
      }),
    ]);
    expect(lines.filter((l) => l.level === 20).map((l) => l.msg)).toEqual(['incoming request']);
  });
});
