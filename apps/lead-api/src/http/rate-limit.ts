import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import ipaddr from 'ipaddr.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** The outcome of counting one request, with what the client is told about its budget. */
export interface Verdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the budget is whole again. */
  resetSeconds: number;
}

export interface RateLimit {
  consume(key: string, points?: number): Promise<Verdict>;
}

export interface RateLimitOptions {
  /** Shared counting store; without it each process counts in its own memory. */
  redis?: Redis;
  /** Namespace of the keys in Redis, e.g. `lead-api`; tests give each run its own. */
  keyPrefix: string;
  name: string;
  points: number;
  durationSeconds: number;
}

/**
 * A fixed-window limiter. With Redis every instance draws on one budget; while Redis is
 * unreachable an in-memory insurance limiter counts instead (per instance), so capture never
 * fails because of Redis, and ioredis' reconnection brings the shared count back by itself.
 */
export function createRateLimit(opts: RateLimitOptions): RateLimit {
  const base = { points: opts.points, duration: opts.durationSeconds, keyPrefix: `${opts.keyPrefix}:${opts.name}` };
  const limiter: RateLimiterAbstract = opts.redis
    ? new RateLimiterRedis({
        ...base,
        storeClient: opts.redis,
        // Not waiting for a connection that is down: go straight to the insurance limiter.
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory(base),
      })
    : new RateLimiterMemory(base);

  return {
    async consume(key, points = 1) {
      let res: RateLimiterRes;
      let allowed = true;
      try {
        res = await limiter.consume(key, points);
      } catch (refused) {
        // Only a RateLimiterRes means "over the limit"; store failures go to the insurance limiter.
        if (!(refused instanceof RateLimiterRes)) throw refused;
        res = refused;
        allowed = false;
      }
      return {
        allowed,
        limit: opts.points,
        remaining: Math.max(0, res.remainingPoints),
        resetSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
      };
    },
  };
}

/** `RateLimit-*` headers (IETF draft), and `Retry-After` when the request is refused. */
export function rateLimitHeaders(verdict: Verdict): Record<string, string> {
  return {
    'ratelimit-limit': String(verdict.limit),
    'ratelimit-remaining': String(verdict.remaining),
    'ratelimit-reset': String(verdict.resetSeconds),
    ...(verdict.allowed ? {} : { 'retry-after': String(verdict.resetSeconds) }),
  };
}

/**
 * The rate-limit identity of a client address. An IPv6 client usually holds a whole /64, so it
 * is limited per /64; IPv4-mapped IPv6 addresses count as the IPv4 address they carry.
 */
export function clientKey(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv4') return address.toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/64`).toString()}/64`;
}

/**
 * A Redis client for the limiters. Commands fail fast instead of queueing while disconnected
 * (the insurance limiter answers meanwhile), and reconnection is retried forever, at most two
 * seconds apart. Nothing is sent until `connectRedis`.
 */
export function redisClient(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    commandTimeout: 1000,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}

/**
 * Connects before the service serves, so that the first requests are counted in Redis; if
 * Redis is down the service starts anyway, counting in memory until ioredis reconnects.
 * Logs each loss and each return of the connection once.
 */
export async function connectRedis(redis: Redis, log: FastifyBaseLogger): Promise<void> {
  let down = false;
  let reason = 'connection closed';
  // ioredis emits an error on every failed attempt; the state changes are what is worth a line.
  redis.on('error', (error: Error) => (reason = error.message));
  // 'reconnecting' rather than 'close': a deliberate disconnect at shutdown is no outage.
  redis.on('reconnecting', () => {
    if (down) return;
    down = true;
    log.warn({ reason }, 'Redis is unreachable: rate limits are counted in memory until it is back');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    log.info('Redis is reachable again: rate limits are counted in Redis');
  });
  // A failed first attempt is logged above, and ioredis keeps retrying.
  await redis.connect().catch(() => {});
}
