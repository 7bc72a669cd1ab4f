import { Database, UpkeepRepository, type MikroORM } from '@lead/db';
import type { FastifyBaseLogger } from 'fastify';
import type { Env } from '../env.js';
import type { FoldObserver } from './metrics.js';

/**
 * Folds the changes the count and stage triggers append into the counts and the stage rows, and
 * the search index's pending list into that index (`UpkeepRepository.fold`), every `FOLD_INTERVAL_MS`, and at once again while a fold finds a
 * full batch. Every instance runs one; folds take turns under an advisory lock, and one that
 * finds the lock taken leaves the work to its holder. The figures never wait for it: a list total
 * adds what is not folded yet and a report folds first. Folding keeps those extra reads short.
 */
export class FoldJob {
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<unknown> | undefined;
  private failing = false;

  constructor(
    private readonly upkeep: UpkeepRepository,
    private readonly config: { intervalMs: number; batchSize: number },
    private readonly log: FastifyBaseLogger,
    private readonly observer?: FoldObserver,
  ) {}

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
    try {
      const folded = await this.upkeep.fold(this.config.batchSize);
      this.observer?.folded(folded, seconds());
      return folded.leads >= this.config.batchSize;
    } catch (error) {
      this.observer?.folded('failed', seconds());
      throw error;
    }
  }
}

export function createFoldJob(
  orm: MikroORM,
  env: Pick<Env, 'FOLD_INTERVAL_MS' | 'FOLD_BATCH_SIZE'>,
  log: FastifyBaseLogger,
  observer?: FoldObserver,
): FoldJob {
  const config = { intervalMs: env.FOLD_INTERVAL_MS, batchSize: env.FOLD_BATCH_SIZE };
  return new FoldJob(new UpkeepRepository(Database.of(orm)), config, log, observer);
}
