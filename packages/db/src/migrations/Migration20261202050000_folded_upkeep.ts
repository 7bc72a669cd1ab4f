import { Migration } from '@mikro-orm/migrations';

const FOLD_LOCK = `hashtext('lead.lead_stages_fold')`;

/** What the count trigger appends for a lead's write (+1 for the row it enters, -1 for the one it leaves). */
export const APPEND_COUNT_CHANGES = `insert into lead.lead_count_changes (status, source, assigned_to, n)
  select new.status, new.source, coalesce(new.assigned_to, '00000000-0000-0000-0000-000000000000'::uuid), 1
  where tg_op in ('INSERT', 'UPDATE')
  union all
  select old.status, old.source, coalesce(old.assigned_to, '00000000-0000-0000-0000-000000000000'::uuid), -1
  where tg_op in ('UPDATE', 'DELETE');`;
/** What the stage trigger of lead.leads appends for a lead's write: its id, for the next fold. */
export const APPEND_STAGE_CHANGE = `insert into lead.lead_stage_changes (lead_id) values (case when tg_op = 'DELETE' then old.id else new.id end);`;

/** The stage fold (see `up`), after `first`. */
export const stagesFold = (
  first: string,
) => `create or replace function "lead"."lead_stages_fold"(p_limit int, p_wait boolean) returns int language plpgsql as $$
declare
  ids uuid[];
begin
${first}  if not exists (select 1 from lead.lead_stage_changes) then
    return 0;
  end if;
  if p_wait then
    perform pg_advisory_xact_lock(${FOLD_LOCK});
  elsif not pg_try_advisory_xact_lock(${FOLD_LOCK}) then
    return -1;
  end if;
  with moved as (
    delete from lead.lead_stage_changes
    where id in (select id from lead.lead_stage_changes order by id limit p_limit)
    returning lead_id
  )
  select array_agg(distinct lead_id) into ids from moved;
  if ids is null then
    return 0;
  end if;
  perform lead.lead_stages_refresh_many(ids);
  return cardinality(ids);
end
$$;`;

/** The function of lead.lead_activities' stage triggers, after `first`: appends the lead of a status change. */
export const stagesOnActivity = (
  first: string,
) => `create or replace function "lead"."lead_stages_on_activity"() returns trigger language plpgsql as $$
begin
${first}  insert into lead.lead_stage_changes (lead_id)
  select old.lead_id where tg_op in ('UPDATE', 'DELETE') and old.activity_type = 'status_changed'
  union
  select new.lead_id where tg_op in ('INSERT', 'UPDATE') and new.activity_type = 'status_changed';
  return null;
end
$$;`;

/** Every lead at once (the bench's seed, which writes without triggers), after `first`. */
const rebuild = (first: string) => `create or replace function "lead"."lead_stages_rebuild"() returns void language sql as $$
${first}  delete from lead.lead_stage_weeks;
  delete from lead.lead_source_weeks;
  delete from lead.lead_stages;
  insert into lead.lead_stages select * from lead.lead_stage_rows;
  insert into lead.lead_source_weeks (week, dimension, has_key, key, source, outcome, reached_qualified, leads)
  select c.week, c.dimension, c.has_key, c.key, c.source, c.outcome, c.reached_qualified, count(*)
  from lead.lead_stages s
  cross join lateral lead.lead_source_cells(s.entered_at, s.position, s.source, s.status, s.reached_qualified,
                                            s.utm_source, s.utm_medium, s.utm_campaign) c
  group by c.week, c.dimension, c.has_key, c.key, c.source, c.outcome, c.reached_qualified;
  insert into lead.lead_stage_weeks (week, stage, source, bucket, entered, to_next, to_won, stints, leads)
  select c.week, c.stage, c.source, c.bucket, sum(c.entered), sum(c.to_next), sum(c.to_won), sum(c.stints), sum(c.leads)
  from lead.lead_stages s
  cross join lateral lead.lead_stage_cells(s.entered_at, s.position, s.stage, s.status, s.source, s.bucket, s.seconds,
                                           s.previous_entry_at, s.to_next, s.to_won) c
  group by c.week, c.stage, c.source, c.bucket;
$$;`;

/**
 * The list's counts and the reports' stage rows stop being written by every change. Before, each
 * write's commit updated shared rows (the counter of its status and source, the current week's
 * sums): concurrent writers queued on them, and a status change recomputed its lead twice. The
 * triggers now only append what changed (`lead.lead_count_changes`: +1/-1 per combination;
 * `lead.lead_stage_changes`: the lead's id), and two fold functions apply those rows in bulk:
 * the service calls them every moment, a report calls the stage fold before it reads, and a list
 * total sums the counts and the changes not yet folded. So every figure still counts every
 * committed change, and most of the upkeep's cost is shared among the changes of a fold.
 */
export class Migration20261202050000_folded_upkeep extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "lead"."lead_count_changes" ("id" bigserial primary key, "status" text check ("status" in ('new', 'contacted', 'qualified', 'proposal', 'closed_won', 'closed_lost')) not null, "source" text check ("source" in ('website', 'referral', 'social', 'other')) not null, "assigned_to" uuid not null, "n" int not null);`,
    );
    this.addSql(`create table "lead"."lead_stage_changes" ("id" bigserial primary key, "lead_id" uuid not null);`);

    this.addSql(`create or replace function "lead"."lead_counts_apply"() returns trigger language plpgsql as $$
begin
  ${APPEND_COUNT_CHANGES}
  return null;
end
$$;`);
    // Moves every change into the counts, in key order; one fold at a time (another returns -1 at once).
    this.addSql(`create function "lead"."lead_counts_fold"() returns int language plpgsql as $$
declare
  moved_rows int;
begin
  if not pg_try_advisory_xact_lock(hashtext('lead.lead_counts_fold')) then
    return -1;
  end if;
  with moved as (delete from lead.lead_count_changes returning status, source, assigned_to, n),
  added as (
    insert into lead.lead_counts as c (status, source, assigned_to, n)
    select status, source, assigned_to, sum(n) from moved group by 1, 2, 3 order by 1, 2, 3
    on conflict (status, source, assigned_to) do update set n = c.n + excluded.n
  )
  select count(*)::int into moved_rows from moved;
  return moved_rows;
end
$$;`);
    this.addSql(`create or replace function "lead"."lead_counts_clear"() returns trigger language plpgsql as $$
begin
  delete from lead.lead_count_changes;
  delete from lead.lead_counts;
  return null;
end
$$;`);

    this.addSql(`create or replace function "lead"."lead_stages_on_lead"() returns trigger language plpgsql as $$
begin
  ${APPEND_STAGE_CHANGE}
  return null;
end
$$;`);
    this.addSql(stagesOnActivity(''));
    // Statements that write many leads need no path of their own any more: their changes fold together.
    this.addSql(`drop trigger "lead_stages_on_leads_insert_statement" on "lead"."leads";`);
    this.addSql(`drop trigger "lead_stages_on_leads_update_statement" on "lead"."leads";`);
    this.addSql(`drop function "lead"."lead_stages_on_leads_statement"();`);
    this.addSql(`drop function "lead"."lead_stages_refresh"(uuid);`);

    // Recomputes the leads of the oldest `p_limit` changes (all when null) and deletes those
    // changes, in one transaction. Folds run one at a time (a fold compares the stored rows with
    // the view, so two at once could both add one difference to the sums): `p_wait` false returns
    // -1 at once when another fold holds the lock. Nothing to fold returns 0 without the lock: a
    // change this snapshot does not see was not committed when the caller asked.
    this.addSql(stagesFold(''));
    this.addSql(
      rebuild(`  select pg_advisory_xact_lock(${FOLD_LOCK});
  delete from lead.lead_stage_changes;
`),
    );
    this.addSql(`create or replace function "lead"."lead_stages_clear"() returns trigger language plpgsql as $$
begin
  delete from lead.lead_stage_changes;
  delete from lead.lead_stage_weeks;
  delete from lead.lead_source_weeks;
  delete from lead.lead_stages;
  return null;
end
$$;`);
  }

  override async down(): Promise<void> {
    // Back to refreshing at each commit (through the many-leads refresh, which gives the same rows).
    this.addSql(`select lead.lead_counts_fold();`);
    this.addSql(`select lead.lead_stages_fold(null, true);`);
    this.addSql(`create or replace function "lead"."lead_counts_apply"() returns trigger language plpgsql as $$
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
    this.addSql(`create or replace function "lead"."lead_counts_clear"() returns trigger language plpgsql as $$
begin
  delete from lead.lead_counts;
  return null;
end
$$;`);
    this.addSql(`create function "lead"."lead_stages_refresh"(p_lead uuid) returns void language sql as $$
  select lead.lead_stages_refresh_many(array[p_lead]);
$$;`);
    this.addSql(`create or replace function "lead"."lead_stages_on_lead"() returns trigger language plpgsql as $$
begin
  perform lead.lead_stages_refresh(case when tg_op = 'DELETE' then old.id else new.id end);
  return null;
end
$$;`);
    this.addSql(`create or replace function "lead"."lead_stages_on_activity"() returns trigger language plpgsql as $$
begin
  if tg_op in ('UPDATE', 'DELETE') and old.activity_type = 'status_changed' then
    perform lead.lead_stages_refresh(old.lead_id);
  end if;
  if tg_op in ('INSERT', 'UPDATE') and new.activity_type = 'status_changed' then
    perform lead.lead_stages_refresh(new.lead_id);
  end if;
  return null;
end
$$;`);
    this.addSql(`create or replace function "lead"."lead_stages_clear"() returns trigger language plpgsql as $$
begin
  delete from lead.lead_stage_weeks;
  delete from lead.lead_source_weeks;
  delete from lead.lead_stages;
  return null;
end
$$;`);
    this.addSql(rebuild(''));
    this.addSql(`drop function "lead"."lead_stages_fold"(int, boolean);`);
    this.addSql(`drop function "lead"."lead_counts_fold"();`);
    this.addSql(`drop table "lead"."lead_stage_changes";`);
    this.addSql(`drop table "lead"."lead_count_changes";`);
  }
}
