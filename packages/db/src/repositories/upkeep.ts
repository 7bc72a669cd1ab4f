import type { Sql } from '../sql.js';

/** What one fold applied (see `UpkeepRepository.fold`). */
export interface Folded {
  counts: number;
  leads: number;
  searchPages: number;
}

/**
 * The changes the count and stage triggers append (`lead.lead_count_changes`,
 * `lead.lead_stage_changes`, see their migration), applied in bulk, with the search index's
 * pending list. Each instance folds them every moment (`FoldJob`); a report folds the stage
 * changes itself before it reads, and a list total adds the count changes not yet folded, so
 * neither misses a committed change.
 */
export class UpkeepRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * Moves every count change into the counts, recomputes the leads of the oldest `batchSize`
   * stage changes, and merges the search index's pending list into it (which every search reads
   * whole): how many of each it folded (pages, for the search index), -1 where another fold was
   * under way (that one does the work).
   */
  async fold(batchSize: number): Promise<Folded> {
    const [folded] = await this.sql.query<{ counts: number; leads: number; searchPages: string }>(
      'select lead.lead_counts_fold() as counts, lead.lead_stages_fold($1, false) as leads, lead.lead_search_clean() as "searchPages"',
      [batchSize],
    );
    return { ...folded!, searchPages: Number(folded!.searchPages) };
  }

  /** Every stage change committed so far, folded (waiting for a fold under way): the stage rows are then current. */
  async foldStages(): Promise<void> {
    await this.sql.query('select lead.lead_stages_fold(null, true)');
  }
}
