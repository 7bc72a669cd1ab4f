import { defineConfig, MikroORM, type Options } from '@mikro-orm/postgresql';
import { AuditLog } from './entities/audit-log.js';
import { Erasure } from './entities/erasure.js';
import { IdempotencyKey } from './entities/idempotency-key.js';
import { Lead } from './entities/lead.js';
import { LeadActivity } from './entities/lead-activity.js';
import { LeadAttribution } from './entities/lead-attribution.js';
import { LeadConsent } from './entities/lead-consent.js';
import { LeadCount, LeadCountChange } from './entities/lead-count.js';
import { LeadSearch } from './entities/lead-search.js';
import { LeadSourceWeek, LeadStage, LeadStageChange, LeadStageWeek } from './entities/lead-stage.js';
import { OutboxEvent } from './entities/outbox-event.js';
import { RetentionRun } from './entities/retention-run.js';
import { MIGRATIONS_TABLE } from './migrate.js';

export const entities = [
  Lead,
  LeadActivity,
  LeadAttribution,
  LeadConsent,
  LeadCount,
  LeadCountChange,
  LeadSearch,
  LeadStage,
  LeadStageWeek,
  LeadSourceWeek,
  LeadStageChange,
  OutboxEvent,
  AuditLog,
  IdempotencyKey,
  Erasure,
  RetentionRun,
];

export interface OrmOptions {
  clientUrl: string;
  /** Connection pool bounds; the embedded database accepts a single connection. */
  pool?: { min: number; max: number };
  /** Receives MikroORM's own log lines (SQL is only logged at debug level, without parameters). */
  logger?: (message: string) => void;
  debug?: boolean;
  /**
   * Bounds on every connection of the pool, so that a locked or overloaded database answers
   * with an error in seconds instead of holding requests for as long as the lock. Unset: none
   * (migrations, which may legitimately run for minutes, take no bounds).
   */
  bounds?: ConnectionBounds;
}

export interface ConnectionBounds {
  /** `statement_timeout`: a statement running longer is cancelled (SQLSTATE 57014). */
  statementTimeoutMs: number;
  /** `lock_timeout`: waiting longer for a lock fails the statement (SQLSTATE 55P03). */
  lockTimeoutMs: number;
  /** `idle_in_transaction_session_timeout`: a transaction left open ends its session. */
  idleInTransactionTimeoutMs: number;
  /** How long a caller waits for a free pool connection before it is refused. */
  acquireTimeoutMs: number;
  /** How long opening one connection may take. */
  connectTimeoutMs: number;
}

export function ormConfig(options: OrmOptions): Options {
  const b = options.bounds;
  return defineConfig({
    clientUrl: options.clientUrl,
    entities,
    forceUtcTimezone: true,
    pool: { ...(options.pool ?? { min: 0, max: 10 }), ...(b ? { acquireTimeoutMillis: b.acquireTimeoutMs } : {}) },
    // Sent with each connection's start-up message, so they hold from its first statement.
    ...(b
      ? {
          driverOptions: {
            connection: {
              statement_timeout: b.statementTimeoutMs,
              lock_timeout: b.lockTimeoutMs,
              idle_in_transaction_session_timeout: b.idleInTransactionTimeoutMs,
              connectionTimeoutMillis: b.connectTimeoutMs,
            },
          },
        }
      : {}),
    // A misspelt database name must be an error, never a new, empty, freshly migrated database.
    ensureDatabase: false,
    debug: options.debug ?? false,
    // Parameters hold personal data; SQL logs must never show them.
    logger: options.logger ?? (() => {}),
    highlighter: undefined,
    // The migrator and the migrations list are added by `migratorOf`, when a migration runs.
    migrations: {
      tableName: MIGRATIONS_TABLE,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
    },
    discovery: { warnWhenNoEntities: true },
  });
}

export async function createOrm(options: OrmOptions): Promise<MikroORM> {
  return MikroORM.init(ormConfig(options));
}
