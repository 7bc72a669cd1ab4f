import type { LeadStatus } from '../entities/lead.js';
import type { Database, Sql } from '../sql.js';
import { leadConditions, type LeadFilter, type LeadScope } from './leads.js';

/** A half-open period `[from, to)`; an open end is unbounded. */
export interface Period {
  from: Date | null;
  to: Date | null;
}

export interface StageRow {
  stage: LeadStatus;
  entered: number;
  convertedToNext: number;
  convertedToWon: number;
  stints: number;
  medianSeconds: number | null;
  p90Seconds: number | null;
}

export interface PipelineFigures {
  byStatus: Partial<Record<LeadStatus, number>>;
  stages: StageRow[];
}

export const REPORT_DIMENSIONS = {
  source: 'source',
  utm_source: 'utm_source',
  utm_medium: 'utm_medium',
  utm_campaign: 'utm_campaign',
} as const;
export type ReportDimension = keyof typeof REPORT_DIMENSIONS;

export interface SourceRow {
  key: string | null;
  leads: number;
  reachedQualified: number;
  won: number;
  lost: number;
  medianDaysToClose: number | null;
}

// Where a stage is in the pipeline; `closed_lost` (-1) is nobody's next stage.
const STAGE_RANK = `case stage when 'new' then 0 when 'contacted' then 1 when 'qualified' then 2 when 'proposal' then 3 when 'closed_won' then 4 else -1 end`;
const QUALIFIED_OR_BEYOND = `('qualified', 'proposal', 'closed_won')`;

const bounds = (period: Period) => [period.from ?? '-infinity', period.to ?? 'infinity'];
const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));

/**
 * Figures over the leads matching the list's filters and the caller's scope, computed from the
 * status timeline: each lead enters `new` when it is created and every other stage with a
 * `status_changed` activity (its `details.new_status`). Only counts and durations leave here.
 */
export class ReportRepository {
  constructor(private readonly db: Database) {}

  /**
   * Runs a report's statements in one read-only transaction, so they see one snapshot (the
   * figures agree with each other), with room to sort in memory: a period's timeline is
   * hundreds of thousands of rows at a million leads, and the default 4 MB spills to disk.
   */
  private reading<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      await tx.query(`set transaction isolation level repeatable read, read only`);
      await tx.query(`set local work_mem = '64MB'`);
      // JIT compiling these plans took longer than running them.
      await tx.query('set local jit = off');
      return work(tx);
    });
  }

  async pipeline(period: Period, filter: LeadFilter, scope: LeadScope): Promise<PipelineFigures> {
    const { where, params } = leadConditions(filter, scope, 2, 'l.');
    const and = where ? `${where} and` : ' where';
    const values = [...bounds(period), ...params];
    const [statusRows, stageRows] = await this.reading(async (sql) => [
      await sql.query<{ status: LeadStatus; n: string }>(
        `select l.status, count(*) as n from lead.leads l${and} l.created_at >= $1 and l.created_at < $2 group by l.status`,
        values,
      ),
      // Every figure looks only forward from an entry in the period (where the lead went next,
      // how long it stayed), so entries before the period are never read: the timeline starts
      // at `from`, from the (created_at) index of the leads and the partial index of the moves.
      await sql.query<Record<string, string | number | null>>(
        `with timeline as (
           select l.id as lead_id, 'new' as stage, l.created_at as at, 0 as seq, null::uuid as activity_id
             from lead.leads l${and} l.created_at >= $1
           union all
           select a.lead_id, a.details->>'new_status', a.created_at, 1, a.id
             from lead.lead_activities a join lead.leads l on l.id = a.lead_id
            ${and.replace(' where', 'where')} a.activity_type = 'status_changed' and a.created_at >= $1
         ),
         ranked as (select lead_id, stage, at, seq, activity_id, ${STAGE_RANK} as rank from timeline),
         entries as (
           select lead_id, stage, at, seq, activity_id, rank,
                  lead(at) over w as left_at,
                  max(rank) over (w rows between 1 following and unbounded following) as later_rank,
                  bool_or(stage = 'closed_won') over (w rows between 1 following and unbounded following) as later_won
             from ranked
           window w as (partition by lead_id order by at, seq, activity_id)
         ),
         in_period as (select * from entries where at < $2),
         firsts as (
           select distinct on (lead_id, stage) * from in_period order by lead_id, stage, at, seq, activity_id
         )
         select coalesce(e.stage, s.stage) as stage, e.entered, e.to_next, e.to_won, s.stints, s.p50, s.p90
           from (select stage, count(*) as entered,
                        count(*) filter (where later_rank > rank) as to_next,
                        count(*) filter (where later_won) as to_won
                   from firsts group by stage) e
           full join (select stage, count(*) as stints,
                             percentile_cont(0.5) within group (order by extract(epoch from left_at - at)) as p50,
                             percentile_cont(0.9) within group (order by extract(epoch from left_at - at)) as p90
                        from in_period where left_at is not null group by stage) s
             on s.stage = e.stage`,
        values,
      ),
    ]);
    return {
      byStatus: Object.fromEntries(statusRows.map((r) => [r.status, Number(r.n)])),
      stages: stageRows.map((r) => ({
        stage: r.stage as LeadStatus,
        entered: Number(r.entered ?? 0),
        convertedToNext: Number(r.to_next ?? 0),
        convertedToWon: Number(r.to_won ?? 0),
        stints: Number(r.stints ?? 0),
        medianSeconds: num(r.p50),
        p90Seconds: num(r.p90),
      })),
    };
  }

  async sources(dimension: ReportDimension, period: Period, filter: LeadFilter, scope: LeadScope): Promise<SourceRow[]> {
    const column = REPORT_DIMENSIONS[dimension];
    const { where, params } = leadConditions(filter, scope, 2, 'l.');
    const and = where ? `${where} and` : ' where';
    const values = [...bounds(period), ...params];
    // Two statements: the counts aggregate by hashing, and only the closed leads are sorted for
    // their median (one ordered-set aggregate would sort every lead of the period by group).
    const [rows, medians] = await this.reading(async (sql) => [
      await sql.query<Record<string, string | number | null>>(
        `select l.${column}::text as key, count(*) as leads,
              count(*) filter (where l.status in ${QUALIFIED_OR_BEYOND} or q.lead_id is not null) as reached,
              count(*) filter (where l.status = 'closed_won') as won,
              count(*) filter (where l.status = 'closed_lost') as lost
         from lead.leads l
         -- A lead created in the period moved only after it: its activities are in the period's index range.
         left join (select distinct a.lead_id from lead.lead_activities a
                     where a.activity_type = 'status_changed' and a.created_at >= $1
                       and a.details->>'new_status' in ${QUALIFIED_OR_BEYOND}) q on q.lead_id = l.id
        ${and} l.created_at >= $1 and l.created_at < $2
        group by 1
        order by count(*) desc, 1 asc nulls last`,
        values,
      ),
      await sql.query<{ key: string | null; median_days: number }>(
        `select l.${column}::text as key,
                percentile_cont(0.5) within group (order by extract(epoch from l.closed_at - l.created_at) / 86400) as median_days
           from lead.leads l
          ${and} l.created_at >= $1 and l.created_at < $2 and l.status in ('closed_won', 'closed_lost')
          group by 1`,
        values,
      ),
    ]);
    const medianOf = new Map(medians.map((m) => [m.key, num(m.median_days)]));
    return rows.map((r) => ({
      key: r.key as string | null,
      leads: Number(r.leads),
      reachedQualified: Number(r.reached),
      won: Number(r.won),
      lost: Number(r.lost),
      medianDaysToClose: medianOf.get(r.key as string | null) ?? null,
    }));
  }
}
