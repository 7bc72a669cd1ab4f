import { fileURLToPath } from 'node:url';
import ipaddr from 'ipaddr.js';
import { AUDIT_RETENTION_MIN_DAYS } from '@lead/db';
import { z } from 'zod';

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'SILENT'] as const;

const postgresUrl = z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' }).optional();

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .optional()
    .transform((v) => (v === undefined ? fallback : v === 'true' || v === '1'));

// proxy-addr's names for whole address ranges, accepted as entries of TRUST_PROXY.
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

const isAddressOrCidr = (entry: string) => PROXY_RANGE_NAMES.includes(entry) || ipaddr.isValid(entry) || ipaddr.isValidCIDR(entry);

/**
 * Whom to believe about the client's address: a hop count, or the proxies' addresses/CIDRs.
 * The result is Fastify's (proxy-addr's) own `trustProxy` option; unset trusts nobody.
 */
const trustProxy = z
  .string()
  .transform((value, ctx): number | string[] => {
    if (/^\d+$/.test(value)) return Number(value);
    const entries = value.split(',').map((e) => e.trim());
    const bad = entries.filter((e) => !isAddressOrCidr(e));
    if (bad.length) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a hop count or a comma-separated list of IP addresses or CIDRs (not ${bad.map((b) => JSON.stringify(b)).join(', ')})`,
      });
      return z.NEVER;
    }
    return entries;
  })
  .optional();

/** A comma-separated list of browser origins (`https://www.example.com`), or `*` for any. */
const originList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
  )
  .pipe(
    z.array(
      z.string().refine((o) => o === '*' || (URL.canParse(o) && new URL(o).origin === o), {
        error: (issue) =>
          `${String(issue.input)} is not an origin like https://www.example.com (scheme, host, optional port; no path or trailing slash)`,
      }),
    ),
  )
  .default([]);

/** A number of days; `min` keeps a rule from erasing what is still in use. */
const days = (min: number) => z.coerce.number({ error: 'must be a whole number of days' }).int().min(min).max(36_500);

const ms = (fallback: number, min: number) =>
  z.coerce.number({ error: 'must be a number of milliseconds' }).int().min(min).default(fallback);

/** Every setting of the service, validated once at start-up. Nothing else reads `process.env`. */
const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: postgresUrl,
  DATA_DIR: z
    .string()
    .min(1)
    .default(fileURLToPath(new URL('../../../.data', import.meta.url))),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  LOG_LEVEL: z
    .string()
    .transform((v) => v.toUpperCase())
    .pipe(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }))
    .default('INFO'),
  NOTIFICATION_SERVICE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  // Access control (issue 3): tokens from the auth service, verified against its key set.
  AUTH_JWKS_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  AUTH_JWT_ISSUER: z.string().min(1).optional(),
  AUTH_JWT_AUDIENCE: z.string().min(1).optional(),
  // Verified tokens are remembered this long, never past their `exp`; 0 verifies every request.
  // Kept short: a token verified before its key is retired stays accepted this much longer.
  AUTH_TOKEN_CACHE_TTL_MS: ms(30_000, 0).pipe(z.number().max(300_000, 'must be at most 300000 (5 minutes)')),
  MIGRATE_ON_START: bool(true),
  // ---- bounded waits on the database (packages/db orm.ts; 0 turns a timeout off) ----
  DB_STATEMENT_TIMEOUT_MS: ms(10_000, 0),
  DB_LOCK_TIMEOUT_MS: ms(2_000, 0),
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: ms(30_000, 0),
  DB_POOL_MAX: z.coerce.number({ error: 'must be a whole number' }).int().min(1).max(1000).default(10),
  DB_POOL_ACQUIRE_TIMEOUT_MS: ms(3_000, 100),
  DB_CONNECT_TIMEOUT_MS: ms(3_000, 100),
  // How long start-up waits for an unreachable database before giving up (exit 1).
  DB_START_TIMEOUT_MS: ms(60_000, 0),
  // ---- operations: probes, shutdown, metrics, logs, traces ----
  READY_TIMEOUT_MS: ms(1_000, 50),
  SHUTDOWN_TIMEOUT_MS: ms(15_000, 100),
  METRICS_PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535).optional(),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty'], { error: 'must be auto, json or pretty' }).default('auto'),
  // The OTel SDK reads the other standard OTEL_* variables itself; these decide whether it runs.
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('lead-service'),
  OTEL_SDK_DISABLED: bool(false),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(64 * 1024),
  // A request's headers and body must have arrived within this long, or it is answered 408.
  REQUEST_TIMEOUT_MS: ms(10_000, 100),
  TRPC_MAX_BATCH_SIZE: z.coerce.number({ error: 'must be a whole number' }).int().min(1).max(100).default(10),
  // ---- leads (modules/leads) ----
  // An open lead with the same e-mail created within this many days makes a new one its duplicate.
  DUPLICATE_WINDOW_DAYS: z.coerce.number({ error: 'must be a number of days' }).int().min(0).max(3650).default(90),
  // ---- personal data (modules/privacy) ----
  // Every create must carry consent.policy_version.
  REQUIRE_CONSENT: bool(false),
  // Key of the HMAC that erasure records keep instead of the address. Its own secret, never
  // rotated: with another key, earlier erasures can no longer be looked up by address.
  ERASURE_HASH_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  // ---- abuse protection (http/rate-limit.ts, http/create-limit.ts) ----
  TRUST_PROXY: trustProxy,
  RATE_LIMIT_CREATE_PER_HOUR: z.coerce.number({ error: 'must be a whole number' }).int().min(1).default(10),
  RATE_LIMIT_ADMIN_PER_MINUTE: z.coerce.number({ error: 'must be a whole number' }).int().min(1).default(600),
  RATE_LIMIT_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 : _ -')
    .default('lead-api'),

  // ---- browsers allowed to call the service (http/cors.ts) ----
  CORS_ORIGINS: originList,
  CORS_ADMIN_ORIGINS: originList,

  // ---- event delivery to the notification service (events/dispatcher.ts) ----
  NOTIFICATION_SIGNING_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  EVENT_POLL_INTERVAL_MS: ms(500, 10),
  EVENT_BATCH_SIZE: z.coerce.number({ error: 'must be a number' }).int().min(1).max(1000).default(50),
  EVENT_DELIVERY_TIMEOUT_MS: ms(10_000, 100),
  EVENT_LEASE_MS: ms(60_000, 200),
  EVENT_RETRY_BASE_MS: ms(1_000, 1),
  EVENT_RETRY_MAX_DELAY_MS: ms(15 * 60_000, 1),
  EVENT_RECOVERY_PROBE_MS: ms(5_000, 10),
  EVENT_RETRY_MAX_AGE_SECONDS: z.coerce
    .number({ error: 'must be a number' })
    .positive()
    .default(72 * 3600),

  // ---- retention of personal data (ops/retention.ts, packages/db repositories/retention.ts) ----
  // Erase closed leads this many days after closed_at; off unless set.
  RETENTION_CLOSED_DAYS: days(1).optional(),
  // Erase leads whose last activity (the later of updated_at and their newest timeline entry) is
  // this many days old; off unless set.
  RETENTION_INACTIVE_DAYS: days(1).optional(),
  // Strip the personal fields of delivered and dead events this many days after they were written.
  EVENT_PAYLOAD_RETENTION_DAYS: days(1).default(30),
  // Drop audit rows older than this; the database refuses anything under its own floor of 90 days.
  AUDIT_RETENTION_DAYS: days(AUDIT_RETENTION_MIN_DAYS).default(730),
  // How often each instance tries a run (one instance at a time does it, under an advisory lock).
  RETENTION_INTERVAL_MS: ms(3_600_000, 1_000).pipe(z.number().max(86_400_000, 'must be at most 86400000 (a day)')),
  // Leads erased (each in its own transaction), or payloads stripped / audit rows dropped per statement.
  RETENTION_BATCH_SIZE: z.coerce.number({ error: 'must be a whole number' }).int().min(1).max(10_000).default(500),
  // Connections of the pool a run holds to erase leads side by side (the first also holds the lock).
  RETENTION_CONCURRENCY: z.coerce.number({ error: 'must be a whole number' }).int().min(1).max(8).default(2),
  // How often each instance folds the count and stage changes writes append (see ops/fold.ts).
  FOLD_INTERVAL_MS: ms(500, 10).pipe(z.number().max(60_000, 'must be at most 60000 (a minute)')),
  // Leads whose stage rows one fold recomputes at most (count changes are folded all at once).
  FOLD_BATCH_SIZE: z.coerce.number({ error: 'must be a whole number' }).int().min(1).max(100_000).default(5_000),
});

export type Env = z.output<typeof EnvSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

export function parseEnv(source: Record<string, string | undefined>): Env {
  // An empty variable means "not set", as it does in most deployment tools.
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = EnvSchema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const env = result.data;
  if (env.NODE_ENV === 'production') {
    const problems = [
      ...(env.DATABASE_URL ? [] : ['DATABASE_URL: is required when NODE_ENV=production']),
      ...(env.AUTH_JWT_SECRET || env.AUTH_JWKS_URL
        ? []
        : ['AUTH_JWT_SECRET: is required when NODE_ENV=production, unless AUTH_JWKS_URL is set']),
      ...(env.ERASURE_HASH_SECRET ? [] : ['ERASURE_HASH_SECRET: is required when NODE_ENV=production']),
    ];
    if (problems.length) throw new ConfigError(problems);
  }
  // A run holds its connections from the pool: requests must keep some.
  if (env.RETENTION_CONCURRENCY >= env.DB_POOL_MAX) {
    throw new ConfigError(['RETENTION_CONCURRENCY: must be smaller than DB_POOL_MAX']);
  }
  // A lease shorter than a delivery would let a second dispatcher send an event still in flight.
  if (env.EVENT_LEASE_MS <= env.EVENT_DELIVERY_TIMEOUT_MS) {
    throw new ConfigError(['EVENT_LEASE_MS: must be longer than EVENT_DELIVERY_TIMEOUT_MS']);
  }
  return env;
}

export function loadEnv(): Env {
  return parseEnv(process.env);
}
