import type { LeadStatus } from '../entities/lead.js';
import type { Database, Sql } from '../sql.js';
import { leadConditions, type LeadFilter, type LeadScope } from './leads.js';
import { UpkeepRepository } from './upkeep.js';

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

const bounds = (period: Period) => [period.from ?? '-infinity', period.to ?? 'infinity'];
const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));
const WEEK = 7 * 86_400_000;
const PERCENTILES = [0.5, 0.9] as const;

/** The Monday 00:00 UTC on or after `at` (`lead.lead_stage_weeks` is summed over UTC weeks, Monday first). */
function weekOnOrAfter(at: Date): Date {
  const day = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  const monday = day - ((new Date(day).getUTCDay() + 6) % 7) * 86_400_000;
  return new Date(monday < at.getTime() ? monday + WEEK : monday);
}
/** The Monday 00:00 UTC on or before `at`. */
function weekOnOrBefore(at: Date): Date {
  const next = weekOnOrAfter(at);
  return next.getTime() === at.getTime() ? next : new Date(next.getTime() - WEEK);
}

/**
 * How a report covers its period `[from, to)`: the whole weeks inside it from the weekly sums
 * (`[fromWeek, toWeek)`, when the filter is one the sums hold: none, or the source), and the
 * rest, `[from, fromWeek)` and `[toWeek, to)`, from the rows. Without whole weeks (or with
 * another filter) the rows cover it all.
 */
function split(period: Period, filter: LeadFilter, scope: LeadScope): [string | Date, string | Date] {
  const summed =
    filter.status === undefined &&
    filter.assignedTo === undefined &&
    scope.assignedTo === undefined &&
    filter.utmSource === undefined &&
    filter.utmMedium === undefined &&
    filter.utmCampaign === undefined;
  const fromWeek = period.from ? weekOnOrAfter(period.from) : '-infinity';
  const toWeek = period.to ? weekOnOrBefore(period.to) : 'infinity';
  const empty = !summed || (fromWeek instanceof Date && toWeek instanceof Date && fromWeek >= toWeek);
  const to = period.to ?? 'infinity';
  return empty ? [to, to] : [fromWeek, toWeek];
}

/** The 0-based ranks whose values PostgreSQL's percentile_cont(p) over `count` values reads. */
function ranksOf(count: number, p: number): number[] {
  const position = p * (count - 1);
  return [...new Set([Math.floor(position), Math.ceil(position)])];
}

/** PostgreSQL's percentile_cont(p) over `count` sorted values, `valueAt(rank)` one of them: the same arithmetic, so the same double. */
function percentileCont(count: number, p: number, valueAt: (rank: number) => number): number | null {
  if (count === 0) return null;
  const position = p * (count - 1);
  const first = Math.floor(position);
  const second = Math.ceil(position);
  const low = valueAt(first);
  return second === first ? low : low + (position - first) * (valueAt(second) - low);
}

/**
 * Figures over the leads matching the list's filters and the caller's scope, from the status
 * timeline as `lead.lead_stages` holds it (see its migration): each lead enters `new` when it is
 * created and every other stage with a `status_changed` activity (its `details.new_status`). Every
 * figure looks only forward from an entry in the period (where the lead went next, how long it
 * stayed), which each row already carries. Only counts and durations leave here.
 */
export class ReportRepository {
  constructor(private readonly db: Database) {}

  /**
   * Runs a report's statements in one read-only transaction, so they see one snapshot (the
   * figures agree with each other), with room to sort in memory, once the stage changes
   * committed before it are folded.
   */
  private async reading<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    await new UpkeepRepository(this.db).foldStages();
    return this.db.transaction(async (tx) => {
      await tx.query(`set transaction isolation level repeatable read, read only`);
      await tx.query(`set local work_mem = '64MB'`);
      // JIT compiling these plans took longer than running them.
      await tx.query('set local jit = off');
      return work(tx);
    });
  }

  /**
   * Counts from the weekly sums of the whole weeks in the period and from the rows of the rest;
   * a re-entry into a stage is the lead's first in the period when its previous entry was before
   * it, which only its row says. Each time-in-stage percentile is exact: the sums and rows give
   * how many stays fall in each duration bucket, which says which bucket holds each rank that
   * percentile_cont reads and at which offset, and those few values are read from the rows.
   */
  async pipeline(period: Period, filter: LeadFilter, scope: LeadScope): Promise<PipelineFigures> {
    // The same filter twice: after the four bounds, and after the three arrays of the last statement.
    const { where, params } = leadConditions(filter, scope, 4, 's.');
    const and = where.replace(' where', ' and');
    const lookupAnd = leadConditions(filter, scope, 5, 's.').where.replace(' where', ' and');
    const [summedFrom, summedTo] = split(period, filter, scope);
    const values = [...bounds(period), summedFrom, summedTo, ...params];
    const weeks = `week >= $3 and week < $4${filter.source === undefined ? '' : ` and source = $${4 + params.indexOf(filter.source) + 1}`}`;
    const edges = `((s.entered_at >= $1 and s.entered_at < $3) or (s.entered_at >= $4 and s.entered_at < $2))${and}`;
    return this.reading(async (sql) => {
      const stageRows = await sql.query<Record<string, string>>(
        `select stage, sum(entered) as entered, sum(to_next) as to_next, sum(to_won) as to_won, sum(stints) as stints, sum(leads) as leads
           from (
             select stage, entered, to_next, to_won, stints, leads from lead.lead_stage_weeks where ${weeks}
             union all
             select s.stage, (s.previous_entry_at is null)::int, (s.previous_entry_at is null and s.to_next)::int,
                    (s.previous_entry_at is null and s.to_won)::int, (s.seconds is not null)::int, 0
               from lead.lead_stages s where ${edges}
             union all
             select s.status, 0, 0, 0, 0, 1 from lead.lead_stages s where s.position = 0 and ${edges}
             union all
             select s.stage, 1, s.to_next::int, s.to_won::int, 0, 0
               from lead.lead_stages s
              where s.previous_entry_at is not null and s.previous_entry_at < $1 and s.entered_at >= $1 and s.entered_at < $2${and}
           ) c
          group by stage`,
        values,
      );
      const histogram = await sql.query<{ stage: LeadStatus; bucket: number; n: string }>(
        `select stage, bucket, sum(n) as n
           from (
             select stage, bucket, stints as n from lead.lead_stage_weeks where ${weeks} and bucket >= 0 and stints <> 0
             union all
             select s.stage, s.bucket, 1 from lead.lead_stages s where s.seconds is not null and ${edges}
           ) h
          group by stage, bucket
          order by stage, bucket`,
        values,
      );
      // Where each rank percentile_cont reads lies: its bucket and its offset there.
      const buckets = new Map<LeadStatus, Array<{ bucket: number; before: number; n: number }>>();
      for (const row of histogram) {
        const list = buckets.get(row.stage) ?? [];
        const last = list.at(-1);
        list.push({ bucket: row.bucket, before: last ? last.before + last.n : 0, n: Number(row.n) });
        buckets.set(row.stage, list);
      }
      const wanted: Array<{ stage: LeadStatus; rank: number; bucket: number; offset: number }> = [];
      const countOf = (stage: LeadStatus) => {
        const last = buckets.get(stage)?.at(-1);
        return last ? last.before + last.n : 0;
      };
      for (const [stage, list] of buckets) {
        const ranks = new Set(PERCENTILES.flatMap((p) => ranksOf(countOf(stage), p)));
        for (const rank of ranks) {
          const at = list.find((b) => rank < b.before + b.n)!;
          wanted.push({ stage, rank, bucket: at.bucket, offset: rank - at.before });
        }
      }
      const found = wanted.length
        ? await sql.query<{ i: string; seconds: number }>(
            `select w.i, (select s.seconds from lead.lead_stages s
                           where s.stage = w.stage and s.bucket = w.bucket and s.seconds is not null
                             and s.entered_at >= $1 and s.entered_at < $2${lookupAnd}
                           order by s.seconds offset w.k limit 1) as seconds
               from unnest($3::text[], $4::smallint[], $5::int[]) with ordinality as w (stage, bucket, k, i)`,
            [...bounds(period), wanted.map((w) => w.stage), wanted.map((w) => w.bucket), wanted.map((w) => w.offset), ...params],
          )
        : [];
      const valueOf = new Map(found.map((row) => [`${wanted[Number(row.i) - 1]!.stage} ${wanted[Number(row.i) - 1]!.rank}`, row.seconds]));
      const byStatus: Partial<Record<LeadStatus, number>> = {};
      const stages: StageRow[] = [];
      for (const row of stageRows) {
        const stage = row.stage as LeadStatus;
        if (Number(row.leads)) byStatus[stage] = Number(row.leads);
        const stints = Number(row.stints);
        const [median, p90] = PERCENTILES.map((p) => percentileCont(stints, p, (rank) => valueOf.get(`${stage} ${rank}`)!));
        stages.push({
          stage,
          entered: Number(row.entered),
          convertedToNext: Number(row.to_next),
          convertedToWon: Number(row.to_won),
          stints,
          medianSeconds: median ?? null,
          p90Seconds: p90 ?? null,
        });
      }
      return { byStatus, stages };
    });
  }

  /**
   * Over the leads created in the period, from their creation rows (position 0: the lead's
   * current status, when it closed, whether it ever reached `qualified` or beyond): the counts
   * from the weekly sums of the whole weeks (unless a filter other than the source asks for the
   * rows) and the rows of the rest; the median days to close from the closed leads' rows.
   */
  async sources(dimension: ReportDimension, period: Period, filter: LeadFilter, scope: LeadScope): Promise<SourceRow[]> {
    const column = REPORT_DIMENSIONS[dimension];
    const { where, params } = leadConditions(filter, scope, 4, 's.');
    const and = where.replace(' where', ' and');
    const medianAnd = leadConditions(filter, scope, 2, 's.').where.replace(' where', ' and');
    const [summedFrom, summedTo] = split(period, filter, scope);
    const values = [...bounds(period), summedFrom, summedTo, ...params];
    const param = (value: string | undefined) => `$${4 + params.indexOf(value!) + 1}`;
    const weeks = [
      `week >= $3 and week < $4`,
      `dimension = '${dimension === 'source' ? 'utm_source' : column}'`,
      ...(filter.source === undefined ? [] : [`source = ${param(filter.source)}`]),
    ].join(' and ');
    const key = dimension === 'source' ? 'source' : 'case when has_key then key end';
    // Two statements: the counts aggregate by hashing, and only the closed leads are sorted for
    // their median (one ordered-set aggregate would sort every lead of the period by group).
    const [rows, medians] = await this.reading(async (sql) => [
      await sql.query<Record<string, string | number | null>>(
        `select key, sum(leads) as leads, sum(reached) as reached, sum(won) as won, sum(lost) as lost
           from (
             select ${key}::text as key, leads, case when reached_qualified then leads else 0 end as reached,
                    case when outcome = 'won' then leads else 0 end as won, case when outcome = 'lost' then leads else 0 end as lost
               from lead.lead_source_weeks where ${weeks}
             union all
             select s.${column}::text, 1, s.reached_qualified::int, (s.status = 'closed_won')::int, (s.status = 'closed_lost')::int
               from lead.lead_stages s
              where s.position = 0 and ((s.entered_at >= $1 and s.entered_at < $3) or (s.entered_at >= $4 and s.entered_at < $2))${and}
           ) c
          group by key
          having sum(leads) > 0
          order by sum(leads) desc, key asc nulls last`,
        values,
      ),
      await sql.query<{ key: string | null; median_days: number }>(
        // Grouped in byte order (the groups' order does not matter here, and it sorts faster).
        `select s.${column}::text collate "C" as key, percentile_cont(0.5) within group (order by s.days_to_close) as median_days
           from lead.lead_stages s
          where s.days_to_close is not null and s.entered_at >= $1 and s.entered_at < $2${medianAnd}
          group by 1`,
        [...bounds(period), ...params],
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
