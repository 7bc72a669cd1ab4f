import { Migration } from '@mikro-orm/migrations';

/** The columns of a lead whose change moves its counts (`lead_counts_on_update`). */
const COUNTED = ['status', 'source', 'assigned_to'];
/** The columns of a lead whose change moves its stage rows (`lead_stages_on_lead_update`). */
const STAGED = ['created_at', 'source', 'status', 'assigned_to', 'utm_source', 'utm_medium', 'utm_campaign', 'closed_at'];
const columnList = (columns: string[]) => columns.map((c) => `"${c}"`).join(', ');
const row = (record: 'old' | 'new', columns: string[]) => `(${columns.map((c) => `${record}.${c}`).join(', ')})`;

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
    this.addSql(`create or replace function "lead"."lead_counts_apply"() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' then
    if ${row('new', COUNTED)} is not distinct from ${row('old', COUNTED)} then
      return null;
    end if;
  end if;
  insert into lead.lead_count_changes (status, source, assigned_to, n)
  select new.status, new.source, coalesce(new.assigned_to, '00000000-0000-0000-0000-000000000000'::uuid), 1
  where tg_op in ('INSERT', 'UPDATE')
  union all
  select old.status, old.source, coalesce(old.assigned_to, '00000000-0000-0000-0000-000000000000'::uuid), -1
  where tg_op in ('UPDATE', 'DELETE');
  return null;
end
$$;`);
    this.addSql(`create or replace function "lead"."lead_stages_on_lead"() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' then
    if ${row('new', STAGED)} is not distinct from ${row('old', STAGED)} then
      return null;
    end if;
  end if;
  insert into lead.lead_stage_changes (lead_id) values (case when tg_op = 'DELETE' then old.id else new.id end);
  return null;
end
$$;`);
    this.triggers(false);
  }

  /** The `when` clauses come back; the functions keep their tests, which they then always pass. */
  override async down(): Promise<void> {
    this.triggers(true);
  }

  private triggers(withWhen: boolean): void {
    const when = (columns: string[]) =>
      withWhen ? ` when (${columns.map((c) => `old.${c} is distinct from new.${c}`).join(' or ')})` : '';
    for (const [name, columns, fn] of [
      ['lead_counts_on_update', COUNTED, 'lead_counts_apply'],
      ['lead_stages_on_lead_update', STAGED, 'lead_stages_on_lead'],
    ] as const) {
      this.addSql(`drop trigger "${name}" on "lead"."leads";`);
      this.addSql(
        `create constraint trigger "${name}" after update of ${columnList([...columns])} on "lead"."leads" deferrable initially deferred for each row${when([...columns])} execute function "lead"."${fn}"();`,
      );
    }
  }
}
