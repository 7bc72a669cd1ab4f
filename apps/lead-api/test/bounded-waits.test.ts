import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lifecycle } from '../src/ops/lifecycle.js';
import { databaseReadiness } from '../src/ops/readiness.js';
import { ADMIN_ID, sampleLead, startTestApp, type TestApp } from './support/app.js';
import { connect, databaseUrl } from './support/database.js';
import { freePort } from './support/redis.js';

/**
 * The database locked or saturated: requests answer 503 within the bounds the service puts on
 * its connections (lock timeout, statement timeout, pool acquire timeout), never after the
 * lock is released, and the probes answer within their own bound whatever the pool is doing.
 */

const BOUNDS = {
  statementTimeoutMs: 3_000,
  lockTimeoutMs: 1_000,
  idleInTransactionTimeoutMs: 10_000,
  acquireTimeoutMs: 1_500,
  connectTimeoutMs: 2_000,
};
/** The bound asserted: a lock wait (1 s) after waiting for a pooled connection (1.5 s), with margin. */
const ANSWER_WITHIN_MS = 5_000;

let t: TestApp & { database: string };
let token: string;
const lifecycle = new Lifecycle();

beforeAll(async () => {
  t = await startTestApp({ bounds: BOUNDS, lifecycle });
  token = await t.token('admin', ADMIN_ID);
});

/** A client the app knows nothing about, holding an exclusive lock on `lead.leads` in an open transaction. */
async function lockLeads(database: string): Promise<pg.Client> {
  const client = await connect(database);
  await client.query('begin');
  await client.query('lock table lead.leads in access exclusive mode');
  return client;
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: Math.round(performance.now() - started), value };
}

describe('with lead.leads locked by another session', () => {
  let locker: pg.Client;
  beforeAll(async () => {
    locker = await lockLeads(t.database);
  });
  afterAll(async () => {
    await locker.query('rollback').catch(() => {});
    await locker.end();
  });

  it('a create answers 503 SERVICE_UNAVAILABLE within the bound, over REST and tRPC', async () => {
    const rest = await timed(() => t.rest('POST', '/api/v1/leads', { body: sampleLead() }));
    expect(rest.value.status).toBe(503);
    expect(rest.value.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', request_id: expect.any(String) });
    expect(rest.ms).toBeLessThan(ANSWER_WITHIN_MS);
    const trpc = await timed(() =>
      t
        .trpc()
        .leads.create.mutate({ name: 'John Doe', email: 'john@example.com' })
        .catch((error: unknown) => error),
    );
    expect(trpc.value).toMatchObject({ data: { code: 'SERVICE_UNAVAILABLE' } });
    expect(trpc.ms).toBeLessThan(ANSWER_WITHIN_MS);
    console.log(`locked table: REST create 503 after ${rest.ms} ms, tRPC create after ${trpc.ms} ms`);
  });

  it('many requests at once, more than the pool holds, all answer 503 within the bound; the probes answer meanwhile', async () => {
    const burst = Array.from({ length: 30 }, (_, i) =>
      timed(() => (i % 2 ? t.rest('GET', '/api/v1/leads', { token }) : t.rest('POST', '/api/v1/leads', { body: sampleLead() }))),
    );
    // While the pool is full and callers wait for it:
    await new Promise((r) => setTimeout(r, 300));
    const ready = await timed(() => t.rest('GET', '/health/ready'));
    const live = await timed(() => t.rest('GET', '/health/live'));
    const answers = await Promise.all(burst);
    expect(answers.map((a) => a.value.status)).toEqual(answers.map(() => 503));
    const slowest = Math.max(...answers.map((a) => a.ms));
    expect(slowest).toBeLessThan(ANSWER_WITHIN_MS + 1_500);
    // Ready reads no lead table and has a connection of its own: it is ready, and says so fast.
    expect(ready.value).toMatchObject({ status: 200, body: { status: 'ok', database: 'ok', migrations: 'applied' } });
    expect(ready.ms).toBeLessThan(1_000);
    expect(live.value).toMatchObject({ status: 200, body: { status: 'ok' } });
    console.log(
      `30 requests on a locked table: slowest 503 after ${slowest} ms; /health/ready meanwhile ${ready.ms} ms, /health/live ${live.ms} ms`,
    );
  });
});

describe('GET /health/ready', () => {
  it('answers 503 at once while draining, and 200 again when not', async () => {
    lifecycle.draining = true;
    try {
      const res = await timed(() => t.rest('GET', '/health/ready'));
      expect(res.value).toMatchObject({
        status: 503,
        body: { code: 'SERVICE_UNAVAILABLE', message: 'Not ready: the service is shutting down' },
      });
      expect(res.ms).toBeLessThan(500);
    } finally {
      lifecycle.draining = false;
    }
    expect((await t.rest('GET', '/health/ready')).status).toBe(200);
  });

  it('says not ready within its bound when the database does not answer (a server that accepts and never speaks)', async () => {
    const net = await import('node:net');
    const silent = net.createServer(() => {});
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    const readiness = databaseReadiness({ clientUrl: `postgres://postgres@127.0.0.1:${port}/nowhere` }, 500);
    try {
      const res = await timed(() => readiness.check());
      expect(res.value).toBe('the database did not answer within 500 ms');
      expect(res.ms).toBeLessThan(1_000);
    } finally {
      await readiness.close().catch(() => {});
      silent.close();
    }
  });

  it('says not ready when a migration this version ships is not applied', async () => {
    await t.sql(`delete from lead.mikro_orm_migrations where name = (select max(name) from lead.mikro_orm_migrations)`);
    const readiness = databaseReadiness({ clientUrl: databaseUrl(t.database) }, 1_000);
    try {
      expect(await readiness.check()).toBe('1 migration(s) not applied');
    } finally {
      await readiness.close();
    }
  });
});
