import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import ipaddr from 'ipaddr.js';
import { LRUCache } from 'lru-cache';
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
  /**
   * Leased budgets: a key's points are taken from the store a share at a time (see `leaseSize`)
   * and spent here, so a caller making many requests costs one store round trip per lease
   * instead of one per request. Points are taken before they are spent, so all instances
   * together never allow more than the budget; a lease's unspent points count as used for the
   * rest of their window, so with N instances a key may be refused up to N leases early.
   */
  leased?: boolean;
}

/** A lease is this fraction of the budget's last known remainder... */
const LEASE_SHARE = 64;
/** ...and never more than this many points. */
const LEASE_MAX = 100;

/**
 * Points a lease takes when `remaining` are left: a 64th of them, at most 100, at least 1, so
 * that leases shrink to single points as a budget runs out and the last points are exact.
 */
export const leaseSize = (remaining: number): number => Math.min(LEASE_MAX, Math.max(1, Math.floor(remaining / LEASE_SHARE)));

interface Lease {
  /** Points taken from the store and not yet spent. */
  left: number;
  /** What the store had left after the lease was taken. */
  storeRemaining: number;
  /** Epoch ms at which the store's window, and with it the lease, ends. */
  endsAt: number;
}

/** Keys whose leases are held at once; the least recently used goes first (its points are then unspent). */
const LEASES_MAX_KEYS = 10_000;

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

  /** Counts `points` in the store: whether they fit, what is left, and when the window ends. */
  async function take(key: string, points: number): Promise<{ allowed: boolean; remaining: number; msBeforeNext: number }> {
    try {
      const res = await limiter.consume(key, points);
      return { allowed: true, remaining: Math.max(0, res.remainingPoints), msBeforeNext: res.msBeforeNext };
    } catch (refused) {
      // Only a RateLimiterRes means "over the limit"; store failures go to the insurance limiter.
      if (!(refused instanceof RateLimiterRes)) throw refused;
      return { allowed: false, remaining: Math.max(0, refused.remainingPoints), msBeforeNext: refused.msBeforeNext };
    }
  }

  const verdict = (allowed: boolean, remaining: number, msBeforeNext: number): Verdict => ({
    allowed,
    limit: opts.points,
    remaining,
    resetSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)),
  });

  /** Counts `points` in the store and says so: every call of an unleased limit, and a leased one's calls of more than one point. */
  const counted = async (key: string, points: number): Promise<Verdict> => {
    const result = await take(key, points);
    return verdict(result.allowed, result.remaining, result.msBeforeNext);
  };

  if (!opts.leased) return { consume: (key, points = 1) => counted(key, points) };

  const leases = new LRUCache<string, Lease>({ max: LEASES_MAX_KEYS });
  /** A lease being taken, per key: concurrent requests of one key wait for it instead of taking their own. */
  const taking = new Map<string, Promise<void>>();

  const spend = (lease: Lease | undefined, now: number): Verdict | undefined => {
    if (!lease || lease.left === 0 || now >= lease.endsAt) return undefined;
    lease.left -= 1;
    return verdict(true, lease.storeRemaining + lease.left, lease.endsAt - now);
  };

  /** Takes a new lease for `key` and spends its first point (or is refused). */
  async function renew(key: string): Promise<Verdict> {
    const held = leases.get(key);
    let points = leaseSize(held && Date.now() < held.endsAt ? held.storeRemaining : opts.points);
    let result = await take(key, points);
    if (!result.allowed && points > 1) {
      // Fewer points were left than the lease asked for: give them back, and count this request alone.
      await limiter.reward(key, points);
      points = 1;
      result = await take(key, 1);
    }
    if (!result.allowed) return verdict(false, 0, result.msBeforeNext);
    leases.set(key, { left: points - 1, storeRemaining: result.remaining, endsAt: Date.now() + result.msBeforeNext });
    return verdict(true, result.remaining + points - 1, result.msBeforeNext);
  }

  return {
    async consume(key, points = 1) {
      if (points !== 1) return counted(key, points);
      for (;;) {
        const spent = spend(leases.get(key), Date.now());
        if (spent) return spent;
        const pending = taking.get(key);
        if (!pending) break;
        await pending;
      }
      const renewal = renew(key);
      taking.set(
        key,
        renewal.then(
          () => {},
          () => {},
        ),
      );
      try {
        return await renewal;
      } finally {
        taking.delete(key);
      }
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
