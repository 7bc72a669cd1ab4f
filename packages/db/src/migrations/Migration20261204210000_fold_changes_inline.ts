import { Migration } from '@mikro-orm/migrations';
import { stagesRefreshMany } from './Migration20261202020000_lead_stages.js';

/**
 * The stage fold no longer stores its differences a second time (issue 18). `changes` (each
 * added row +1, each removed one -1), read by the two weekly sums, was a CTE PostgreSQL
 * materialized: every changed row, all 19 columns, written to a tuple store and read back twice.
 * Not materialized, each sum reads the rows of `added` and `removed` (stored once already) itself.
 * The same rows and sums; counted with callgrind (bench/pg-instructions): 4.5 % fewer PostgreSQL
 * instructions per status change, 1.1 % per create.
 */
export class Migration20261204210000_fold_changes_inline extends Migration {
  override async up(): Promise<void> {
    this.addSql(stagesRefreshMany('not materialized'));
  }

  override async down(): Promise<void> {
    this.addSql(stagesRefreshMany(''));
  }
}
