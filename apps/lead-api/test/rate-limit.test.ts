import type { AppRouter, CreateLeadInput } from '@lead/contracts';
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import { Redis } from 'ioredis';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectRedis, redisClient } from '../src/http/rate-limit.js';
import { sampleLead, startTestApp, TEST_SECRET, type TestApp, type TestAppOptions } from './support/app.js';
import { createDatabase, databaseUrl, dropDatabase, uniqueName, withClient } from './support/database.js';
import { freePort, PrivateRedis, SHARED_REDIS_URL } from './support/redis.js';
import { spawnService, stopServices } from './support/service.js';
import { waitUntil } from './support/wait.js';

const LIMIT = 10;
const redisClients: Redis[] = [];
afterAll(() => redisClients.forEach((r) => r.disconnect()));

async function appOnRedis(url: string, env: TestAppOptions['env'] = {}) {
  const redis = redisClient(url);
  redisClients.push(redis);
  const keyPrefix = uniqueName('rl');
  const t = await startTestApp({ redis, env: { RATE_LIMIT_CREATE_PER_HOUR: LIMIT, RATE_LIMIT_KEY_PREFIX: keyPrefix, ...env } });
  await connectRedis(redis, t.app.log);
  return { t, redis, key: (client: string) => `${keyPrefix}:create:${client}` };
}

const createRest = (t: TestApp, body: unknown = sampleLead()) => t.rest('POST', '/api/v1/leads', { body });

/** `leads.create` over tRPC as a raw HTTP call, to see the response headers. */
async function createTrpc(t: TestApp, body: unknown = sampleLead()) {
  const res = await fetch(`${t.url}/trpc/leads.create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(superjson.serialize(body)),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

const limitHeaders = (headers: Headers) => ({
  limit: headers.get('ratelimit-limit'),
  remaining: headers.get('ratelimit-remaining'),
  reset: Number(headers.get('ratelimit-reset')),
  retryAfter: headers.get('retry-after'),
});

describe('create rate limit, counted in Redis', () => {
  let t: TestApp;
  let redis: Redis;
  let key: (client: string) => string;
  beforeAll(async () => {
    ({ t, redis, key } = await appOnRedis(SHARED_REDIS_URL));
  });

  it('lets 10 create requests of any kind through, then answers 429 with Retry-After on both surfaces', async () => {
    const batch = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${t.url}/trpc`, transformer: superjson })] });
    const responses = [
      await createRest(t),
      await createRest(t, '{"name": "broken'),
      await createRest(t, { name: 'No email' }),
      await createTrpc(t),
      await createRest(t),
      await createTrpc(t, { name: '' }),
      await createRest(t),
    ];
    expect(responses.map((r) => r.status)).toEqual([201, 400, 400, 200, 201, 400, 201]);
    // Every create response tells the client its budget, counting down whatever the outcome.
    responses.forEach((r, i) =>
      expect(limitHeaders(r.headers)).toMatchObject({ limit: '10', remaining: String(LIMIT - 1 - i), retryAfter: null }),
    );
    // A batched tRPC call counts each create in it.
    await Promise.all([
      batch.leads.create.mutate(sampleLead() as CreateLeadInput),
      batch.leads.create.mutate(sampleLead() as CreateLeadInput),
    ]);
    const tenth = await createRest(t);
    expect(tenth.status).toBe(201);
    expect(limitHeaders(tenth.headers)).toMatchObject({ limit: '10', remaining: '0', retryAfter: null });

    const refused = await createRest(t);
    expect(refused.status).toBe(429);
    const headers = limitHeaders(refused.headers);
    expect(headers).toMatchObject({ limit: '10', remaining: '0' });
    expect(headers.reset).toBeGreaterThan(3500);
    expect(headers.reset).toBeLessThanOrEqual(3600);
    expect(headers.retryAfter).toBe(String(headers.reset));
    expect(refused.body).toEqual({
      code: 'TOO_MANY_REQUESTS',
      message: expect.stringMatching(/^Too many submissions: try again in \d+ seconds$/),
      request_id: refused.headers.get('x-request-id'),
    });

    const overTrpc = await createTrpc(t);
    expect(overTrpc.status).toBe(429);
    expect(overTrpc.headers.get('retry-after')).toBeTruthy();
    expect(overTrpc.body.error.json).toMatchObject({ code: -32029, data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429 } });
    // A batched client gets one error per call, as the tRPC client expects.
    const results = await Promise.allSettled([
      batch.leads.create.mutate(sampleLead() as CreateLeadInput),
      batch.leads.create.mutate(sampleLead() as CreateLeadInput),
    ]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const error = (result as PromiseRejectedResult).reason as TRPCClientError<AppRouter>;
      expect(error).toBeInstanceOf(TRPCClientError);
      expect(error.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', httpStatus: 429, path: 'leads.create' });
    }

    // Only the accepted valid submissions were stored; the count lives in Redis.
    const [row] = await t.sql<{ n: string }>('select count(*) as n from lead.leads');
    expect(Number(row!.n)).toBe(7);
    expect(Number(await redis.get(key('127.0.0.1')))).toBe(14);
  });

  it('leaves other requests alone', async () => {
    const res = await t.rest('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-limit')).toBeNull();
  });
});

describe('what counts as a create request', () => {
  it('only POSTs: preflights and other methods on the create paths cost nothing', async () => {
    const t = await startTestApp({ env: { RATE_LIMIT_CREATE_PER_HOUR: 1 } });
    const preflight = { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST' };
    for (const path of ['/api/v1/leads', '/trpc/leads.create']) {
      await fetch(`${t.url}${path}`, { method: 'OPTIONS', headers: preflight });
      await fetch(`${t.url}${path}`);
    }
    const res = await createRest(t);
    expect(res.status).toBe(201);
    expect(res.headers.get('ratelimit-remaining')).toBe('0');
  });
});

describe('create rate limit while Redis goes away and comes back', () => {
  let server: PrivateRedis;
  beforeAll(async () => {
    server = await PrivateRedis.start();
  });
  afterAll(async () => server.stop());

  it('keeps accepting leads on the in-memory insurance limiter, then counts in Redis again without a restart', async () => {
    const { t, redis, key } = await appOnRedis(server.url);
    const counted = async () => Number(await redis.get(key('127.0.0.1')));

    for (let i = 0; i < 3; i++) expect((await createRest(t)).status).toBe(201);
    expect(await counted()).toBe(3);

    await server.stop();
    await waitUntil('the client notices Redis is gone', () => redis.status !== 'ready', 15_000);
    const whileDown = [];
    for (let i = 0; i < 3; i++) whileDown.push(await createRest(t));
    expect(whileDown.map((r) => r.status)).toEqual([201, 201, 201]);
    // The insurance limiter counts from zero in this process.
    expect(whileDown.map((r) => r.headers.get('ratelimit-remaining'))).toEqual(['9', '8', '7']);
    expect(t.logs()).toContain('Redis is unreachable: rate limits are counted in memory');

    // Redis restarts empty (no persistence); the same client reconnects by itself.
    await server.start();
    await waitUntil('the client reconnects', () => redis.status === 'ready', 15_000);
    expect(t.logs()).toContain('Redis is reachable again');
    const afterwards = [];
    for (let i = 0; i < LIMIT + 1; i++) afterwards.push(await createRest(t));
    expect(afterwards.map((r) => r.status)).toEqual([...Array(LIMIT).fill(201), 429]);
    expect(await counted()).toBe(LIMIT + 1);
  }, 60_000);
});

describe('create rate limit when Redis is down at start-up', () => {
  it('starts serving on the insurance limiter and moves to Redis once it appears', async () => {
    const port = await freePort();
    const { t, redis, key } = await appOnRedis(`redis://127.0.0.1:${port}`);
    expect(redis.status).not.toBe('ready');
    expect((await createRest(t)).status).toBe(201);

    const server = await PrivateRedis.start(port);
    try {
      await waitUntil('the client connects', () => redis.status === 'ready', 15_000);
      expect((await createRest(t)).status).toBe(201);
      expect(Number(await redis.get(key('127.0.0.1')))).toBe(1);
    } finally {
      await server.stop();
    }
  }, 60_000);
});

describe('client identity (TRUST_PROXY)', () => {
  const from = (t: TestApp, forwardedFor: string) =>
    t.rest('POST', '/api/v1/leads', { body: sampleLead(), headers: { 'x-forwarded-for': forwardedFor } });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const t = await startTestApp({ env: { RATE_LIMIT_CREATE_PER_HOUR: 3 } });
    const statuses = [];
    for (const spoofed of ['203.0.113.1', '203.0.113.2', '198.51.100.7, 203.0.113.3', '2001:db8::1']) {
      statuses.push((await from(t, spoofed)).status);
    }
    expect(statuses).toEqual([201, 201, 201, 429]);
  });

  it("honours a trusted proxy's X-Forwarded-For: the right-most address no trusted proxy added", async () => {
    const t = await startTestApp({ env: { RATE_LIMIT_CREATE_PER_HOUR: 2, TRUST_PROXY: ['127.0.0.1/8', '10.0.0.0/8'] } });
    expect((await from(t, '203.0.113.5')).status).toBe(201);
    // The client wrote the left entry itself; our proxy appended the address it saw.
    expect((await from(t, '198.51.100.1, 203.0.113.5')).status).toBe(201);
    expect((await from(t, '203.0.113.5')).status).toBe(429);
    // Another client behind the same proxy has a budget of its own.
    expect((await from(t, '203.0.113.6')).status).toBe(201);
    // An inner trusted proxy (10.x) is skipped to find the client.
    expect((await from(t, '203.0.113.6, 10.1.2.3')).status).toBe(201);
    expect((await from(t, '203.0.113.6')).status).toBe(429);
  });

  it('with a hop count, takes the address the outermost trusted hop saw', async () => {
    const t = await startTestApp({ env: { RATE_LIMIT_CREATE_PER_HOUR: 1, TRUST_PROXY: 1 } });
    expect((await from(t, '198.51.100.1, 203.0.113.9')).status).toBe(201);
    expect((await from(t, '203.0.113.9')).status).toBe(429);
    expect((await from(t, '198.51.100.1')).status).toBe(201);
  });

  it('limits IPv6 clients per /64', async () => {
    const t = await startTestApp({ env: { RATE_LIMIT_CREATE_PER_HOUR: 2, TRUST_PROXY: ['loopback'] } });
    expect((await from(t, '2001:db8:1:2::1')).status).toBe(201);
    expect((await from(t, '2001:db8:1:2:ffff:ffff:ffff:9')).status).toBe(201);
    expect((await from(t, '2001:db8:1:2:abcd::1')).status).toBe(429);
    expect((await from(t, '2001:db8:1:3::1')).status).toBe(201);
  });
});

describe('two API processes sharing one Redis', () => {
  /** The built service (dist/main.js) as a process of its own. */
  const startProcess = (env: Record<string, string>) =>
    spawnService({ AUTH_JWT_SECRET: TEST_SECRET, MIGRATE_ON_START: 'false', LOG_LEVEL: 'INFO', ...env }).url();

  it('share one budget: 10 creates in total, not 10 each', async () => {
    const database = await createDatabase(inject('templateDatabase'));
    try {
      const env = { DATABASE_URL: databaseUrl(database), REDIS_URL: SHARED_REDIS_URL, RATE_LIMIT_KEY_PREFIX: uniqueName('rl-shared') };
      const urls = await Promise.all([startProcess(env), startProcess(env)]);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        for (const url of urls) {
          const res = await fetch(`${url}/api/v1/leads`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(sampleLead()),
          });
          statuses.push(res.status);
        }
      }
      expect(statuses).toEqual([...Array(LIMIT).fill(201), 429, 429]);
      const leads = await withClient(database, async (db) => Number((await db.query('select count(*) as n from lead.leads')).rows[0].n));
      expect(leads).toBe(LIMIT);
    } finally {
      await stopServices();
      await dropDatabase(database);
    }
  }, 180_000);
});
