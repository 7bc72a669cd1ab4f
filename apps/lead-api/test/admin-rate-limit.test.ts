import { TRPCClientError } from '@trpc/client';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleLead, startTestApp, type TestApp } from './support/app.js';

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
