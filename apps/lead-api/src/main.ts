import { join } from 'node:path';
import { createOrm, Database, IdempotencyKeyRepository, migrate } from '@lead/db';
import { createAuthenticator } from './auth.js';
import { devJwtSecret } from './dev-secret.js';
import type { EmbeddedDatabase } from './embedded-db.js';
import { ConfigError, loadEnv, type Env } from './env.js';
import { dispatcherConfig, EventDispatcher } from './events/dispatcher.js';
import { connectRedis, redisClient } from './http/rate-limit.js';
import { buildServer } from './server.js';

let env: Env;
try {
  env = loadEnv();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

let embedded: EmbeddedDatabase | undefined;
let clientUrl = env.DATABASE_URL;
if (!clientUrl) {
  // Loaded only when used: a service with a real database neither pays for loading PGlite at
  // start-up nor keeps it in memory.
  const { startEmbeddedDatabase } = await import('./embedded-db.js');
  embedded = await startEmbeddedDatabase(join(env.DATA_DIR, 'pg'));
  clientUrl = embedded.url;
}

const orm = await createOrm({ clientUrl, ...(embedded ? { pool: { min: 0, max: 1 } } : {}) });
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
const app = await buildServer({ env, orm, auth, redis });
if (redis) await connectRedis(redis, app.log);

if (embedded) app.log.warn({ dataDir: join(env.DATA_DIR, 'pg') }, 'DATABASE_URL is not set: using the embedded PostgreSQL');
if (!redis) app.log.warn('REDIS_URL is not set: rate limits are counted in this process only');
if (!env.AUTH_JWT_SECRET && secret)
  app.log.warn('AUTH_JWT_SECRET is not set: using the development secret (`npm run -s token` signs with it)');

if (env.MIGRATE_ON_START) {
  const { applied } = await migrate(orm, { clientUrl, lock: !embedded });
  app.log.info({ applied }, applied.length ? 'migrations applied' : 'database schema is up to date');
}

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
const dispatcher = delivery ? new EventDispatcher(orm, delivery, app.log.child({ component: 'events' })) : undefined;
if (dispatcher) dispatcher.start();
else app.log.warn('NOTIFICATION_SERVICE_URL is not set: events are kept in the outbox until it is');

let closing = false;
async function shutdown(signal: string) {
  if (closing) return;
  closing = true;
  app.log.info({ signal }, 'shutting down');
  clearInterval(pruning);
  await app.close();
  await dispatcher?.stop();
  redis?.disconnect();
  await orm.close();
  await embedded?.stop();
  process.exit(0);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

await app.listen({ port: env.PORT, host: env.HOST });
