import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimit, redisClient, type RateLimit } from '../src/http/rate-limit.js';
import { uniqueName } from './support/database.js';
import { SHARED_REDIS_URL } from './support/redis.js';

// Calls for one key while its count is on the way to Redis go as one count (http/rate-limit.ts):
// the budget stays exact and shared, with fewer round trips.

let redis: Redis;
let commands = 0;
beforeAll(async () => {
  redis = redisClient(SHARED_REDIS_URL);
  await redis.connect();
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
    commands++;
    return send(...args);
  };
});
afterAll(() => redis.disconnect());

const limiter = (points: number): RateLimit =>
  createRateLimit({ redis, keyPrefix: uniqueName('rl-batch'), name: 'user', points, durationSeconds: 60 });

describe('per-key counts in Redis, batched while one is in flight', () => {
  it('allows exactly the budget among concurrent calls, each told what counting one by one would tell it', async () => {
    const limit = limiter(5);
    commands = 0;
    const verdicts = await Promise.all(Array.from({ length: 12 }, () => limit.consume('user-1')));
    expect(verdicts.map((v) => v.allowed)).toEqual([...Array(5).fill(true), ...Array(7).fill(false)]);
    expect(verdicts.map((v) => v.remaining)).toEqual([4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(verdicts.every((v) => v.limit === 5 && v.resetSeconds >= 1 && v.resetSeconds <= 60)).toBe(true);
    // The first call went alone; the 11 that arrived while it was in flight went as one.
    expect(commands).toBeLessThanOrEqual(3);
    // And the count in Redis is every call's, as before.
    expect((await limit.consume('user-1')).allowed).toBe(false);
  });

  it('keeps keys apart, and two limiters on one Redis (two instances) share one budget exactly', async () => {
    const prefix = uniqueName('rl-batch');
    const a = createRateLimit({ redis, keyPrefix: prefix, name: 'user', points: 7, durationSeconds: 60 });
    const b = createRateLimit({ redis, keyPrefix: prefix, name: 'user', points: 7, durationSeconds: 60 });
    const calls = Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).consume('shared'));
    const other = await Promise.all(Array.from({ length: 3 }, () => a.consume('someone-else')));
    const verdicts = await Promise.all(calls);
    expect(verdicts.filter((v) => v.allowed)).toHaveLength(7);
    expect(other.every((v) => v.allowed)).toBe(true);
  });

  it('answers calls after a batch with the count that includes it', async () => {
    const limit = limiter(3);
    await Promise.all([limit.consume('k'), limit.consume('k')]);
    expect(await limit.consume('k')).toMatchObject({ allowed: true, remaining: 0 });
    expect(await limit.consume('k')).toMatchObject({ allowed: false, remaining: 0 });
  });
});
