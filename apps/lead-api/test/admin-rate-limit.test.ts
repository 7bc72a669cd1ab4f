import { TRPCClientError } from '@trpc/client';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, leaseSize, redisClient } from '../src/http/rate-limit.js';
import { ADMIN_ID, sampleLead, startTestApp, type TestApp } from './support/app.js';
import { uniqueName } from './support/database.js';
import { SHARED_REDIS_URL } from './support/redis.js';

const LIMIT = 3;
const OTHER_USER = '22222222-2222-4222-8222-222222222222';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { RATE_LIMIT_ADMIN_PER_MINUTE: LIMIT } });
});

describe('per-user rate limit on admin endpoints', () => {
  it('answers 429 with Retry-After beyond the budget of one user, on both surfaces', async () => {
    const token = await t.token();
    const statuses = [];
    for (let i = 0; i < LIMIT; i++) {
      const res = await t.rest('GET', '/api/v1/leads', { token });
      statuses.push(res.status);
      expect(res.headers.get('ratelimit-remaining')).toBe(String(LIMIT - 1 - i));
    }
    expect(statuses).toEqual(Array(LIMIT).fill(200));

    const refused = await t.rest('GET', '/api/v1/leads', { token });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.body).toMatchObject({ code: 'TOO_MANY_REQUESTS', request_id: refused.headers.get('x-request-id') });

    const error = await t
      .trpc(token)
      .leads.list.query({})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<never>).data).toMatchObject({ code: 'TOO_MANY_REQUESTS', httpStatus: 429 });
  });

  it('counts per user (`sub`), and only after authentication', async () => {
    expect((await t.rest('GET', '/api/v1/leads', { token: await t.token('admin', OTHER_USER) })).status).toBe(200);
    for (let i = 0; i < LIMIT + 1; i++) expect((await t.rest('GET', '/api/v1/leads')).status).toBe(401);
  });

  it('does not touch the public create', async () => {
    expect((await t.rest('POST', '/api/v1/leads', { body: sampleLead() })).status).toBe(201);
  });
});

describe('per-user budget counted in Redis, a lease at a time', () => {
  const BUDGET = 200;
  const clients: Redis[] = [];
  afterAll(() => clients.forEach((r) => r.disconnect()));

  /** Instances of the service sharing one Redis and one key prefix, as a deployment's do. */
  async function instances(count: number) {
    const prefix = uniqueName('rl-user');
    const apps = [];
    for (let i = 0; i < count; i++) {
      const redis = redisClient(SHARED_REDIS_URL);
      clients.push(redis);
      const app = await startTestApp({ redis, env: { RATE_LIMIT_ADMIN_PER_MINUTE: BUDGET, RATE_LIMIT_KEY_PREFIX: prefix } });
      await connectRedis(redis, app.app.log);
      apps.push(app);
    }
    return { apps, counted: async () => Number(await clients.at(-1)!.get(`${prefix}:user:${ADMIN_ID}`)) };
  }

  it('one instance: exactly the budget, the headers counting down by one, the points taken from Redis ahead', async () => {
    const { apps, counted } = await instances(1);
    const t = apps[0]!;
    const token = await t.token();
    const remaining: number[] = [];
    for (let i = 0; i < BUDGET; i++) {
      const res = await t.rest('GET', '/api/v1/leads?limit=1', { token });
      expect(res.status).toBe(200);
      remaining.push(Number(res.headers.get('ratelimit-remaining')));
      // The first request took a lease: Redis counts its points as used before they are spent.
      if (i === 0) expect(await counted()).toBe(leaseSize(BUDGET));
    }
    expect(remaining).toEqual(Array.from({ length: BUDGET }, (_, i) => BUDGET - 1 - i));
    expect(await counted()).toBe(BUDGET);
    expect((await t.rest('GET', '/api/v1/leads?limit=1', { token })).status).toBe(429);
  });

  it('two instances: together never more than the budget, and all of it is used', async () => {
    const { apps, counted } = await instances(2);
    const token = await apps[0]!.token();
    const served = [0, 0];
    let refusedBoth = false;
    while (!refusedBoth) {
      const statuses = await Promise.all(apps.map((t) => t.rest('GET', '/api/v1/leads?limit=1', { token }).then((r) => r.status)));
      statuses.forEach((status, i) => {
        expect([200, 429]).toContain(status);
        if (status === 200) served[i]! += 1;
      });
      refusedBoth = statuses.every((status) => status === 429);
      expect(served[0]! + served[1]!).toBeLessThanOrEqual(BUDGET);
    }
    expect(served[0]! + served[1]!).toBe(BUDGET);
    expect(served.every((n) => n > 0)).toBe(true);
    expect(await counted()).toBeGreaterThanOrEqual(BUDGET);
  });

  it('many concurrent requests of one user take one lease, not one each', async () => {
    const { apps, counted } = await instances(1);
    const token = await apps[0]!.token();
    const statuses = await Promise.all(
      Array.from({ length: 3 }, () => apps[0]!.rest('GET', '/api/v1/leads?limit=1', { token }).then((r) => r.status)),
    );
    expect(statuses).toEqual([200, 200, 200]);
    expect(await counted()).toBe(leaseSize(BUDGET));
  });
});
