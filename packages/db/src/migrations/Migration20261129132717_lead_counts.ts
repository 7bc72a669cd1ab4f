import { Migration } from '@mikro-orm/migrations';

/**
 * Maintained counts for the list's `total` (entity `LeadCount`). Deferred constraint triggers
 * apply each insert, delete and filter-changing update at commit: a counter row is then locked
 * only for the commit itself, not across the client round trips of the transaction, so
 * concurrent writers of the same combination (every new website lead) queue only briefly.
 */
export class Migration20261129132717_lead_counts extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "lead"."lead_counts" ("status" text check ("status" in ('new', 'contacted', 'qualified', 'proposal', 'closed_won', 'closed_lost')) not null, "source" text check ("source" in ('website', 'referral', 'social', 'other')) not null, "assigned_to" uuid not null, "n" bigint not null, constraint "lead_counts_pkey" primary key ("status", "source", "assigned_to"));`,
    );

    // An update that changes the combination touches two counter rows: they are written in key
    // order in one statement, so two opposite moves (new→contacted, contacted→new) cannot deadlock.
    this.addSql(`create function "lead"."lead_counts_apply"() returns trigger language plpgsql as $$
begin
  insert into lead.lead_counts as c (status, source, assigned_to, n)
  select d.status, d.source, d.assigned_to, sum(d.n)
  from (
    select new.status, new.source, coalesce(new.assigned_to, '00000000-0000-0000-0000-000000000000'::uuid), 1
    where tg_op in ('INSERT', 'UPDATE')
    union all
    select old.status, old.source, coalesce(old.assigned_to, '00000000-0000-0000-0000-000000000000'::uuid), -1
    where tg_op in ('UPDATE', 'DELETE')
  ) as d (status, source, assigned_to, n)
  group by d.status, d.source, d.assigned_to
  order by d.status, d.source, d.assigned_to
  on conflict (status, source, assigned_to) do update set n = c.n + excluded.n;
  return null;
end
$$;`);
    this.addSql(
      `create constraint trigger "lead_counts_on_insert_or_delete" after insert or delete on "lead"."leads" deferrable initially deferred for each row execute function "lead"."lead_counts_apply"();`,
    );
    this.addSql(
      `create constraint trigger "lead_counts_on_update" after update of "status", "source", "assigned_to" on "lead"."leads" deferrable initially deferred for each row when (old.status is distinct from new.status or old.source is distinct from new.source or old.assigned_to is distinct from new.assigned_to) execute function "lead"."lead_counts_apply"();`,
    );

    // TRUNCATE fires no row triggers: it empties the counts with the leads.
    this.addSql(`create function "lead"."lead_counts_clear"() returns trigger language plpgsql as $$
begin
  delete from lead.lead_counts;
  return null;
end
$$;`);
    this.addSql(
      `create trigger "lead_counts_on_truncate" after truncate on "lead"."leads" for each statement execute function "lead"."lead_counts_clear"();`,
    );

    // The triggers exist (and hold a lock that keeps writers out) before the existing rows are counted.
    this.addSql(
      `insert into "lead"."lead_counts" ("status", "source", "assigned_to", "n") select "status", "source", coalesce("assigned_to", '00000000-0000-0000-0000-000000000000'::uuid), count(*) from "lead"."leads" group by 1, 2, 3;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists "lead_counts_on_truncate" on "lead"."leads";`);
    this.addSql(`drop function if exists "lead"."lead_counts_clear"();`);
    this.addSql(`drop trigger if exists "lead_counts_on_update" on "lead"."leads";`);
    this.addSql(`drop trigger if exists "lead_counts_on_insert_or_delete" on "lead"."leads";`);
    this.addSql(`drop function if exists "lead"."lead_counts_apply"();`);
    this.addSql(`drop table if exists "lead"."lead_counts" cascade;`);
  }
}
