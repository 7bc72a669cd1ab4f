import type { Sql } from '../sql.js';

/**
 * The changes the count and stage triggers append (`lead.lead_count_changes`,
 * `lead.lead_stage_changes`, see their migration), applied in bulk. Each instance folds them
 * every moment (`FoldJob`); a report folds the stage changes itself before it reads, and a list
 * total adds the count changes not yet folded, so neither misses a committed change.
 */
export class UpkeepRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Moves every count change into the counts, and recomputes the leads of the oldest `batchSize`
   * stage changes: how many of each it folded, -1 where another fold was under way (that one
   * does the work).
   */
  async fold(batchSize: number): Promise<{ counts: number; leads: number }> {
    const [folded] = await this.sql.query<{ counts: number; leads: number }>(
      'select lead.lead_counts_fold() as counts, lead.lead_stages_fold($1, false) as leads',
      [batchSize],
    );
    return folded!;
  }

  /** Every stage change committed so far, folded (waiting for a fold under way): the stage rows are then current. */
  async foldStages(): Promise<void> {
    await this.sql.query('select lead.lead_stages_fold(null, true)');
  }
}
