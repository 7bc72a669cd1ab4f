import net from 'node:net';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { safeError } from '../src/logger.js';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';
import { SURFACES, type Surface } from './support/surfaces.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});

/** Values no log line could contain by accident. */
const personal = (surface: Surface) => ({
  name: `Ottoline Vasquez-Brightwater ${surface}`,
  email: `o.brightwater.${surface}@personal-mail.example`,
  company: `Brightwater Tiles ${surface}`,
  message: `Ring me on my private line ${surface}`,
});

type LogLine = { reqId?: string; msg: string; err?: Record<string, unknown> };
const linesOf = (requestId: string) =>
  t
    .logs()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as LogLine)
    .filter((l) => l.reqId === requestId);

/** Creates a lead over `surface` under `requestId`, as the website would. */
const create = async (surface: Surface, lead: Record<string, unknown>, requestId: string) => {
  if (surface === 'rest') {
    const res = await t.rest('POST', '/api/v1/leads', { body: sampleLead(lead), headers: { 'x-request-id': requestId } });
    return { status: res.status, code: res.body.code as string | undefined };
  }
  const res = await fetch(`${t.url}/trpc/leads.create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ json: sampleLead(lead) }),
  });
  const body = (await res.json()) as { error?: { json: { data: { code: string } } } };
  return { status: res.status, code: body.error?.json.data.code };
};

/**
 * PostgreSQL errors carry submitted values: `detail` ("Key (email)=(…) already exists"), `where`,
 * and for a data exception the message itself ("invalid input syntax for type uuid: \"…\"").
 * The log holds the SQLSTATE and the server's message, never those values.
 */
describe('a database error is logged by its SQLSTATE and message, without the values it quotes', () => {
  it.each(SURFACES)('a unique violation (23505) over %s: 500, and its detail is not logged', async (surface) => {
    await t.sql('create unique index if not exists test_leads_email_unique on lead.leads (email)');
    const p = personal(surface);
    expect((await create(surface, p, `unique-first-${surface}`)).status).toBeLessThan(300);
    const second = await create(surface, p, `unique-second-${surface}`);
    // A constraint is not an outage: still a 500, not a 503.
    expect(second).toEqual({ status: 500, code: 'INTERNAL_SERVER_ERROR' });

    const failed = linesOf(`unique-second-${surface}`).find((l) => l.msg === 'procedure failed');
    // Classified by packages/db; the driver's error, as its cause, is logged by SQLSTATE and message.
    expect(failed?.err).toMatchObject({
      type: 'UniqueViolationError',
      cause: { type: 'error', sqlState: '23505', reason: 'duplicate key value violates unique constraint "test_leads_email_unique"' },
    });
    expect(failed?.err?.cause).not.toHaveProperty('stack');
    for (const value of [...Object.values(p), 'Brightwater', 'Key (']) expect(t.logs()).not.toContain(value);
  });

  it.each(SURFACES)('a data exception (22P02) over %s: the value its message quotes is not logged', async (surface) => {
    await t.sql(`create or replace function lead.test_email_as_uuid() returns trigger language plpgsql as $$
                 begin perform new.email::uuid; return new; end $$;
               create or replace trigger test_email_as_uuid before insert on lead.leads
                 for each row execute function lead.test_email_as_uuid();`);
    try {
      const p = personal(surface);
      const email = `data-exception.${p.email}`;
      expect(await create(surface, { ...p, email }, `cast-${surface}`)).toEqual({ status: 500, code: 'INTERNAL_SERVER_ERROR' });
      const failed = linesOf(`cast-${surface}`).find((l) => l.msg === 'procedure failed');
      expect(failed?.err).toEqual({ type: 'error', sqlState: '22P02', reason: 'invalid input syntax for type uuid: "[redacted]"' });
      expect(t.logs()).not.toContain(email);
    } finally {
      await t.sql('drop trigger test_email_as_uuid on lead.leads; drop function lead.test_email_as_uuid();');
    }
  });

  it("MikroORM's errors (admin paths): neither the statement's inlined values nor the detail it appends", async () => {
    const email = 'orm.path@personal-mail.example';
    await t.sql('create table if not exists lead.test_emails (email text primary key)');
    const em = t.orm.em.fork();
    await em.execute('insert into lead.test_emails values (?)', [email]);
    // Converted by MikroORM: "<sql with values> - <message>\n - detail: Key (email)=(…) already exists."
    const converted = await em.execute('insert into lead.test_emails values (?)', [email]).catch((e: unknown) => e);
    // Raw from knex: "<sql with values> - <message>".
    const raw = await em
      .getConnection()
      .execute('select ?::uuid', [email])
      .catch((e: unknown) => e);
    expect(String((converted as Error).message)).toContain(`Key (email)=(${email})`);
    expect(String((raw as Error).message)).toContain(email);

    expect(safeError(converted)).toEqual({
      type: 'UniqueConstraintViolationException',
      sqlState: '23505',
      reason: 'duplicate key value violates unique constraint "test_emails_pkey"',
    });
    expect(safeError(raw)).toEqual({
      type: expect.any(String),
      sqlState: '22P02',
      reason: 'invalid input syntax for type uuid: "[redacted]"',
    });
    expect(JSON.stringify([safeError(converted), safeError(raw)])).not.toContain('orm.path');
  });

  it('an error that never reached a server keeps its code, message and stack', async () => {
    const listener = net.createServer();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const { port } = listener.address() as net.AddressInfo;
    await new Promise((resolve) => listener.close(resolve));
    const refused = await new pg.Client({ host: '127.0.0.1', port, user: 'postgres' }).connect().catch((e: unknown) => e);
    expect(safeError(refused)).toEqual({
      type: 'Error',
      code: 'ECONNREFUSED',
      reason: `connect ECONNREFUSED 127.0.0.1:${port}`,
      stack: expect.any(String),
    });
  });
});
