import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, MikroORM, type Options } from '@mikro-orm/postgresql';
import { AuditLog } from './entities/audit-log.js';
import { IdempotencyKey } from './entities/idempotency-key.js';
import { Lead } from './entities/lead.js';
import { LeadActivity } from './entities/lead-activity.js';
import { LeadAttribution } from './entities/lead-attribution.js';
import { LeadCount } from './entities/lead-count.js';
import { OutboxEvent } from './entities/outbox-event.js';
import { migrationsList } from './migrations/index.js';

export const entities = [Lead, LeadActivity, LeadAttribution, LeadCount, OutboxEvent, AuditLog, IdempotencyKey];

export interface OrmOptions {
  clientUrl: string;
  /** Connection pool bounds; the embedded database accepts a single connection. */
  pool?: { min: number; max: number };
  /** Receives MikroORM's own log lines (SQL is only logged at debug level, without parameters). */
  logger?: (message: string) => void;
  debug?: boolean;
}

export function ormConfig(options: OrmOptions): Options {
  return defineConfig({
    clientUrl: options.clientUrl,
    entities,
    extensions: [Migrator],
    forceUtcTimezone: true,
    pool: options.pool ?? { min: 0, max: 10 },
    debug: options.debug ?? false,
    // Parameters hold personal data; SQL logs must never show them.
    logger: options.logger ?? (() => {}),
    highlighter: undefined,
    migrations: {
      tableName: 'lead.mikro_orm_migrations',
      migrationsList,
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
