import { Migration } from '@mikro-orm/migrations';

/** Each enumeration's domain, its values and the columns (`[table, column]`) it types, as of this migration. */
const DOMAINS: Record<string, { values: string[]; columns: Array<[table: string, column: string]> }> = {
  lead_status: {
    values: ['new', 'contacted', 'qualified', 'proposal', 'closed_won', 'closed_lost'],
    columns: [
      ['leads', 'status'],
      ['lead_counts', 'status'],
      ['lead_count_changes', 'status'],
      ['lead_stages', 'stage'],
      ['lead_stages', 'status'],
      ['lead_stage_weeks', 'stage'],
    ],
  },
  lead_source: {
    values: ['website', 'referral', 'social', 'other'],
    columns: [
      ['leads', 'source'],
      ['lead_counts', 'source'],
      ['lead_count_changes', 'source'],
      ['lead_stages', 'source'],
      ['lead_stage_weeks', 'source'],
      ['lead_source_weeks', 'source'],
    ],
  },
  lead_priority: { values: ['low', 'medium', 'high'], columns: [['leads', 'priority']] },
  lost_reason: {
    values: ['price', 'timing', 'competitor', 'no_response', 'not_a_fit', 'duplicate', 'other'],
    columns: [['leads', 'lost_reason']],
  },
  activity_type: {
    values: ['created', 'status_changed', 'note_added', 'contacted', 'assigned', 'updated', 'duplicate_detected', 'merged'],
    columns: [['lead_activities', 'activity_type']],
  },
  event_type: {
    values: ['LeadCreated', 'LeadStatusChanged', 'LeadAssigned', 'LeadUpdated', 'LeadMerged', 'LeadErased'],
    columns: [['outbox_events', 'event_type']],
  },
  event_state: { values: ['pending', 'delivered', 'dead'], columns: [['outbox_events', 'state']] },
  retention_outcome: { values: ['running', 'completed', 'failed', 'interrupted'], columns: [['retention_runs', 'outcome']] },
  source_dimension: { values: ['utm_source', 'utm_medium', 'utm_campaign'], columns: [['lead_source_weeks', 'dimension']] },
  source_outcome: { values: ['open', 'won', 'lost'], columns: [['lead_source_weeks', 'outcome']] },
};

const quoted = (values: string[]) => values.map((v) => `'${v}'`).join(', ');
/** The columns of each table, with the domain each one gets. */
const byTable = new Map<string, Array<{ column: string; domain: string; values: string[] }>>();
for (const [domain, { values, columns }] of Object.entries(DOMAINS)) {
  for (const [table, column] of columns) byTable.set(table, [...(byTable.get(table) ?? []), { column, domain, values }]);
}

/**
 * Every enumeration column is typed by a domain instead of carrying a check constraint
 * (issue 18; see `entities/enumeration.ts`). PostgreSQL parsed the twenty check constraints'
 * stored expressions again for every statement that wrote their tables, nine times per status
 * change; a domain's check is read once per connection. Counted with callgrind
 * (bench/pg-instructions, bench/README.md "Session 9"): 21 % fewer PostgreSQL instructions per
 * create, 17 % per status change.
 *
 * The domains get their checks only after the columns have their types, so that no table is
 * rewritten: a column changed to a domain without constraints keeps its data and indexes, and
 * `alter domain … add constraint` then checks the rows in one scan. PostgreSQL refuses to change
 * the type of a column that a view or a trigger's column list or condition uses: those are
 * dropped and created again from their own definitions, read from the catalog.
 */
export class Migration20261203100000_enum_domains extends Migration {
  override async up(): Promise<void> {
    const recreate = await this.dependents();
    for (const domain of Object.keys(DOMAINS)) this.addSql(`create domain "lead"."${domain}" as text;`);
    for (const [table, columns] of byTable) {
      const changes = columns.flatMap(({ column, domain }) => [
        `drop constraint "${table}_${column}_check"`,
        `alter column "${column}" type "lead"."${domain}"`,
      ]);
      this.addSql(`alter table "lead"."${table}" ${changes.join(', ')};`);
    }
    for (const [domain, { values }] of Object.entries(DOMAINS)) {
      this.addSql(`alter domain "lead"."${domain}" add constraint "${domain}_check" check (value in (${quoted(values)}));`);
    }
    recreate();
  }

  override async down(): Promise<void> {
    const recreate = await this.dependents();
    for (const [table, columns] of byTable) {
      const changes = columns.flatMap(({ column, values }) => [
        `alter column "${column}" type text`,
        `add constraint "${table}_${column}_check" check ("${column}" in (${quoted(values)}))`,
      ]);
      this.addSql(`alter table "lead"."${table}" ${changes.join(', ')};`);
    }
    for (const domain of Object.keys(DOMAINS)) this.addSql(`drop domain "lead"."${domain}";`);
    recreate();
  }

  /**
   * Drops the views on the tables and their triggers that name columns (in `update of` or
   * `when`), as the catalog defines them now, and returns what queues their creation again.
   */
  private async dependents(): Promise<() => void> {
    const tables = `array[${[...byTable.keys()].map((t) => `'lead.${t}'::regclass`).join(', ')}]`;
    const views = await this.execute(
      `select distinct v.oid::regclass::text as name, pg_get_viewdef(v.oid) as definition
         from pg_depend d join pg_rewrite r on r.oid = d.objid join pg_class v on v.oid = r.ev_class
        where d.classid = 'pg_rewrite'::regclass and d.refclassid = 'pg_class'::regclass
          and d.refobjid = any(${tables}) and v.oid <> d.refobjid`,
    );
    const triggers = await this.execute(
      `select tgname as name, tgrelid::regclass::text as "table", pg_get_triggerdef(oid) as definition
         from pg_trigger
        where not tgisinternal and tgrelid = any(${tables}) and (tgqual is not null or cardinality(tgattr::int2[]) > 0)`,
    );
    for (const { name } of views) this.addSql(`drop view ${name};`);
    for (const { name, table } of triggers) this.addSql(`drop trigger "${name}" on ${table};`);
    return () => {
      for (const { name, definition } of views) this.addSql(`create view ${name} as ${definition}`);
      for (const { definition } of triggers) this.addSql(`${definition};`);
    };
  }
}
