import net from 'node:net';
import { knex } from '@mikro-orm/postgresql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '@lead/db';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';
import { SURFACES, type Surface } from './support/surfaces.js';
import { admin as serverAdmin, connect, databaseUrl, SERVER_URL, uniqueName } from './support/database.js';
import { waitUntil } from './support/wait.js';

/**
 * The database going away for real: the server terminating the app's connections, a server
 * that stops accepting connections or drops them mid-request (through a TCP proxy the test
 * cuts), a role over its connection limit, a full pool. Every such call answers 503 with its
 * request id, nothing half-written stays behind, and the service recovers on its own.
 */

const UNAVAILABLE = 'The database is unavailable, try again shortly';
const server = new URL(SERVER_URL);
const serverAddress = { host: server.hostname, port: Number(server.port || 5432) };

/**
 * A TCP proxy in front of the PostgreSQL server. `cut` drops every connection (with a FIN, or a
 * reset) and stops listening, so new connections are refused, as when the server crashes or
 * restarts; `restore` listens on the same port again.
 */
async function startProxy() {
  const sockets = new Set<net.Socket>();
  let listener: net.Server | undefined;
  let port = 0;
  const listen = async () => {
    listener = net.createServer((client) => {
      const upstream = net.connect(serverAddress.port, serverAddress.host);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => {
          sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => listener!.listen(port, '127.0.0.1', resolve));
    port = (listener.address() as net.AddressInfo).port;
  };
  await listen();
  return {
    port,
    async cut(how: 'close' | 'reset' = 'close') {
      const closed = new Promise((resolve) => listener!.close(resolve));
      for (const socket of sockets) {
        if (how === 'reset') socket.resetAndDestroy();
        else socket.destroy();
      }
      await closed;
    },
    restore: listen,
    async close() {
      if (listener?.listening) await this.cut();
    },
  };
}

/**
 * The backends of `database` matching `condition`, seen from a connection of its own: within a
 * transaction pg_stat_activity keeps listing the backends that existed when it was first read.
 */
const backends = (database: string, condition: string, values: unknown[] = []) =>
  serverAdmin(
    async (c) =>
      (await c.query<{ pid: number }>(`select pid from pg_stat_activity where datname = $1 and ${condition}`, [database, ...values])).rows,
  );

/** The backend of `database` waiting for a lock: the request's, once it reaches the held row. */
const lockWaiter = (database: string) =>
  waitUntil('a request waits for the row lock', async () => (await backends(database, `wait_event_type = 'Lock'`))[0]?.pid, 10_000, 20);

type Answer = { status: number; requestId: string | null; body: any };

/** One procedure call, over REST (method and path) or /trpc (procedure path). */
interface Call {
  trpc: string;
  method: string;
  rest: string;
  input: Record<string, unknown> | undefined;
  authed: boolean;
}

/** Makes `c` over `surface` with the request id given, and reads the whole answer. */
async function call(app: TestApp, surface: Surface, c: Call, requestId: string, token: string): Promise<Answer> {
  const headers = { 'x-request-id': requestId, ...(c.authed ? { authorization: `Bearer ${token}` } : {}) };
  if (surface === 'rest') {
    // The input's path parameters are in the path already.
    const body = Object.fromEntries(Object.entries(c.input ?? {}).filter(([, value]) => !c.rest.includes(String(value))));
    const res = await app.rest(c.method, c.rest, { headers, ...(c.method === 'GET' ? {} : { body }) });
    return { status: res.status, requestId: res.headers.get('x-request-id'), body: res.body };
  }
  const json = JSON.stringify({ json: c.input });
  const res =
    c.method === 'GET'
      ? await fetch(`${app.url}/trpc/${c.trpc}?input=${encodeURIComponent(json)}`, { headers })
      : await fetch(`${app.url}/trpc/${c.trpc}`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: json,
        });
  return { status: res.status, requestId: res.headers.get('x-request-id'), body: await res.json() };
}

const statusChange = (leadId: string): Call => ({
  trpc: 'leads.updateStatus',
  method: 'PATCH',
  rest: `/api/v1/leads/${leadId}/status`,
  input: { lead_id: leadId, status: 'contacted' },
  authed: true,
});

function expectUnavailable(surface: Surface, res: Answer, requestId: string, path: string) {
  expect(res.status).toBe(503);
  expect(res.requestId).toBe(requestId);
  if (surface === 'rest') {
    expect(res.body).toEqual({ code: 'SERVICE_UNAVAILABLE', message: UNAVAILABLE, request_id: requestId });
  } else {
    expect(res.body).toEqual({
      error: {
        json: { message: UNAVAILABLE, code: -32603, data: { code: 'SERVICE_UNAVAILABLE', httpStatus: 503, path, request_id: requestId } },
      },
    });
  }
}

/** Everything a status change writes, read past the app (its pool may be down). */
async function writesOf(client: pg.Client, leadId: string, requestId: string) {
  const q = async (text: string, values: unknown[]) => (await client.query(text, values)).rows;
  return {
    lead: await q('select status, updated_at, closed_at from lead.leads where id = $1', [leadId]),
    activities: await q('select activity_type from lead.lead_activities where lead_id = $1 order by created_at, id', [leadId]),
    events: await q('select event_type from lead.outbox_events where lead_id = $1 order by seq', [leadId]),
    audit: await q('select action from lead.audit_log where request_id = $1', [requestId]),
  };
}

describe('when the server terminates the connection a request is using (SQLSTATE 57P01)', () => {
  let t: TestApp & { database: string };
  let token: string;
  beforeAll(async () => {
    t = await startTestApp();
    token = await t.token();
  });

  it.each(SURFACES)('a status change answers 503 over %s, writes nothing, and the next one succeeds', async (surface) => {
    const leadId = (await t.rest('POST', '/api/v1/leads', { body: sampleLead() })).body.id as string;
    const requestId = `terminated-${surface}`;
    const locker = await connect(t.database);
    try {
      const before = await writesOf(locker, leadId, requestId);
      // Hold the lead's row so that the request waits, on its own connection, for the lock.
      await locker.query('begin');
      await locker.query('select 1 from lead.leads where id = $1 for update', [leadId]);
      const answer = call(t, surface, statusChange(leadId), requestId, token);
      const waiting = await lockWaiter(t.database);
      await locker.query('select pg_terminate_backend($1)', [waiting]);
      expectUnavailable(surface, await answer, requestId, 'leads.updateStatus');
      await locker.query('rollback');
      expect(await writesOf(locker, leadId, requestId)).toEqual(before);
    } finally {
      await locker.end();
    }

    // The pool drops the dead connection and opens another.
    const again = await call(t, surface, statusChange(leadId), `${requestId}-again`, token);
    expect(again.status).toBe(200);
    const leads = await Promise.all(Array.from({ length: 12 }, () => t.rest('GET', `/api/v1/leads/${leadId}`, { token })));
    expect(leads.map((r) => r.status)).toEqual(leads.map(() => 200));
    expect(leads[0]!.body.status).toBe('contacted');
  });
});

describe('when the database server goes away (connections dropped, new ones refused)', () => {
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let t: TestApp & { database: string };
  let token: string;
  beforeAll(async () => {
    proxy = await startProxy();
    t = await startTestApp({ databaseAddress: { host: '127.0.0.1', port: proxy.port } });
    token = await t.token();
  });
  afterAll(() => proxy.close());

  it.each(['close', 'reset'] as const)(
    'a status change whose connection drops mid-transaction (%s) answers 503 and writes nothing',
    async (how) => {
      const leadId = (await t.rest('POST', '/api/v1/leads', { body: sampleLead() })).body.id as string;
      const locker = await connect(t.database);
      try {
        for (const surface of SURFACES) {
          const requestId = `dropped-${how}-${surface}`;
          const before = await writesOf(locker, leadId, requestId);
          await locker.query('begin');
          await locker.query('select 1 from lead.leads where id = $1 for update', [leadId]);
          const answer = call(t, surface, statusChange(leadId), requestId, token);
          await lockWaiter(t.database);
          await proxy.cut(how);
          try {
            expectUnavailable(surface, await answer, requestId, 'leads.updateStatus');
          } finally {
            await proxy.restore();
          }
          await locker.query('rollback');
          // The server noticed the dropped connection and rolled its transaction back.
          await waitUntil('the dropped backend ends', async () => (await backends(t.database, `state <> 'idle'`)).length === 0, 10_000, 20);
          expect(await writesOf(locker, leadId, requestId)).toEqual(before);
        }
      } finally {
        await locker.end();
      }
      const again = await call(t, 'rest', statusChange(leadId), `dropped-${how}-again`, token);
      expect(again.status).toBe(200);
    },
  );

  it('every procedure that needs the database answers 503 on both surfaces while it is down, and all succeed once it is back', async () => {
    const leadId = (await t.rest('POST', '/api/v1/leads', { body: sampleLead() })).body.id as string;
    const email = `${uniqueName('outage')}@example.com`;
    const calls = (phase: 'down' | 'up'): Call[] => [
      { trpc: 'leads.create', method: 'POST', rest: '/api/v1/leads', input: sampleLead({ email: `${phase}-${email}` }), authed: false },
      { trpc: 'leads.list', method: 'GET', rest: '/api/v1/leads', input: {}, authed: true },
      { trpc: 'leads.get', method: 'GET', rest: `/api/v1/leads/${leadId}`, input: { lead_id: leadId }, authed: true },
      {
        trpc: 'leads.addActivity',
        method: 'POST',
        rest: `/api/v1/leads/${leadId}/activities`,
        input: { lead_id: leadId, activity_type: 'note_added', description: `${phase}: ${email}` },
        authed: true,
      },
      // The admin paths that still run on the ORM.
      { trpc: 'audit.list', method: 'GET', rest: '/api/v1/audit', input: {}, authed: true },
      { trpc: 'events.stats', method: 'GET', rest: '/api/v1/events/stats', input: undefined, authed: true },
    ];

    await proxy.cut();
    try {
      for (const surface of SURFACES) {
        for (const c of calls('down')) {
          const requestId = `down-${surface}-${c.trpc}`;
          const res = await call(t, surface, c, requestId, token);
          expect({ call: c.trpc, status: res.status }).toEqual({ call: c.trpc, status: 503 });
          expectUnavailable(surface, res, requestId, c.trpc);
        }
      }
    } finally {
      await proxy.restore();
    }

    for (const surface of SURFACES) {
      for (const c of calls('up')) {
        const res = await call(t, surface, c, `up-${surface}-${c.trpc}`, token);
        expect({ call: c.trpc, ok: res.status < 300 }).toEqual({ call: c.trpc, ok: true });
      }
    }
    const client = await connect(t.database);
    try {
      const column = async (text: string, values: unknown[]) => (await client.query(text, values)).rows.map((r) => Object.values(r)[0]);
      expect({
        leads: await column('select email from lead.leads where email like $1', [`%${email}`]),
        notes: await column('select description from lead.lead_activities where description like $1', [`%${email}`]),
        audit: await column('select request_id from lead.audit_log where request_id like $1', ['down-%']),
      }).toEqual({ leads: [`up-${email}`, `up-${email}`], notes: [`up: ${email}`, `up: ${email}`], audit: [] });
    } finally {
      await client.end();
    }
  });
});

/** Real errors from real connections, through the classifier the error middleware uses. */
describe('isDatabaseUnavailable', () => {
  const refusedPort = async () => {
    const listener = net.createServer();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const { port } = listener.address() as net.AddressInfo;
    await new Promise((resolve) => listener.close(resolve));
    return port;
  };
  const connectTo = async (port: number) => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    return client.connect().then(
      () => Promise.reject(new Error('connected')),
      (error: unknown) => error,
    );
  };
  /** A server that accepts a connection and then drops it, before or after a byte. */
  const dropping = async (drop: (socket: net.Socket) => void) => {
    const listener = net.createServer(drop);
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      return await connectTo((listener.address() as net.AddressInfo).port);
    } finally {
      listener.close();
    }
  };
  const failing = async (text: string, values: unknown[] = []) =>
    serverAdmin(async (c) =>
      c.query(text, values).then(
        () => Promise.reject(new Error('succeeded')),
        (error: unknown) => error,
      ),
    );

  it('is true for a query on a connection the server terminates (57P01)', async () => {
    const victim = await connect();
    victim.on('error', () => {});
    const { rows } = await victim.query<{ pid: number }>('select pg_backend_pid() as pid');
    const query = victim.query('select pg_sleep(30)').catch((error: unknown) => error);
    await waitUntil(
      'the sleep starts',
      async () =>
        serverAdmin(
          async (c) => (await c.query(`select 1 from pg_stat_activity where pid = $1 and state = 'active'`, [rows[0]!.pid])).rowCount === 1,
        ),
      10_000,
      20,
    );
    await serverAdmin((c) => c.query('select pg_terminate_backend($1)', [rows[0]!.pid]));
    const error = await query;
    expect(error).toMatchObject({ code: '57P01' });
    expect(isDatabaseUnavailable(error)).toBe(true);
    // The same connection, used again.
    const next = await victim.query('select 1').catch((e: unknown) => e);
    expect(next).toMatchObject({ message: expect.stringMatching(/^Connection terminated|not queryable/) });
    expect(isDatabaseUnavailable(next)).toBe(true);
    await victim.end().catch(() => {});
  });

  it('is true for a role over its connection limit (53300)', async () => {
    const role = uniqueName('limited');
    await serverAdmin((c) => c.query(`create role "${role}" login connection limit 0`));
    try {
      const url = new URL(SERVER_URL);
      url.username = role;
      const error = await new pg.Client({ connectionString: url.toString() }).connect().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: '53300' });
      expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      await serverAdmin((c) => c.query(`drop role "${role}"`));
    }
  });

  it('is true when nothing listens (ECONNREFUSED) or the connection drops (reset, or closed)', async () => {
    const refused = await connectTo(await refusedPort());
    expect(refused).toMatchObject({ code: 'ECONNREFUSED' });
    const closed = await dropping((socket) => socket.destroy());
    expect(closed).toMatchObject({ message: 'Connection terminated unexpectedly' });
    const reset = await dropping((socket) => socket.once('data', () => socket.resetAndDestroy()));
    expect(reset).toMatchObject({ code: 'ECONNRESET' });
    for (const error of [refused, closed, reset]) expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it("is true for knex's pool timing out, and for errors caused by any of these", async () => {
    const pool = knex({ client: 'pg', connection: SERVER_URL, pool: { min: 0, max: 1 }, acquireConnectionTimeout: 100 });
    try {
      const held = await pool.client.acquireConnection();
      const error = await pool.raw('select 1').catch((e: unknown) => e);
      await pool.client.releaseConnection(held);
      expect(error).toMatchObject({ name: 'KnexTimeoutError' });
      expect(isDatabaseUnavailable(error)).toBe(true);
      expect(isDatabaseUnavailable(new Error('wrapped', { cause: error }))).toBe(true);
    } finally {
      await pool.destroy();
    }
  });

  it('is true for connection exceptions (08…), a crash shutdown (57P02) and "cannot connect now" (57P03)', () => {
    for (const code of ['08000', '08001', '08003', '08004', '08006', '08P01', '57P02', '57P03']) {
      const error = Object.assign(new pg.DatabaseError('server unavailable', 0, 'error'), { code, severity: 'FATAL' });
      expect({ code, unavailable: isDatabaseUnavailable(error) }).toEqual({ code, unavailable: true });
    }
  });

  it('is false for errors about the request or the schema, from a real server', async () => {
    const errors = [
      await failing('select $1::uuid', ['not-a-uuid']),
      await failing(`select * from (values (1), (1)) v(x) where false; create temp table u (x int unique); insert into u values (1), (1)`),
      await failing('select * from lead.no_such_table'),
      await new pg.Client({ connectionString: databaseUrl(uniqueName('no_such_database')) }).connect().catch((e: unknown) => e),
      new Error('Lead not found'),
      'not an error',
    ];
    expect(errors.slice(0, 4).map((e) => (e as { code?: string }).code)).toEqual(['22P02', '23505', '42P01', '3D000']);
    expect(errors.map((e) => isDatabaseUnavailable(e))).toEqual(errors.map(() => false));
  });

  it('is true for a statement or lock wait cut short by the connection bounds: the database is overloaded or locked', async () => {
    const statementTimeout = await failing(`set statement_timeout = 10; select pg_sleep(1)`);
    expect((statementTimeout as { code?: string }).code).toBe('57014');
    // A real lock timeout is proved end to end in bounded-waits.test.ts; here its error's shape.
    const lockTimeout = Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03', severity: 'ERROR' });
    expect([statementTimeout, lockTimeout].map((e) => isDatabaseUnavailable(e))).toEqual([true, true]);
  });
});
