import { Migration } from '@mikro-orm/migrations';

const STAGES = `'new', 'contacted', 'qualified', 'proposal', 'closed_won', 'closed_lost'`;
const SOURCES = `'website', 'referral', 'social', 'other'`;

/**
 * Recomputes many leads' stage rows in one pass and writes only what differs, with its difference
 * to the weekly sums (see `up`); `changes` is how the CTE of those differences is given to
 * PostgreSQL (empty: materialized, as a CTE read twice is).
 */
export const stagesRefreshMany = (
  changes: '' | 'not materialized',
) => `create or replace function "lead"."lead_stages_refresh_many"(p_leads uuid[]) returns void language sql as $$
  with fresh as (select * from lead.lead_stage_rows where lead_id = any(p_leads)),
  old as (select * from lead.lead_stages where lead_id = any(p_leads)),
  added as (select * from fresh except all select * from old),
  removed as (select * from old except all select * from fresh),
  deleted as (
    delete from lead.lead_stages s using removed r
    where s.lead_id = r.lead_id and s.position = r.position
      and not exists (select 1 from added a where a.lead_id = r.lead_id and a.position = r.position)
  ),
  written as (
    insert into lead.lead_stages select * from added
    on conflict (lead_id, position) do update set
      stage = excluded.stage, entered_at = excluded.entered_at, seconds = excluded.seconds, bucket = excluded.bucket,
      previous_entry_at = excluded.previous_entry_at, to_next = excluded.to_next, to_won = excluded.to_won,
      source = excluded.source, status = excluded.status, assigned_to = excluded.assigned_to, utm_source = excluded.utm_source,
      utm_medium = excluded.utm_medium, utm_campaign = excluded.utm_campaign, closed_at = excluded.closed_at,
      reached_qualified = excluded.reached_qualified, days_to_close = excluded.days_to_close
  ),
  changes as ${changes ? `${changes} ` : ''}(select a.*, 1 as sign from added a union all select r.*, -1 from removed r),
  stage_sums as (
    insert into lead.lead_stage_weeks as w (week, stage, source, bucket, entered, to_next, to_won, stints, leads)
    select c.week, c.stage, c.source, c.bucket, sum(c.entered * d.sign), sum(c.to_next * d.sign), sum(c.to_won * d.sign),
           sum(c.stints * d.sign), sum(c.leads * d.sign)
    from changes d
    cross join lateral lead.lead_stage_cells(d.entered_at, d.position, d.stage, d.status, d.source, d.bucket, d.seconds,
                                             d.previous_entry_at, d.to_next, d.to_won) c
    group by c.week, c.stage, c.source, c.bucket
    having sum(c.entered * d.sign) <> 0 or sum(c.to_next * d.sign) <> 0 or sum(c.to_won * d.sign) <> 0
        or sum(c.stints * d.sign) <> 0 or sum(c.leads * d.sign) <> 0
    order by c.week, c.stage, c.source, c.bucket
    on conflict (week, stage, source, bucket) do update set
      entered = w.entered + excluded.entered, to_next = w.to_next + excluded.to_next, to_won = w.to_won + excluded.to_won,
      stints = w.stints + excluded.stints, leads = w.leads + excluded.leads
  )
  insert into lead.lead_source_weeks as w (week, dimension, has_key, key, source, outcome, reached_qualified, leads)
  select c.week, c.dimension, c.has_key, c.key, c.source, c.outcome, c.reached_qualified, sum(d.sign)
  from changes d
  cross join lateral lead.lead_source_cells(d.entered_at, d.position, d.source, d.status, d.reached_qualified,
                                            d.utm_source, d.utm_medium, d.utm_campaign) c
  group by c.week, c.dimension, c.has_key, c.key, c.source, c.outcome, c.reached_qualified
  having sum(d.sign) <> 0
  order by c.week, c.dimension, c.has_key, c.key, c.source, c.outcome, c.reached_qualified
  on conflict (week, dimension, has_key, key, source, outcome, reached_qualified) do update set leads = w.leads + excluded.leads;
$$;`;

/**
 * The status timeline as the reports read it (entities `LeadStage`, `LeadStageWeek`, `LeadSourceWeek`), kept by
 * deferred triggers from what defines it: a lead enters `new` when it is created and a stage with
 * every `status_changed` activity (`details.new_status`). `lead.lead_stage_rows` states that
 * once; `lead.lead_stages` is that view stored, one row per entry with what the reports ask of it
 * (how long it lasted, where the lead went after it, the lead's filter columns); and
 * `lead.lead_stage_weeks` sums those rows per UTC week, stage, source and duration bucket (and
 * `lead.lead_source_weeks` the creation rows per week, utm value, source and outcome), so
 * that a report reads the weeks inside its period as a few sums and only the rows of its two
 * partial weeks. Any write that changes a lead's timeline or filter columns (the service's, or
 * SQL by hand) refreshes that lead at commit: its rows are recomputed from the view and only the
 * differences are written, with their sums.
 */
export class Migration20261202020000_lead_stages extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "lead"."lead_stages" ("lead_id" uuid not null, "position" smallint not null, "stage" text check ("stage" in (${STAGES})) not null, "entered_at" timestamptz not null, "seconds" double precision null, "bucket" smallint null, "previous_entry_at" timestamptz null, "to_next" boolean not null, "to_won" boolean not null, "source" text check ("source" in (${SOURCES})) not null, "status" text check ("status" in (${STAGES})) not null, "assigned_to" uuid null, "utm_source" varchar(200) null, "utm_medium" varchar(200) null, "utm_campaign" varchar(200) null, "closed_at" timestamptz null, "reached_qualified" boolean not null, "days_to_close" double precision null, constraint "lead_stages_pkey" primary key ("lead_id", "position"));`,
    );
    this.addSql(`create index "lead_stages_entered_at_idx" on "lead"."lead_stages" ("entered_at");`);
    this.addSql(
      `create index "lead_stages_stage_bucket_entered_at_idx" on "lead"."lead_stages" ("stage", "bucket", "entered_at") include ("seconds", "source") where "seconds" is not null;`,
    );
    this.addSql(
      `create index "lead_stages_reentered_at_idx" on "lead"."lead_stages" ("entered_at") where "previous_entry_at" is not null;`,
    );
    this.addSql(
      `create table "lead"."lead_stage_weeks" ("week" timestamptz not null, "stage" text check ("stage" in (${STAGES})) not null, "source" text check ("source" in (${SOURCES})) not null, "bucket" smallint not null, "entered" bigint not null, "to_next" bigint not null, "to_won" bigint not null, "stints" bigint not null, "leads" bigint not null, constraint "lead_stage_weeks_pkey" primary key ("week", "stage", "source", "bucket"));`,
    );

    this.addSql(
      `create table "lead"."lead_source_weeks" ("week" timestamptz not null, "dimension" text check ("dimension" in ('utm_source', 'utm_medium', 'utm_campaign')) not null, "has_key" boolean not null, "key" varchar(200) not null, "source" text check ("source" in (${SOURCES})) not null, "outcome" text check ("outcome" in ('open', 'won', 'lost')) not null, "reached_qualified" boolean not null, "leads" bigint not null, constraint "lead_source_weeks_pkey" primary key ("week", "dimension", "has_key", "key", "source", "outcome", "reached_qualified"));`,
    );
    // The sources report's median days to close reads the closed leads' creation rows from this index alone.
    this.addSql(
      `create index "lead_stages_closed_idx" on "lead"."lead_stages" ("entered_at") include ("source", "utm_source", "utm_medium", "utm_campaign", "assigned_to", "status", "days_to_close") where "days_to_close" is not null;`,
    );

    // Every entry in timeline order (its time, the creation first, then the activity id). A
    // filter on lead_id is pushed inside (it is every window's partition), so one lead's rows
    // cost two index lookups.
    this.addSql(`create view "lead"."lead_stage_rows" as
select e.lead_id, e.position, e.stage, e.entered_at, e.seconds,
       case when e.seconds is not null then floor(16 * ln(1 + greatest(e.seconds, 0)) / ln(2))::smallint end as bucket,
       e.previous_entry_at, e.to_next, e.to_won, e.source, e.status, e.assigned_to, e.utm_source, e.utm_medium, e.utm_campaign,
       e.closed_at, e.reached_qualified,
       case when e.position = 0 and e.status in ('closed_won', 'closed_lost') then (extract(epoch from e.closed_at - e.entered_at) / 86400)::double precision end as days_to_close
from (
  select t.lead_id,
         case when t.seq = 0 then 0 else row_number() over (partition by t.lead_id, t.seq order by t.at, t.activity_id) end::smallint as position,
         t.stage, t.at as entered_at,
         extract(epoch from lead(t.at) over w - t.at)::double precision as seconds,
         lag(t.at) over (partition by t.lead_id, t.stage order by t.at, t.seq, t.activity_id) as previous_entry_at,
         coalesce(max(t.rank) over (w rows between 1 following and unbounded following) > t.rank, false) as to_next,
         coalesce(bool_or(t.stage = 'closed_won') over (w rows between 1 following and unbounded following), false) as to_won,
         l.source, l.status, l.assigned_to, l.utm_source, l.utm_medium, l.utm_campaign, l.closed_at,
         l.status in ('qualified', 'proposal', 'closed_won') or bool_or(t.rank between 2 and 4) over (partition by t.lead_id) as reached_qualified
  from (
    select l.id as lead_id, 'new'::text as stage, l.created_at as at, 0 as seq, null::uuid as activity_id, 0 as rank
    from lead.leads l
    union all
    select a.lead_id, a.details->>'new_status', a.created_at, 1, a.id,
           case a.details->>'new_status' when 'new' then 0 when 'contacted' then 1 when 'qualified' then 2 when 'proposal' then 3 when 'closed_won' then 4 else -1 end
    from lead.lead_activities a
    where a.activity_type = 'status_changed'
  ) t
  join lead.leads l on l.id = t.lead_id
  window w as (partition by t.lead_id order by t.at, t.seq, t.activity_id)
) e;`);

    // What one row adds to the weekly sums: its entry (a first entry into its stage counts as
    // entered, with where the lead went next; every finished stay counts in its duration
    // bucket, -1 for none) and, for the creation entry, the lead under its current status.
    this.addSql(`create function "lead"."lead_stage_cells"(
  entered_at timestamptz, "position" smallint, stage text, status text, source text, bucket smallint, seconds double precision,
  previous_entry_at timestamptz, to_next boolean, to_won boolean)
returns table (week timestamptz, stage text, source text, bucket smallint, entered int, to_next int, to_won int, stints int, leads int)
language sql stable parallel safe as $$
  select date_trunc('week', $1, 'UTC'), $3, $5, coalesce($6, -1::smallint),
         ($8 is null)::int, ($8 is null and $9)::int, ($8 is null and $10)::int, ($7 is not null)::int, 0
  union all
  select date_trunc('week', $1, 'UTC'), $4, $5, -1::smallint, 0, 0, 0, 0, 1
  where $2 = 0
$$;`);

    // What a creation row adds to the sources report's weekly sums: its lead, once per utm
    // dimension (the source report sums any one of them by source), as open, won or lost, so
    // that a move between open stages changes no sum.
    this.addSql(`create function "lead"."lead_source_cells"(
  entered_at timestamptz, "position" smallint, source text, status text, reached_qualified boolean,
  utm_source text, utm_medium text, utm_campaign text)
returns table (week timestamptz, dimension text, has_key boolean, key text, source text, outcome text, reached_qualified boolean, leads int)
language sql stable parallel safe as $$
  select date_trunc('week', $1, 'UTC'), d.dimension, d.key is not null, coalesce(d.key, ''), $3,
         case $4 when 'closed_won' then 'won' when 'closed_lost' then 'lost' else 'open' end, $5, 1
  from (values ('utm_source', $6), ('utm_medium', $7), ('utm_campaign', $8)) as d (dimension, key)
  where $2 = 0
$$;`);

    // Recomputes one lead's rows and writes only what differs (and its difference to the sums,
    // in key order, so that two commits of one lead each cannot deadlock on them). The triggers fire at commit,
    // when the timeline is final; a lead written twice in a transaction (a status change updates
    // the lead and adds an activity) is refreshed twice, the second time finding nothing to do.
    this.addSql(`create function "lead"."lead_stages_refresh"(p_lead uuid) returns void language plpgsql as $$
declare
  fresh lead.lead_stages[];
  old lead.lead_stages[];
begin
  -- (Its columns named: a whole-row reference would keep the filter out of the view.)
  select coalesce(array_agg(row(f.lead_id, f.position, f.stage, f.entered_at, f.seconds, f.bucket, f.previous_entry_at, f.to_next,
                                f.to_won, f.source, f.status, f.assigned_to, f.utm_source, f.utm_medium, f.utm_campaign, f.closed_at,
                                f.reached_qualified, f.days_to_close)::lead.lead_stages order by f.position), '{}') into fresh
  from lead.lead_stage_rows f where f.lead_id = p_lead;
  select coalesce(array_agg(s order by s.position), '{}') into old from lead.lead_stages s where s.lead_id = p_lead;
  if fresh = old then
    return;
  end if;
  delete from lead.lead_stages where lead_id = p_lead and position >= cardinality(fresh);
  insert into lead.lead_stages
  select * from unnest(fresh) f where not row(f.*)::lead.lead_stages = any(old)
  on conflict (lead_id, position) do update set
    stage = excluded.stage, entered_at = excluded.entered_at, seconds = excluded.seconds, bucket = excluded.bucket,
    previous_entry_at = excluded.previous_entry_at, to_next = excluded.to_next, to_won = excluded.to_won,
    source = excluded.source, status = excluded.status, assigned_to = excluded.assigned_to, utm_source = excluded.utm_source,
    utm_medium = excluded.utm_medium, utm_campaign = excluded.utm_campaign, closed_at = excluded.closed_at,
    reached_qualified = excluded.reached_qualified, days_to_close = excluded.days_to_close;
  insert into lead.lead_stage_weeks as w (week, stage, source, bucket, entered, to_next, to_won, stints, leads)
  select c.week, c.stage, c.source, c.bucket, sum(c.entered * d.sign), sum(c.to_next * d.sign), sum(c.to_won * d.sign),
         sum(c.stints * d.sign), sum(c.leads * d.sign)
  from (select f.*, 1 as sign from unnest(fresh) f where not row(f.*)::lead.lead_stages = any(old)
        union all
        select o.*, -1 from unnest(old) o where not row(o.*)::lead.lead_stages = any(fresh)) d
  cross join lateral lead.lead_stage_cells(d.entered_at, d.position, d.stage, d.status, d.source, d.bucket, d.seconds,
                                           d.previous_entry_at, d.to_next, d.to_won) c
  group by c.week, c.stage, c.source, c.bucket
  having sum(c.entered * d.sign) <> 0 or sum(c.to_next * d.sign) <> 0 or sum(c.to_won * d.sign) <> 0
      or sum(c.stints * d.sign) <> 0 or sum(c.leads * d.sign) <> 0
  order by c.week, c.stage, c.source, c.bucket
  on conflict (week, stage, source, bucket) do update set
    entered = w.entered + excluded.entered, to_next = w.to_next + excluded.to_next, to_won = w.to_won + excluded.to_won,
    stints = w.stints + excluded.stints, leads = w.leads + excluded.leads;
  insert into lead.lead_source_weeks as w (week, dimension, has_key, key, source, outcome, reached_qualified, leads)
  select c.week, c.dimension, c.has_key, c.key, c.source, c.outcome, c.reached_qualified, sum(d.sign)
  from (select f.*, 1 as sign from unnest(fresh) f where f.position = 0 and not row(f.*)::lead.lead_stages = any(old)
        union all
        select o.*, -1 from unnest(old) o where o.position = 0 and not row(o.*)::lead.lead_stages = any(fresh)) d
  cross join lateral lead.lead_source_cells(d.entered_at, d.position, d.source, d.status, d.reached_qualified,
                                            d.utm_source, d.utm_medium, d.utm_campaign) c
  group by c.week, c.dimension, c.has_key, c.key, c.source, c.outcome, c.reached_qualified
  having sum(d.sign) <> 0
  order by c.week, c.dimension, c.has_key, c.key, c.source, c.outcome, c.reached_qualified
  on conflict (week, dimension, has_key, key, source, outcome, reached_qualified) do update set leads = w.leads + excluded.leads;
end
$$;`);

    // The same for many leads in one pass: a statement that writes many leads (an import, a fix
    // by hand) refreshes them here at once, so that their refreshes at commit find nothing left.
    this.addSql(stagesRefreshMany(''));

    // Every lead at once (this migration, and the bench's seed, which writes without triggers).
    this.addSql(`create function "lead"."lead_stages_rebuild"() returns void language sql as $$
  delete from lead.lead_stage_weeks;
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
$$;`);

    this.addSql(`create function "lead"."lead_stages_on_lead"() returns trigger language plpgsql as $$
begin
  perform lead.lead_stages_refresh(case when tg_op = 'DELETE' then old.id else new.id end);
  return null;
end
$$;`);
    this.addSql(`create function "lead"."lead_stages_on_activity"() returns trigger language plpgsql as $$
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
    this.addSql(`create function "lead"."lead_stages_clear"() returns trigger language plpgsql as $$
begin
  delete from lead.lead_stage_weeks;
  delete from lead.lead_source_weeks;
  delete from lead.lead_stages;
  return null;
end
$$;`);
    this.addSql(
      `create constraint trigger "lead_stages_on_lead_insert_or_delete" after insert or delete on "lead"."leads" deferrable initially deferred for each row execute function "lead"."lead_stages_on_lead"();`,
    );
    this.addSql(
      `create constraint trigger "lead_stages_on_lead_update" after update of "created_at", "source", "status", "assigned_to", "utm_source", "utm_medium", "utm_campaign", "closed_at" on "lead"."leads" deferrable initially deferred for each row when (old.created_at is distinct from new.created_at or old.source is distinct from new.source or old.status is distinct from new.status or old.assigned_to is distinct from new.assigned_to or old.utm_source is distinct from new.utm_source or old.utm_medium is distinct from new.utm_medium or old.utm_campaign is distinct from new.utm_campaign or old.closed_at is distinct from new.closed_at) execute function "lead"."lead_stages_on_lead"();`,
    );
    this.addSql(
      `create constraint trigger "lead_stages_on_activity_insert" after insert on "lead"."lead_activities" deferrable initially deferred for each row when (new.activity_type = 'status_changed') execute function "lead"."lead_stages_on_activity"();`,
    );
    this.addSql(
      `create constraint trigger "lead_stages_on_activity_update" after update of "lead_id", "activity_type", "details", "created_at" on "lead"."lead_activities" deferrable initially deferred for each row when (old.activity_type = 'status_changed' or new.activity_type = 'status_changed') execute function "lead"."lead_stages_on_activity"();`,
    );
    this.addSql(
      `create constraint trigger "lead_stages_on_activity_delete" after delete on "lead"."lead_activities" deferrable initially deferred for each row when (old.activity_type = 'status_changed') execute function "lead"."lead_stages_on_activity"();`,
    );
    this.addSql(`create function "lead"."lead_stages_on_leads_statement"() returns trigger language plpgsql as $$
begin
  if (select count(*) from changed) > 50 then
    perform lead.lead_stages_refresh_many(array(select id from changed));
  end if;
  return null;
end
$$;`);
    this.addSql(
      `create trigger "lead_stages_on_leads_insert_statement" after insert on "lead"."leads" referencing new table as changed for each statement execute function "lead"."lead_stages_on_leads_statement"();`,
    );
    this.addSql(
      `create trigger "lead_stages_on_leads_update_statement" after update on "lead"."leads" referencing new table as changed for each statement execute function "lead"."lead_stages_on_leads_statement"();`,
    );
    this.addSql(
      `create trigger "lead_stages_on_truncate" after truncate on "lead"."leads" for each statement execute function "lead"."lead_stages_clear"();`,
    );

    // The triggers exist (and this transaction's lock keeps writers out) before the timeline is read.
    this.addSql(`select lead.lead_stages_rebuild();`);
    this.addSql(`analyze "lead"."lead_stages", "lead"."lead_stage_weeks", "lead"."lead_source_weeks";`);

    // The reports no longer read the activities by time.
    this.addSql(`drop index "lead"."lead_activities_status_changed_created_at_idx";`);
  }

  override async down(): Promise<void> {
    this.addSql(
      `create index "lead_activities_status_changed_created_at_idx" on "lead"."lead_activities" ("created_at", "lead_id") where "activity_type" = 'status_changed';`,
    );
    this.addSql(`drop trigger if exists "lead_stages_on_truncate" on "lead"."leads";`);
    this.addSql(`drop trigger if exists "lead_stages_on_leads_update_statement" on "lead"."leads";`);
    this.addSql(`drop trigger if exists "lead_stages_on_leads_insert_statement" on "lead"."leads";`);
    this.addSql(`drop function if exists "lead"."lead_stages_on_leads_statement"();`);
    this.addSql(`drop trigger if exists "lead_stages_on_activity_delete" on "lead"."lead_activities";`);
    this.addSql(`drop trigger if exists "lead_stages_on_activity_update" on "lead"."lead_activities";`);
    this.addSql(`drop trigger if exists "lead_stages_on_activity_insert" on "lead"."lead_activities";`);
    this.addSql(`drop trigger if exists "lead_stages_on_lead_update" on "lead"."leads";`);
    this.addSql(`drop trigger if exists "lead_stages_on_lead_insert_or_delete" on "lead"."leads";`);
    this.addSql(`drop function if exists "lead"."lead_stages_clear"();`);
    this.addSql(`drop function if exists "lead"."lead_stages_on_activity"();`);
    this.addSql(`drop function if exists "lead"."lead_stages_on_lead"();`);
    this.addSql(`drop function if exists "lead"."lead_stages_rebuild"();`);
    this.addSql(`drop function if exists "lead"."lead_stages_refresh_many"(uuid[]);`);
    this.addSql(`drop function if exists "lead"."lead_stages_refresh"(uuid);`);
    this.addSql(`drop function if exists "lead"."lead_source_cells"(timestamptz, smallint, text, text, boolean, text, text, text);`);
    this.addSql(
      `drop function if exists "lead"."lead_stage_cells"(timestamptz, smallint, text, text, text, smallint, double precision, timestamptz, boolean, boolean);`,
    );
    this.addSql(`drop view if exists "lead"."lead_stage_rows";`);
    this.addSql(`drop table if exists "lead"."lead_source_weeks" cascade;`);
    this.addSql(`drop table if exists "lead"."lead_stage_weeks" cascade;`);
    this.addSql(`drop table if exists "lead"."lead_stages" cascade;`);
  }
}
