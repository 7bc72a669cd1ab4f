// First, so that V8's flags are set before the service builds anything (see the module).
import './ops/v8-flags.js';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { createOrm, Database, IdempotencyKeyRepository, migrate, pendingMigrations, type MikroORM } from '@lead/db';
import { pino, type LoggerOptions } from 'pino';
import { createAuthenticator } from './auth.js';
import { devErasureHashSecret, devJwtSecret } from './dev-secret.js';
import type { EmbeddedDatabase } from './embedded-db.js';
import { ConfigError, loadEnv, type Env } from './env.js';
import { dispatcherConfig, EventDispatcher } from './events/dispatcher.js';
import { connectRedis, redisClient } from './http/rate-limit.js';
import { batchedStdout, loggerOptions } from './logger.js';
import { Lifecycle } from './ops/lifecycle.js';
import { serveMetrics } from './ops/metrics-server.js';
import { databaseReadiness } from './ops/readiness.js';
import { createFoldJob } from './ops/fold.js';
import { createRetentionJob } from './ops/retention.js';
import { assertCanListen, describeDatabase, StartupError, waitForDatabase } from './ops/startup.js';
import { startTracing, stopTracing } from './ops/tracing.js';
import { buildServer } from './server.js';

let env: Env;
try {
  env = loadEnv();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

// Human-readable at a developer's terminal; JSON lines everywhere else (and whenever asked).
const pretty = env.LOG_FORMAT === 'pretty' || (env.LOG_FORMAT === 'auto' && env.NODE_ENV === 'development' && process.stdout.isTTY);
const logStream: NodeJS.WritableStream | undefined = pretty
  ? (await import('pino-pretty')).default({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
  : undefined;
const log = pino(loggerOptions(env) as LoggerOptions, logStream ?? pino.destination({ fd: 1, sync: true }));

/** Anything that stops start-up is one line, and exit code 1: a supervisor sees why at a glance. */
function fatal(error: unknown, what = 'start-up failed'): never {
  if (error instanceof StartupError) log.fatal(error.message);
  else log.fatal({ err: error }, `${what}: ${error instanceof Error ? error.message.split('\n', 1)[0] : String(error)}`);
  process.exit(1);
}
process.on('uncaughtException', (error) => fatal(error, 'uncaught exception'));

const tracing = await startTracing(env);

let embedded: EmbeddedDatabase | undefined;
let orm: MikroORM;
let clientUrl: string;
try {
  // Before any database work: a port that is taken fails now, not after the migrations.
  await assertCanListen(env.HOST, env.PORT);
  if (env.METRICS_PORT !== undefined) await assertCanListen(env.HOST, env.METRICS_PORT, 'METRICS_PORT');

  if (env.DATABASE_URL) {
    clientUrl = env.DATABASE_URL;
    await waitForDatabase(clientUrl, { timeoutMs: env.DB_START_TIMEOUT_MS, connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS, log });
    log.info(describeDatabase(clientUrl), 'database reachable');
  } else {
    // Loaded only when used: a service with a real database neither pays for loading PGlite at
    // start-up nor keeps it in memory.
    const { startEmbeddedDatabase } = await import('./embedded-db.js');
    embedded = await startEmbeddedDatabase(join(env.DATA_DIR, 'pg'));
    clientUrl = embedded.url;
  }

  // Migrations run on connections of their own, without the request bounds: a migration may
  // legitimately run for minutes. The embedded database takes one connection, so it is migrated
  // through the service's own pool.
  if (env.MIGRATE_ON_START && !embedded) {
    if ((await pendingMigrations(clientUrl)).length === 0) log.info({ applied: [] }, 'database schema is up to date');
    else {
      const migrator = await createOrm({ clientUrl, pool: { min: 0, max: 1 } });
      try {
        const { applied } = await migrate(migrator, { clientUrl });
        log.info({ applied }, applied.length ? 'migrations applied' : 'database schema is up to date');
      } finally {
        await migrator.close();
      }
    }
  }

  orm = await createOrm({
    clientUrl,
    ...(embedded
      ? { pool: { min: 0, max: 1 } }
      : {
          pool: { min: 0, max: env.DB_POOL_MAX },
          bounds: {
            statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
            lockTimeoutMs: env.DB_LOCK_TIMEOUT_MS,
            idleInTransactionTimeoutMs: env.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
            acquireTimeoutMs: env.DB_POOL_ACQUIRE_TIMEOUT_MS,
            connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
          },
        }),
  });
  if (env.MIGRATE_ON_START && embedded) {
    const { applied } = await migrate(orm, { clientUrl, lock: false });
    log.info({ applied }, applied.length ? 'migrations applied' : 'database schema is up to date');
  }
} catch (error) {
  await embedded?.stop().catch(() => {});
  fatal(error);
}

// In production HS256 is accepted only with an explicit secret; JWKS alone is enough there.
const secret = env.AUTH_JWT_SECRET ?? (env.NODE_ENV === 'production' ? undefined : await devJwtSecret(env.DATA_DIR));
const auth = createAuthenticator({
  secret,
  jwksUrl: env.AUTH_JWKS_URL,
  issuer: env.AUTH_JWT_ISSUER,
  audience: env.AUTH_JWT_AUDIENCE,
  tokenCache: { ttlMs: env.AUTH_TOKEN_CACHE_TTL_MS },
});
const redis = env.REDIS_URL ? redisClient(env.REDIS_URL) : undefined;
const lifecycle = new Lifecycle();
const readiness = databaseReadiness(embedded ? { orm } : { clientUrl }, env.READY_TIMEOUT_MS);
// Required in production (env.ts); elsewhere a secret of its own in DATA_DIR.
const erasureHashSecret = env.ERASURE_HASH_SECRET ?? (await devErasureHashSecret(env.DATA_DIR));
// Start-up's and shutdown's lines (`log`) are written at once; the requests' in batches.
const app = await buildServer({ env, orm, auth, redis, lifecycle, readiness, logStream: logStream ?? batchedStdout(), erasureHashSecret });
if (redis) await connectRedis(redis, app.log);

if (embedded) app.log.warn({ dataDir: join(env.DATA_DIR, 'pg') }, 'DATABASE_URL is not set: using the embedded PostgreSQL');
if (!redis) app.log.warn('REDIS_URL is not set: rate limits are counted in this process only');
if (!env.AUTH_JWT_SECRET && secret)
  app.log.warn('AUTH_JWT_SECRET is not set: using the development secret (`npm run -s token` signs with it)');
if (!env.ERASURE_HASH_SECRET) app.log.warn('ERASURE_HASH_SECRET is not set: erasure records use the development secret in DATA_DIR');
if (tracing) app.log.info('OpenTelemetry tracing is on');

// Idempotency keys are only honoured for 24 hours; older rows are dropped at start and hourly.
const pruneKeys = () =>
  new IdempotencyKeyRepository(Database.of(orm))
    .pruneExpired()
    .then((pruned) => pruned && app.log.info({ pruned }, 'expired idempotency keys pruned'))
    .catch((error: unknown) => app.log.warn({ err: error }, 'pruning idempotency keys failed'));
void pruneKeys();
const pruning = setInterval(() => void pruneKeys(), 3600_000).unref();

// Events are always written to the outbox; without a receiver they wait there, none is dropped.
const delivery = dispatcherConfig(env);
const dispatcher = delivery ? new EventDispatcher(orm, delivery, app.log.child({ component: 'events' }), app.metrics) : undefined;
if (dispatcher) dispatcher.start();
else app.log.warn('NOTIFICATION_SERVICE_URL is not set: events are kept in the outbox until it is');

// Every instance runs the job; an advisory lock lets one at a time do a run.
const retention = createRetentionJob(orm, env, app.log.child({ component: 'retention' }), { erasureHashSecret, lock: !embedded });
retention.start();

// Every instance folds; an advisory lock lets one at a time do it.
const folding = createFoldJob(orm, env, app.log.child({ component: 'fold' }), app.metrics);
folding.start();

let metricsServer: Server | undefined;

/**
 * Readiness fails at once; then the server stops accepting and waits for requests in flight
 * while the dispatcher finishes its deliveries (those still running near the deadline are
 * aborted and their leases released). Past SHUTDOWN_TIMEOUT_MS the process exits anyway, 1.
 */
async function shutdown(signal: string) {
  if (lifecycle.draining) return;
  lifecycle.draining = true;
  const started = Date.now();
  app.log.info({ signal, timeoutMs: env.SHUTDOWN_TIMEOUT_MS }, 'shutting down: draining');
  setTimeout(() => {
    app.log.error({ timeoutMs: env.SHUTDOWN_TIMEOUT_MS }, 'shutdown deadline passed: exiting with work unfinished');
    process.exit(1);
  }, env.SHUTDOWN_TIMEOUT_MS);
  clearInterval(pruning);
  // Deliveries get most of the deadline, leaving time to record their release.
  const deliveryGraceMs = Math.max(0, env.SHUTDOWN_TIMEOUT_MS - 1_000);
  await Promise.all([
    app.close(),
    dispatcher?.stop(deliveryGraceMs),
    retention.stop(deliveryGraceMs),
    folding.stop(),
    new Promise((resolve) => (metricsServer ? metricsServer.close(resolve) : resolve(undefined))),
  ]);
  redis?.disconnect();
  await orm.close();
  await stopTracing();
  await embedded?.stop();
  app.log.info({ ms: Date.now() - started }, 'shut down cleanly');
  process.exit(0);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

try {
  await app.listen({ port: env.PORT, host: env.HOST });
  if (env.METRICS_PORT !== undefined) {
    metricsServer = await serveMetrics(app.metrics, env.HOST, env.METRICS_PORT);
    app.log.info({ port: env.METRICS_PORT }, 'metrics served on their own port');
  }
} catch (error) {
  const e = error as Error & { code?: string };
  fatal(e.code === 'EADDRINUSE' ? new StartupError(`PORT: ${env.HOST}:${env.PORT} is already in use`) : error);
}
