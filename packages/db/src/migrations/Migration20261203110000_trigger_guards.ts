import { Migration } from '@mikro-orm/migrations';
import { APPEND_COUNT_CHANGES, APPEND_STAGE_CHANGE } from './Migration20261202050000_folded_upkeep.js';

/** The columns of a lead whose change moves its counts (`lead_counts_on_update`). */
const COUNTED = ['status', 'source', 'assigned_to'];
/** The columns of a lead whose change moves its stage rows (`lead_stages_on_lead_update`). */
export const STAGED = ['created_at', 'source', 'status', 'assigned_to', 'utm_source', 'utm_medium', 'utm_campaign', 'closed_at'];
const columnList = (columns: readonly string[]) => columns.map((c) => `"${c}"`).join(', ');
const row = (record: 'old' | 'new', columns: readonly string[]) => `(${columns.map((c) => `${record}.${c}`).join(', ')})`;

/** The trigger function `fn`: `append` for an insert, a delete, or an update that changed one of `columns` (with `declare`'s variables). */
export const guardedTrigger = (
  fn: string,
  columns: readonly string[],
  append: string,
  declare = '',
) => `create or replace function "lead"."${fn}"() returns trigger language plpgsql as $$
${declare ? `declare\n  ${declare}\n` : ''}begin
  if tg_op = 'UPDATE' then
    if ${row('new', columns)} is not distinct from ${row('old', columns)} then
      return null;
    end if;
  end if;
  ${append}
  return null;
end
$$;`;

/**
 * The two update triggers of `lead.leads` test whether their columns changed inside their
 * functions instead of in a `when` clause (issue 18). PostgreSQL parses a trigger's `when` from
 * its stored text again for every statement that fires it, where PL/pgSQL keeps its expressions
 * prepared for the connection; the `update of` lists still keep the functions from being called
 * for updates that set none of the columns. Counted with callgrind (bench/pg-instructions,
 * bench/README.md "Session 9"): 8 % fewer PostgreSQL instructions per status change.
 */
export class Migration20261203110000_trigger_guards extends Migration {
  override async up(): Promise<void> {
    this.addSql(guardedTrigger('lead_counts_apply', COUNTED, APPEND_COUNT_CHANGES));
    this.addSql(guardedTrigger('lead_stages_on_lead', STAGED, APPEND_STAGE_CHANGE));
    this.triggers(false);
  }

  /** The `when` clauses come back; the functions keep their tests, which they then always pass. */
  override async down(): Promise<void> {
    this.triggers(true);
  }

  private triggers(withWhen: boolean): void {
    const when = (columns: readonly string[]) =>
      withWhen ? ` when (${columns.map((c) => `old.${c} is distinct from new.${c}`).join(' or ')})` : '';
    for (const [name, columns, fn] of [
      ['lead_counts_on_update', COUNTED, 'lead_counts_apply'],
      ['lead_stages_on_lead_update', STAGED, 'lead_stages_on_lead'],
    ] as const) {
      this.addSql(`drop trigger "${name}" on "lead"."leads";`);
      this.addSql(
        `create constraint trigger "${name}" after update of ${columnList(columns)} on "lead"."leads" deferrable initially deferred for each row${when(columns)} execute function "lead"."${fn}"();`,
      );
    }
  }
}
