import { Database, isStatementCancelled, UpkeepRepository, type MikroORM } from '@lead/db';
import type { FastifyBaseLogger } from 'fastify';
import type { Env } from '../env.js';
import type { FoldObserver } from './metrics.js';

/**
 * Folds the changes the count and stage triggers append into the counts and the stage rows, and
 * the search index's pending list into that index (`UpkeepRepository.fold`), every
 * `FOLD_INTERVAL_MS`, and at once again while a fold finds a full batch. Every instance runs one;
 * folds take turns under an advisory lock, and one that finds the lock taken leaves the work to
 * its holder. The figures never wait for it: a list total adds what is not folded yet and a report
 * folds first. Folding keeps those extra reads short.
 *
 * A fold's batch (at most `batchSize` leads) is sized by how long the last full one took: toward
 * `targetSeconds` (at most doubled at a time), and a quarter of it after a fold the statement
 * timeout cancelled. A backlog written by hand (a bulk update of many leads) is then folded in
 * pieces the database finishes under the load it has, where a fixed batch could be cancelled
 * every time, and a report's fold waits behind one piece, not a whole batch.
 */
export class FoldJob {
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<unknown> | undefined;
  private failing = false;
  private batch: number;

  constructor(
    private readonly upkeep: UpkeepRepository,
    private readonly config: { intervalMs: number; batchSize: number; targetSeconds: number },
    private readonly log: FastifyBaseLogger,
    private readonly observer?: FoldObserver,
  ) {
    this.batch = config.batchSize;
  }

  start(): void {
    this.schedule(this.config.intervalMs);
  }

  /** No new fold starts; one under way is waited for (it is one statement, bounded by the statement timeout). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.current;
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.current = this.foldOnce().then(
        (more) => {
          if (this.failing) this.log.info('folding changes works again');
          this.failing = false;
          this.schedule(more ? 0 : this.config.intervalMs);
        },
        (error: unknown) => {
          // Once per outage, not every interval: the database being away is reported elsewhere too.
          if (!this.failing) this.log.warn({ err: error }, 'folding changes failed; retrying every interval');
          this.failing = true;
          this.schedule(this.config.intervalMs);
        },
      );
    }, delayMs);
    this.timer.unref();
  }

  /** One fold; whether it left stage changes behind (a full batch). */
  async foldOnce(): Promise<boolean> {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    const batch = this.batch;
    const bounded = (size: number) => Math.max(1, Math.min(this.config.batchSize, Math.round(size)));
    try {
      const folded = await this.upkeep.fold(batch);
      const took = seconds();
      this.observer?.folded(folded, took);
      const full = folded.leads >= batch;
      // Only a full batch says how fast the database folds now; a partial one lets it grow back.
      this.batch = bounded(full ? batch * Math.min(2, this.config.targetSeconds / Math.max(took, 0.001)) : batch * 2);
      return full;
    } catch (error) {
      this.observer?.folded('failed', seconds());
      if (isStatementCancelled(error)) this.batch = bounded(Math.floor(batch / 4));
      throw error;
    }
  }
}

/** How long a full fold aims to take: well within the statement timeout, and not long for a report to wait. */
export function foldTargetSeconds(statementTimeoutMs: number): number {
  return statementTimeoutMs > 0 ? Math.min(1, statementTimeoutMs / 4000) : 1;
}

export function createFoldJob(
  orm: MikroORM,
  env: Pick<Env, 'FOLD_INTERVAL_MS' | 'FOLD_BATCH_SIZE' | 'DB_STATEMENT_TIMEOUT_MS'>,
  log: FastifyBaseLogger,
  observer?: FoldObserver,
): FoldJob {
  const config = {
    intervalMs: env.FOLD_INTERVAL_MS,
    batchSize: env.FOLD_BATCH_SIZE,
    targetSeconds: foldTargetSeconds(env.DB_STATEMENT_TIMEOUT_MS),
  };
  return new FoldJob(new UpkeepRepository(Database.of(orm)), config, log, observer);
}
