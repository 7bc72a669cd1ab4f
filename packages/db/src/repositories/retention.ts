import { v7 as uuidv7 } from 'uuid';
import type { RetentionOutcome } from '../entities/retention-run.js';
import { CLOSED_STATUSES } from '../entities/lead.js';
import type { Database, Sql } from '../sql.js';

/**
 * The shortest age at which audit rows may be dropped. The database enforces it on its own
 * (`lead.prune_audit_log`, migration `Migration20261202021000_retention`); this states it for
 * the configuration, which refuses anything shorter before the database has to.
 */
export const AUDIT_RETENTION_MIN_DAYS = 90;

/** How long personal data is kept, per rule, in days; null: the rule is off. */
export interface RetentionRules {
  /** Erase closed leads this long after `closed_at`. */
  closedDays: number | null;
  /** Erase leads whose last activity (see `LEAD_RULES.inactive`) is this old. */
  inactiveDays: number | null;
  /** Strip personal fields from delivered and dead events this long after they were written. */
  eventPayloadDays: number;
  /** Drop audit rows this old. */
  auditDays: number;
}

/** The rules that erase leads, in the order a run applies them. */
export const LEAD_RULES = ['closed', 'inactive'] as const;
export type LeadRule = (typeof LEAD_RULES)[number];

const DAY_MS = 86_400_000;

/** The instant before which a rule of `days` applies, as seen at `asOf`. */
const cutoff = (asOf: Date, days: number) => new Date(asOf.getTime() - days * DAY_MS);

const closedBefore = (param: string) => `l.status = any('{${CLOSED_STATUSES.join(',')}}'::text[]) and l.closed_at < ${param}::timestamptz`;

/**
 * Which leads each rule erases: THE predicate, stated once, used by both the preview's counts
 * and the run's batches, so that the preview is what the next run does. Over `lead.leads l`;
 * `$1` is the rule's cutoff and, for `inactive`, `$2` the closed rule's (null when it is off).
 *
 * - `closed`: closed (won or lost) before its cutoff.
 * - `inactive`: no activity since its cutoff, where a lead's last activity is the later of its
 *   `updated_at` (every change and every timeline entry moves it) and its newest timeline entry
 *   (`lead.lead_activities.created_at`), so that an entry written without touching the lead still
 *   counts. A lead both rules match is the closed rule's, so no lead is counted twice.
 *
 * Both skip leads already erased (`erased_at` set): a lead is erased at most once.
 */
const LEAD_RULE_SQL: Record<LeadRule, string> = {
  closed: `l.erased_at is null and ${closedBefore('$1')}`,
  inactive: `l.erased_at is null and l.updated_at < $1::timestamptz
    and not exists (select 1 from lead.lead_activities a where a.lead_id = l.id and a.created_at >= $1::timestamptz)
    and not coalesce(${closedBefore('$2')}, false)`,
};

const ruleDays = (rules: RetentionRules, rule: LeadRule) => (rule === 'closed' ? rules.closedDays : rules.inactiveDays);

/** The parameters of a rule's predicate at `asOf` (see `LEAD_RULE_SQL`), or null when the rule is off. */
function leadRuleParams(rules: RetentionRules, rule: LeadRule, asOf: Date): unknown[] | null {
  const days = ruleDays(rules, rule);
  if (days === null) return null;
  if (rule === 'closed') return [cutoff(asOf, days)];
  return [cutoff(asOf, days), rules.closedDays === null ? null : cutoff(asOf, rules.closedDays)];
}

/**
 * Which delivered and dead events written before the cutoff (`$1`) still carry a personal field:
 * those that `lead.strip_personal_fields` (the erasure's own) would change. Pending events are
 * left alone: they are still to be sent as written.
 */
const EVENT_RULE_SQL = `e.state in ('delivered', 'dead') and e.created_at < $1::timestamptz
  and e.payload is distinct from lead.strip_personal_fields(e.payload)`;

/** What each rule would do now, or did in a run. */
export interface RetentionCounts {
  closedLeads: number;
  inactiveLeads: number;
  eventPayloads: number;
  auditRows: number;
}

export interface RetentionRunRecord extends RetentionCounts {
  id: string;
  startedAt: Date;
  finishedAt: Date | null;
  outcome: RetentionOutcome;
  rules: RetentionRules;
  error: string | null;
}

const RUN_COLUMNS = `id, started_at as "startedAt", finished_at as "finishedAt", outcome, rules, closed_leads as "closedLeads",
  inactive_leads as "inactiveLeads", event_payloads as "eventPayloads", audit_rows as "auditRows", error`;

const COUNT_COLUMN: Record<keyof RetentionCounts, string> = {
  closedLeads: 'closed_leads',
  inactiveLeads: 'inactive_leads',
  eventPayloads: 'event_payloads',
  auditRows: 'audit_rows',
};

export const countOfRule: Record<LeadRule, keyof RetentionCounts> = { closed: 'closedLeads', inactive: 'inactiveLeads' };

/** The retention rules' queries: what they match, and the record of each run. */
export class RetentionRepository {
  constructor(private readonly db: Database) {}

  /** How many leads, event payloads and audit rows each rule would erase, strip or drop at `asOf`. */
  async preview(rules: RetentionRules, asOf = new Date()): Promise<RetentionCounts> {
    const countLeads = async (rule: LeadRule) => {
      const params = leadRuleParams(rules, rule, asOf);
      if (!params) return 0;
      const [row] = await this.db.query<{ n: string }>(`select count(*) as n from lead.leads l where ${LEAD_RULE_SQL[rule]}`, params);
      return Number(row!.n);
    };
    const [closedLeads, inactiveLeads, [events], [audit]] = await Promise.all([
      countLeads('closed'),
      countLeads('inactive'),
      this.db.query<{ n: string }>(`select count(*) as n from lead.outbox_events e where ${EVENT_RULE_SQL}`, [
        cutoff(asOf, rules.eventPayloadDays),
      ]),
      this.db.query<{ n: string }>('select count(*) as n from lead.audit_log where created_at < lead.audit_retention_cutoff($1)', [
        rules.auditDays,
      ]),
    ]);
    return { closedLeads, inactiveLeads, eventPayloads: Number(events!.n), auditRows: Number(audit!.n) };
  }

  /** Up to `limit` leads `rule` matches at `asOf`, none of them in `exclude` (ids a run could not erase). */
  async leadsToErase(rules: RetentionRules, rule: LeadRule, asOf: Date, limit: number, exclude: readonly string[] = []): Promise<string[]> {
    const params = leadRuleParams(rules, rule, asOf);
    if (!params) return [];
    const n = params.length;
    const rows = await this.db.query<{ id: string }>(
      `select l.id from lead.leads l where ${LEAD_RULE_SQL[rule]} and l.id <> all($${n + 1}::uuid[]) limit $${n + 2}`,
      [...params, exclude, limit],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Whether `rule` still matches lead `id` at `asOf`, checked just before it is erased (and again
   * by the erasure, under its lock): a lead reopened, touched or erased since it was picked is left
   * alone, and so is one another transaction holds at this moment (skipped, not waited for; the
   * next run takes it).
   */
  async stillMatches(rules: RetentionRules, rule: LeadRule, asOf: Date, id: string): Promise<boolean> {
    return ruleMatches(this.db, rules, rule, asOf, id, ' for update skip locked');
  }

  /**
   * Strips the personal fields of up to `limit` events the payload rule matches at `asOf`, in one
   * statement; rows another transaction holds (a delivery being recorded) are skipped, not waited for.
   */
  async stripEventPayloads(eventPayloadDays: number, asOf: Date, limit: number): Promise<number> {
    const rows = await this.db.query(
      `update lead.outbox_events set payload = lead.strip_personal_fields(payload)
        where event_id in (select e.event_id from lead.outbox_events e where ${EVENT_RULE_SQL} limit $2 for update skip locked)
       returning event_id`,
      [cutoff(asOf, eventPayloadDays), limit],
    );
    return rows.length;
  }

  /** Drops up to `limit` audit rows older than `auditDays`, through the database's own function; returns how many. */
  async pruneAudit(auditDays: number, limit: number): Promise<number> {
    const [row] = await this.db.query<{ dropped: number }>('select lead.prune_audit_log($1, $2) as dropped', [auditDays, limit]);
    return row!.dropped;
  }

  /**
   * Starts the record of a run. Runs still marked running are ones whose process died: the
   * caller holds the retention lock, so no other run is live, and they become `interrupted`.
   */
  async startRun(rules: RetentionRules, startedAt: Date): Promise<string> {
    const id = uuidv7();
    await this.db.transaction(async (tx) => {
      await tx.query(`update lead.retention_runs set outcome = 'interrupted', finished_at = $1 where outcome = 'running'`, [startedAt]);
      await tx.query(`insert into lead.retention_runs (id, started_at, outcome, rules) values ($1, $2, 'running', $3)`, [
        id,
        startedAt,
        JSON.stringify(rules),
      ]);
    });
    return id;
  }

  /** Adds to a run's counts (after each batch, so that a run cut short still says what it did). */
  async addToRun(id: string, counts: Partial<RetentionCounts>): Promise<void> {
    const entries = Object.entries(counts).filter(([, n]) => n);
    if (entries.length === 0) return;
    const sets = entries.map(
      ([key], i) => `${COUNT_COLUMN[key as keyof RetentionCounts]} = ${COUNT_COLUMN[key as keyof RetentionCounts]} + $${i + 2}`,
    );
    await this.db.query(`update lead.retention_runs set ${sets.join(', ')} where id = $1`, [id, ...entries.map(([, n]) => n)]);
  }

  async finishRun(id: string, outcome: Exclude<RetentionOutcome, 'running'>, error: string | null = null): Promise<void> {
    await this.db.query('update lead.retention_runs set outcome = $2, finished_at = now(), error = $3 where id = $1', [
      id,
      outcome,
      error?.slice(0, 200) ?? null,
    ]);
  }

  async lastRun(): Promise<RetentionRunRecord | null> {
    const [row] = await this.db.query<RetentionRunRecord>(
      `select ${RUN_COLUMNS} from lead.retention_runs order by started_at desc, id desc limit 1`,
    );
    return row ?? null;
  }

  async run(id: string): Promise<RetentionRunRecord | null> {
    const [row] = await this.db.query<RetentionRunRecord>(`select ${RUN_COLUMNS} from lead.retention_runs where id = $1`, [id]);
    return row ?? null;
  }
}

/**
 * Whether `rule` matches lead `id` at `asOf` on `sql` (with `suffix`, e.g. a locking clause). The
 * erasure by rule asks it again in the erasing transaction, under the lead's row lock, so a lead
 * reopened since it was picked is never erased.
 */
export async function ruleMatches(sql: Sql, rules: RetentionRules, rule: LeadRule, asOf: Date, id: string, suffix = ''): Promise<boolean> {
  const params = leadRuleParams(rules, rule, asOf);
  if (!params) return false;
  const rows = await sql.query(`select 1 from lead.leads l where ${LEAD_RULE_SQL[rule]} and l.id = $${params.length + 1}${suffix}`, [
    ...params,
    id,
  ]);
  return rows.length > 0;
}
