import {
  Database,
  LEAD_RULES,
  PrivacyRepository,
  RetentionRepository,
  countOfRule,
  ruleMatches,
  isDatabaseUnavailable,
  type AuditEntry,
  type LeadRule,
  type MikroORM,
  type RetentionRules,
} from '@lead/db';
import type { FastifyBaseLogger } from 'fastify';
import type { Env } from '../env.js';

export interface RetentionConfig {
  rules: RetentionRules;
  intervalMs: number;
  batchSize: number;
  /** Connections that erase leads side by side during a run. */
  concurrency: number;
  /** Whether runs take the advisory lock (all but the embedded database, which also gets one worker). */
  lock: boolean;
}

/** The settings the retention job and its preview read. */
export type RetentionEnv = Pick<
  Env,
  | 'RETENTION_CLOSED_DAYS'
  | 'RETENTION_INACTIVE_DAYS'
  | 'EVENT_PAYLOAD_RETENTION_DAYS'
  | 'AUDIT_RETENTION_DAYS'
  | 'RETENTION_INTERVAL_MS'
  | 'RETENTION_BATCH_SIZE'
  | 'RETENTION_CONCURRENCY'
>;

/** The retention settings of `env`. */
export function retentionConfig(env: RetentionEnv): RetentionConfig {
  return {
    rules: {
      closedDays: env.RETENTION_CLOSED_DAYS ?? null,
      inactiveDays: env.RETENTION_INACTIVE_DAYS ?? null,
      eventPayloadDays: env.EVENT_PAYLOAD_RETENTION_DAYS,
      auditDays: env.AUDIT_RETENTION_DAYS,
    },
    intervalMs: env.RETENTION_INTERVAL_MS,
    batchSize: env.RETENTION_BATCH_SIZE,
    concurrency: env.RETENTION_CONCURRENCY,
    lock: true,
  };
}

// An arbitrary constant that names "the retention run" among advisory locks (migrations use …001).
export const RETENTION_LOCK_KEY = 7_150_245_002;

/** The first run comes this soon after start (or one interval, if shorter), not a whole interval later. */
const FIRST_RUN_MAX_DELAY_MS = 10_000;

/**
 * Applies the retention rules now and then. Every instance runs one; each run takes a
 * session advisory lock first and is skipped when another instance holds it, so one instance at
 * a time does a run. Leads are erased in batches, each by the erasure's `eraseLead` in a
 * transaction of its own, after its rule is checked again (so a lead reopened since it was picked
 * stays, and a lead another transaction holds is left to the next run instead of waited for).
 * Creates take no lock a run holds.
 */
export class RetentionJob {
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<unknown> | undefined;

  constructor(
    private readonly db: Database,
    private readonly config: RetentionConfig,
    private readonly erasureHashSecret: string,
    private readonly log: FastifyBaseLogger,
  ) {}

  start(): void {
    this.schedule(Math.min(this.config.intervalMs, FIRST_RUN_MAX_DELAY_MS));
  }

  /** No new run starts; a run in progress stops after its current lead or batch (waited for at most `graceMs`). */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([this.current, new Promise((resolve) => (timeout = setTimeout(resolve, graceMs)))]);
    clearTimeout(timeout);
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.current = this.runOnce()
        .catch((error: unknown) => this.log.error({ err: error }, 'retention run failed'))
        .finally(() => this.schedule(this.config.intervalMs));
    }, delayMs);
    this.timer.unref();
  }

  /**
   * One run, unless another instance is doing one: its id, or null when skipped. The run works on
   * connections held for it (the one holding the lock, and `RETENTION_CONCURRENCY - 1` more for
   * erasing leads side by side): it never queues behind requests for a connection, and takes no
   * more than those from the pool.
   */
  async runOnce(): Promise<string | null> {
    // The embedded database has one connection and one process: holding it for the run would
    // keep every request waiting, and there is no other instance to keep out.
    if (!this.config.lock) return this.run(this.db, [this.db]);
    return this.db.session(async (session) => {
      const [lock] = await session.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [RETENTION_LOCK_KEY]);
      if (!lock?.locked) {
        this.log.debug('retention run skipped: another instance is doing one');
        return null;
      }
      try {
        await session.query('set synchronous_commit = off');
        return await this.withSessions(this.config.concurrency - 1, (others) => this.run(session, [session, ...others]));
      } finally {
        // Ending the session would release the lock too.
        await session.query('reset synchronous_commit').catch(() => {});
        await session.query('select pg_advisory_unlock($1)', [RETENTION_LOCK_KEY]).catch(() => {});
      }
    });
  }

  /**
   * `work` with `n` more sessions. Commits on the run's sessions need not wait for the disk: an erasure a crash
   * loses is one its rule still matches, and the next run erases it again (with its event, written
   * in the same transaction); that alone makes a run several times faster. Each connection goes
   * back to the pool as it came, so requests' commits do wait.
   */
  private async withSessions<T>(n: number, work: (sessions: Database[]) => Promise<T>, held: Database[] = []): Promise<T> {
    if (held.length === n) return work(held);
    return this.db.session(async (session) => {
      await session.query('set synchronous_commit = off');
      try {
        return await this.withSessions(n, work, [...held, session]);
      } finally {
        await session.query('reset synchronous_commit').catch(() => {});
      }
    });
  }

  /** A run on `db`, erasing leads on `workers` (each a connection of its own, or all the same one). */
  private async run(db: Database, workers: Database[]): Promise<string> {
    const { rules, batchSize } = this.config;
    const repo = new RetentionRepository(db);
    const asOf = new Date();
    const id = await repo.startRun(rules, asOf);
    const started = Date.now();
    try {
      // Payloads first: erasing a lead strips its payloads too, and the preview counts each rule
      // on its own, so that order keeps every count of the run equal to the preview's.
      await this.stripEvents(repo, id, asOf);
      while (!this.stopping) {
        const dropped = await repo.pruneAudit(rules.auditDays, batchSize);
        await repo.addToRun(id, { auditRows: dropped });
        if (dropped < batchSize) break;
      }
      for (const rule of LEAD_RULES) await this.eraseLeads(repo, workers, id, rule, asOf);
      await repo.finishRun(id, this.stopping ? 'interrupted' : 'completed');
    } catch (error) {
      await repo.finishRun(id, 'failed', describe(error)).catch(() => {});
      throw error;
    }
    const record = await repo.run(id);
    this.log.info(
      {
        runId: id,
        ms: Date.now() - started,
        outcome: record?.outcome,
        closedLeads: record?.closedLeads,
        inactiveLeads: record?.inactiveLeads,
        eventPayloads: record?.eventPayloads,
        auditRows: record?.auditRows,
      },
      'retention run finished',
    );
    return id;
  }

  /**
   * Every lead `rule` matches at `asOf`, a batch at a time, the batch shared out among the
   * workers; each lead is erased by the erasure's own `eraseLead` (one transaction per lead,
   * holding its row lock). A lead that cannot be erased now (held by another transaction past
   * the lock timeout) is passed over until the next run; the run fails only when the database
   * itself is gone.
   */
  private async eraseLeads(repo: RetentionRepository, workers: Database[], runId: string, rule: LeadRule, asOf: Date): Promise<void> {
    const { rules, batchSize } = this.config;
    const actor: AuditEntry = { ...RETENTION_ACTOR, requestId: `retention:${runId}` };
    const reason = rule === 'closed' ? `RETENTION_CLOSED_DAYS=${rules.closedDays}` : `RETENTION_INACTIVE_DAYS=${rules.inactiveDays}`;
    const crew = workers.map((db) => ({
      check: new RetentionRepository(db),
      privacy: new PrivacyRepository(db, { erasureHashSecret: this.erasureHashSecret }),
    }));
    // Leads picked but not erased (held elsewhere, or changed since): not picked again this run.
    const passed: string[] = [];
    while (!this.stopping) {
      const ids = await repo.leadsToErase(rules, rule, asOf, batchSize, passed);
      if (ids.length === 0) return;
      let erased = 0;
      let next = 0;
      await Promise.all(
        crew.map(async ({ check, privacy }) => {
          for (let leadId = ids[next++]; leadId !== undefined && !this.stopping; leadId = ids[next++]) {
            try {
              if (!(await check.stillMatches(rules, rule, asOf, leadId))) {
                passed.push(leadId);
                continue;
              }
              // A fresh entry per lead: the audit module marks each entry it has written. The rule is
              // asked again under the lead's lock: a lead reopened in between is not erased.
              const result = await privacy.eraseLeadIf(leadId, { actor: { ...actor }, reason, dryRun: false }, (tx) =>
                ruleMatches(tx, rules, rule, asOf, leadId),
              );
              if (!result || result.alreadyErased) passed.push(leadId);
              else erased++;
            } catch (error) {
              if (isDatabaseUnavailable(error)) throw error;
              passed.push(leadId);
              this.log.warn({ err: error, leadId, rule }, 'retention: lead not erased this run');
            }
          }
        }),
      );
      await repo.addToRun(runId, { [countOfRule[rule]]: erased });
    }
  }

  /** Delivered and dead payloads past their age lose their personal fields, a batch per statement. */
  private async stripEvents(repo: RetentionRepository, runId: string, asOf: Date): Promise<void> {
    const { rules, batchSize } = this.config;
    while (!this.stopping) {
      const stripped = await repo.stripEventPayloads(rules.eventPayloadDays, asOf, batchSize);
      await repo.addToRun(runId, { eventPayloads: stripped });
      if (stripped < batchSize) return;
    }
  }
}

/** Who the trail names for an erasure by rule: no user, the job itself. */
const RETENTION_ACTOR: Omit<AuditEntry, 'requestId'> = {
  actorSub: null,
  actorRole: 'system',
  action: 'retention',
  clientIp: 'internal',
  userAgent: null,
};

/** The job as the service runs it, on `orm`'s pool. */
export function createRetentionJob(
  orm: MikroORM,
  env: RetentionEnv,
  log: FastifyBaseLogger,
  options: { erasureHashSecret: string; lock?: boolean },
): RetentionJob {
  const config = { ...retentionConfig(env), lock: options.lock ?? true };
  return new RetentionJob(Database.of(orm), config, options.erasureHashSecret, log);
}

/** A short reason for a failed run, never a value from the data (driver messages can quote them). */
function describe(error: unknown): string {
  const e = error as { code?: string; name?: string };
  return e.code ? `SQLSTATE ${e.code}` : (e.name ?? 'Error');
}
