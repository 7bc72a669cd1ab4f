import { Migration } from '@mikro-orm/migrations';

/** The sort ranks with an index of their own (`leads_status_rank_id_idx`, `leads_priority_rank_id_idx`). */
const RANKS = ['status_rank', 'priority_rank'] as const;

/**
 * The sort ranks become inlinable (issue 18). PostgreSQL inlines a SQL function only if it can
 * prove that inlining keeps its answer for a null input: a STRICT function whose body
 * (`array_position`) is not strict itself is never inlined, so every insert and every update of a
 * lead prepared the two index expressions by parsing the function's text again, twice per index.
 * Declared `called on null input` they are inlined (a null status or priority still ranks as
 * null: `array_position` of a null is null), in the indexes' expressions and in the list's
 * `order by` alike, so the indexes still serve that order and need no rebuild. Counted with
 * callgrind (bench/pg-instructions, bench/README.md "Session 8"): 9.8 % fewer PostgreSQL
 * instructions per create, 8.5 % per status change.
 */
export class Migration20261202220000_inline_ranks extends Migration {
  override async up(): Promise<void> {
    for (const rank of RANKS) this.addSql(`alter function "lead"."${rank}"(text) called on null input;`);
  }

  override async down(): Promise<void> {
    for (const rank of RANKS) this.addSql(`alter function "lead"."${rank}"(text) strict;`);
  }
}
