import { v7 as uuidv7 } from 'uuid';
import type { AttributionRecord } from '../attribution.js';
import type { ActivityType } from '../entities/lead-activity.js';
import { CLOSED_STATUSES, type LeadPriority, type LeadSource, type LeadStatus, type LostReason } from '../entities/lead.js';
import type { EventField, EventType } from '../entities/outbox-event.js';
import {
  AssignmentForbiddenError,
  LeadAlreadyMergedError,
  LeadNotFoundError,
  MergeAcrossAssigneesError,
  MergeIntoSelfError,
  StatusUnchangedError,
  LeadErasedError,
} from '../errors.js';
import type { BatchStatement, Database, Sql } from '../sql.js';
import { auditFrom, writeAudit, type AuditEntry } from './audit.js';
import { eventPayload, eventTimestampSql, traceParentForEvent } from './outbox.js';

export type { PageRequest } from './pages.js';

export interface NewLead {
  name: string;
  email: string;
  phone: string | null;
  company: string | null;
  message: string | null;
  source: LeadSource;
  /** Where the visitor came from (cleaned, see `attribution.ts`); null when the submission had none. */
  attribution: AttributionRecord | null;
  /** What the visitor agreed to on the form; absent or null when the form asked nothing. */
  consent?: NewConsent | null;
}

/** A consent as the form reported it; its page is cleaned like attribution URLs (`cleanUrl`). */
export interface NewConsent {
  policyVersion: string | null;
  marketing: boolean;
  text: string | null;
  page: string | null;
}

/** One stored consent (the columns of `lead.lead_consents`). */
export interface ConsentRecord extends NewConsent {
  id: string;
  leadId: string;
  givenAt: Date;
}

export interface LeadFilter {
  status?: LeadStatus;
  source?: LeadSource;
  assignedTo?: string;
  utmSource?: string;
  utmMedium?: string;
  utmCampaign?: string;
  lostReason?: LostReason;
  /** `exclude`: only leads that are no duplicate; `only`: only duplicates. */
  duplicates?: 'exclude' | 'only';
  /** Case- and accent-insensitive substring of name, e-mail, company, message, or phone digits. */
  q?: string;
  /** Only leads written at or after this time (sync). */
  updatedSince?: Date;
}

/** What a list is ordered by; `change` is the sync order (the writing transaction, ascending). */
export type LeadSort = 'created_at' | 'updated_at' | 'priority' | 'status' | 'name' | 'change';

/** A position in a listing: the sort key (as PostgreSQL prints it) and id of the last lead seen. */
export interface Keyset {
  key: string;
  id: string;
}

export interface ListRequest {
  sort: LeadSort;
  order: 'asc' | 'desc';
  limit: number;
  /** Offset paging (the spec's `page`), unless `after` is given. */
  page: number;
  /** Keyset paging: the leads after this position. */
  after?: Keyset;
}

/** Settings of a create. */
export interface CreateOptions {
  /** An open lead with the same e-mail created within this many days makes the new one its duplicate. */
  duplicateWindowDays: number;
}

/** The fields of a lead that staff may correct. */
export type LeadChanges = Partial<Pick<LeadRecord, 'name' | 'email' | 'phone' | 'company' | 'message' | 'priority'>>;
const EDITABLE: ReadonlyArray<keyof LeadChanges> = ['name', 'email', 'phone', 'company', 'message', 'priority'];
/** The fields a merge copies from the source where the target has none. */
const FILLABLE = ['phone', 'company', 'message'] as const;
/** The columns a merge may write on the target: the fillable fields and the attribution's utm columns. */
const COLUMN_OF = {
  phone: 'phone',
  company: 'company',
  message: 'message',
  utmSource: 'utm_source',
  utmMedium: 'utm_medium',
  utmCampaign: 'utm_campaign',
} as const;

/**
 * Which leads a caller may see at all. A lead outside the scope is treated exactly like one that
 * does not exist (`LeadNotFoundError`), so its id reveals nothing.
 */
export interface LeadScope {
  /** Only leads assigned to this user (a sales user's own leads). */
  assignedTo?: string;
}

/** What every staff operation carries: the caller's scope and the audit row to write. */
export interface Access {
  scope: LeadScope;
  audit: AuditEntry;
}

/** A lead as the repository reads and returns it (the columns of `lead.leads`). */
export interface LeadRecord extends Omit<NewLead, 'attribution' | 'consent'> {
  id: string;
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  status: LeadStatus;
  priority: LeadPriority;
  assignedTo: string | null;
  createdAt: Date;
  updatedAt: Date;
  closedAt: Date | null;
  lostReason: LostReason | null;
  duplicateOf: string | null;
  mergedInto: string | null;
  /** When the lead was anonymised; null while it holds personal data. */
  erasedAt: Date | null;
}

/** A lead as a list shows it: the columns of `SUMMARY_COLUMNS`. */
export type LeadSummaryRecord = Pick<
  LeadRecord,
  | 'id'
  | 'name'
  | 'email'
  | 'company'
  | 'status'
  | 'source'
  | 'priority'
  | 'assignedTo'
  | 'lostReason'
  | 'duplicateOf'
  | 'mergedInto'
  | 'createdAt'
  | 'updatedAt'
>;

/** A lead with everything its detail shows. */
export interface LeadWithTimeline {
  lead: LeadRecord;
  attribution: AttributionRecord | null;
  activities: ActivityRecord[];
  /** Consents given with its submission, oldest first. */
  consents: ConsentRecord[];
}

/** One entry of a lead's timeline (the columns of `lead.lead_activities`). */
export interface ActivityRecord {
  id: string;
  leadId: string;
  activityType: ActivityType;
  description: string | null;
  details: Record<string, string | null> | null;
  performedBy: string | null;
  createdAt: Date;
}

const DEFAULT_PRIORITY: LeadPriority = 'medium';

export const LEAD_COLUMNS = `id, name, email, phone, company, message, source, status, priority, assigned_to as "assignedTo",
  created_at as "createdAt", updated_at as "updatedAt", closed_at as "closedAt", lost_reason as "lostReason",
  duplicate_of as "duplicateOf", merged_into as "mergedInto", erased_at as "erasedAt",
  utm_source as "utmSource", utm_medium as "utmMedium", utm_campaign as "utmCampaign"`;
/**
 * The columns of a list's items (`LeadSummaryRecord`): a page reads, sends and parses no
 * message, phone or timestamps it does not show (its server CPU at a million leads 0.90 → 0.71
 * ms when it stopped, bench/README.md "Session 13").
 */
const SUMMARY_COLUMNS = `id, name, email, company, source, status, priority, assigned_to as "assignedTo", lost_reason as "lostReason",
  duplicate_of as "duplicateOf", merged_into as "mergedInto", created_at as "createdAt", updated_at as "updatedAt"`;
export const ATTRIBUTION_COLUMNS = `utm_source as "utmSource", utm_medium as "utmMedium", utm_campaign as "utmCampaign",
  utm_term as "utmTerm", utm_content as "utmContent", referrer, landing_page as "landingPage", page, first_touch as "firstTouch"`;
/** Every column of an attribution but its lead. */
const ATTRIBUTION_FIELDS = 'utm_source, utm_medium, utm_campaign, utm_term, utm_content, referrer, landing_page, page, first_touch';
export const ACTIVITY_COLUMNS = `id, lead_id as "leadId", activity_type as "activityType", description, details,
  performed_by as "performedBy", created_at as "createdAt"`;
export const CONSENT_COLUMNS = `id, lead_id as "leadId", policy_version as "policyVersion", marketing, text, page, given_at as "givenAt"`;

/**
 * The lead domain: every rule of the pipeline and of who may touch which lead lives here,
 * beside the data it guards. Each change is one transaction that includes its audit row (reads
 * are audited by the server, from their contracts, before their data leaves). Time-ordered (v7) ids keep inserts local in
 * the primary key index and give rows of the same millisecond a stable order. A change the
 * notification service must hear of writes its event to the outbox in that same transaction.
 *
 * These paths run on every capture and staff call, so they are parameterised SQL (`Database`)
 * rather than the ORM's unit of work; the ORM's entities still define the schema they use.
 */
export class LeadRepository {
  constructor(private readonly db: Database) {}

  /** A new lead, its `created` activity, its `LeadCreated` event and its audit row, in one transaction. */
  async create(input: NewLead, audit: AuditEntry, options: CreateOptions): Promise<LeadRecord> {
    const creation = leadCreation(input, audit, options);
    const [, written] = await this.db.change(
      [creation.lock(false), creation.write, creation.audit],
      [creation.lock(true), creation.write, creation.audit],
    );
    return creation.lead(written as Array<{ at: Date; original: string | null }>);
  }

  /**
   * One page and the number of all matches, in the requested order (ties broken by id), by
   * offset (`page`) or after a position (`after`, keyset: the same cost at any depth). Each
   * sort order has its (key, id) index. The total sums the maintained counts (`LeadCount`) when
   * the filter is one those counts hold (status, source, assignee); any other filter (search,
   * duplicates, lost reason, sync, utm) is counted for real, so `total` is always exact.
   *
   * `sort: 'change'` (sync) orders by the writing transaction and returns only leads written
   * by transactions older than the oldest one still running: a change committed late, by a
   * transaction that began before others that committed first, is then not skipped by a
   * client holding a later position; it is returned once it is visible, before anything newer.
   * `next` is where to continue: null when the page was the last (except in sync, where it is
   * always the position to poll from next).
   */
  async listPage(
    filter: LeadFilter,
    request: ListRequest,
    scope: LeadScope,
  ): Promise<{ items: LeadSummaryRecord[]; total: number; next: Keyset | null }> {
    const common = filter.q ? await commonTrigrams(this.db) : null;
    const { items: itemsQuery, total: totalQuery } = listQueries(filter, request, scope, common);
    // The page and its total in one round trip on one connection.
    const [rows, counted] = (await this.db.batch([itemsQuery, ...(totalQuery ? [totalQuery] : [])])) as [
      Array<LeadSummaryRecord & { sortKey: string | null; horizon?: string; matchTotal?: string; position?: unknown }>,
      Array<{ total: string }> | undefined,
    ];
    const total = Number(counted ? counted[0]!.total : rows[0]!.matchTotal);
    const found = rows.filter((row) => row.id !== null);
    // Each row still carries its sort key (and a search's position and total): not copied away.
    const items: LeadSummaryRecord[] = found;
    const last = found.at(-1);
    let next: Keyset | null = found.length === request.limit && last ? { key: last.sortKey!, id: last.id } : null;
    if (request.sort === 'change' && !next) {
      // Everything written below the horizon has been returned: continue from there.
      const horizon = BigInt(rows[0]!.horizon!);
      next = { key: String(horizon - 1n), id: MAX_UUID };
    }
    return { items, total, next };
  }

  /**
   * The lead and its activities, oldest first. The activities are read under the same scope as
   * the lead, so a lead out of scope costs no more than one that does not exist.
   */
  async getWithActivities(id: string, scope: LeadScope): Promise<LeadWithTimeline> {
    const params = [id, ...scopeParams(scope)];
    // One round trip for the four reads.
    const [[lead], [attribution], activities, consents] = (await this.db.batch(
      LEAD_READS[scope.assignedTo ? 'scoped' : 'unscoped'].map((text) => ({ text, values: params })),
    )) as [LeadRecord[], AttributionRecord[], ActivityRecord[], ConsentRecord[]];
    if (!lead) throw new LeadNotFoundError(id);
    return { lead, attribution: attribution ?? null, activities, consents };
  }

  /**
   * Moves a lead to `status`. The row is locked for the change so that concurrent changes each
   * record the status they really changed from. Closing sets `closedAt` (kept when moving
   * between the two closed states); reopening clears it.
   *
   * The whole change goes in one write and one round trip (`Database.change`): one statement
   * locks the row and makes the update, its `status_changed` activity and its `LeadStatusChanged`
   * event, each conditioned in SQL on the status being another (`changed`), and the audit row
   * follows in the same implicit transaction. The status it changed from is known only to that
   * statement, which adds it to the activity's details and the event's payload. The row is
   * locked `nowait`; if another transaction holds it, the same statements run as a transaction
   * that waits for it.
   */
  async changeStatus(
    id: string,
    status: LeadStatus,
    opts: Access & { notes: string | null; actor: string; lostReason?: LostReason | null },
  ): Promise<LeadRecord> {
    // The reason belongs to the closed_lost state: any other status clears it.
    const lostReason = status === 'closed_lost' ? (opts.lostReason ?? null) : null;
    const details = lostReason ? { new_status: status, lost_reason: lostReason } : { new_status: status };
    // Its time is the statement's, read once the row is locked (below).
    const { timestamp: _unset, ...payload } = eventPayload(
      'LeadStatusChanged',
      id,
      { new_status: status, lost_reason: lostReason },
      new Date(),
    );
    const activityId = uuidv7();
    const values: unknown[] = [
      id,
      status,
      lostReason,
      CLOSED_STATUSES.includes(status),
      activityId,
      opts.notes,
      details,
      opts.actor,
      payload.event_id,
      payload,
      traceParentForEvent(),
    ];
    const scopeAt = values.length + 1;
    values.push(...scopeParams(opts.scope));
    // The audit row is a statement of its own after it, so that its failure is told apart
    // (`AuditUnavailableError`), written only if the activity (so the change) was.
    const audit = auditFrom('lead.lead_activities where id = $1', [activityId], opts.audit, [id]);
    // The change's time is read after the lock is held (the update's row exists only then), so
    // that concurrent changes of a lead are timed in the order they made them: its timeline, in
    // time order, reads from each status to the next. In milliseconds, as a JavaScript Date.
    const change = (wait: boolean) => ({
      text: `with locked as (
           select id as locked_id, status as old_status, closed_at as old_closed_at
           from lead.leads where id = $1${scopeCondition(opts.scope, scopeAt)} for update${wait ? '' : ' nowait'}
         ), changed as (
           update lead.leads set status = $2::lead.lead_status, lost_reason = $3,
             (updated_at, closed_at) = (
               select t.at, case when $4::boolean then coalesce(old_closed_at, t.at) end
               from (select date_trunc('milliseconds', clock_timestamp()) as at) t)
           from locked where id = locked_id and old_status <> $2::lead.lead_status
           returning ${LEAD_COLUMNS}, old_status
         ), activity as (
           insert into lead.lead_activities (id, lead_id, activity_type, description, details, performed_by, created_at)
           select $5, id, 'status_changed', coalesce($6, 'Status changed from ' || old_status || ' to ' || $2::lead.lead_status),
                  $7::jsonb || jsonb_build_object('old_status', old_status), $8, "updatedAt"
           from changed
         ), event as (
           insert into lead.outbox_events (event_id, event_type, lead_id, payload, state, attempts, next_attempt_at, created_at, trace_parent)
           select $9, 'LeadStatusChanged', id,
                  $10::jsonb || jsonb_build_object('old_status', old_status, 'timestamp', ${eventTimestampSql('"updatedAt"')}),
                  'pending', 0, "updatedAt", "updatedAt", $11
           from changed
         )
         select changed.* from locked left join changed on true`,
      values,
    });
    // No row: no such lead (in scope); a row of nulls: it had the status already.
    type Row = LeadRecord & { old_status: LeadStatus | null };
    const [[row]] = (await this.db.change([change(false), audit], [change(true), audit])) as [Row[]];
    if (!row) throw new LeadNotFoundError(id);
    if (row.id === null) throw new StatusUnchangedError(status);
    audit.settle();
    const { old_status: _from, ...lead } = row;
    return lead;
  }

  /**
   * Corrects contact fields or the priority. Only fields whose value really changes count: the
   * timeline's `updated` activity and the `LeadUpdated` event name them (never their values,
   * which are personal data). Nothing changed: no activity, no event.
   */
  async update(id: string, changes: LeadChanges, opts: Access & { actor: string }): Promise<LeadWithTimeline> {
    return this.db.transaction(async (tx) => {
      const lead = await lockLead(tx, id, opts.scope);
      const changed = EDITABLE.filter((field) => changes[field] !== undefined && changes[field] !== lead[field]);
      if (lead.erasedAt && changed.some((field) => field !== 'priority')) throw new LeadErasedError(id);
      let updated = lead;
      if (changed.length) {
        const now = new Date();
        updated = { ...lead, ...Object.fromEntries(changed.map((f) => [f, changes[f]])), updatedAt: now };
        const sets = changed.map((field, i) => `${field} = $${i + 3}`).join(', ');
        await tx.query(`update lead.leads set updated_at = $2, ${sets} where id = $1`, [id, now, ...changed.map((f) => updated[f])]);
        await addToTimeline(tx, id, {
          type: 'updated',
          description: `Updated ${changed.join(', ')}`,
          details: { changed_fields: changed.join(', ') },
          actor: opts.actor,
          at: now,
        });
        await recordEvent(tx, 'LeadUpdated', id, { changed_fields: [...changed] }, now);
      }
      await writeAudit(tx, opts.audit, [id]);
      return {
        lead: updated,
        attribution: await attributionOf(tx, id),
        activities: await timeline(tx, id),
        consents: await consentsOf(tx, id),
      };
    });
  }

  /**
   * Merges `sourceId` into `targetId` in one transaction: the source's activities move to the
   * target with their original times, the target's empty contact fields are filled from the
   * source, and the source is closed as `closed_lost` / `duplicate` with `merged_into`. Both are
   * locked in id order, so two merges of the same pair cannot deadlock. A lead out of the
   * caller's scope is not found; leads of two different assignees are not merged.
   */
  async merge(sourceId: string, targetId: string, opts: Access & { actor: string }): Promise<LeadWithTimeline> {
    if (sourceId === targetId) throw new MergeIntoSelfError();
    return this.db.transaction(async (tx) => {
      const locked = await tx.query<LeadRecord>(
        `select ${LEAD_COLUMNS} from lead.leads where id = any($1::uuid[])${scopeCondition(opts.scope, 2)} order by id for update`,
        [[sourceId, targetId], ...scopeParams(opts.scope)],
      );
      const source = locked.find((l) => l.id === sourceId);
      const target = locked.find((l) => l.id === targetId);
      if (!source) throw new LeadNotFoundError(sourceId);
      if (!target) throw new LeadNotFoundError(targetId);
      if (source.mergedInto) throw new LeadAlreadyMergedError(sourceId, 'source');
      if (target.mergedInto) throw new LeadAlreadyMergedError(targetId, 'target');
      // The source's timeline (notes included) and contact fields would move into it.
      if (target.erasedAt) throw new LeadErasedError(targetId);
      if (source.assignedTo && target.assignedTo && source.assignedTo !== target.assignedTo) throw new MergeAcrossAssigneesError();

      const now = new Date();
      const fields = FILLABLE.filter((field) => target[field] === null && source[field] !== null);
      await tx.query('update lead.lead_activities set lead_id = $2 where lead_id = $1', [sourceId, targetId]);
      // A target without attribution gets a copy of the source's (and the lead's utm columns with it).
      const attributed = await tx.query(
        `insert into lead.lead_attributions (lead_id, ${ATTRIBUTION_FIELDS})
         select $2, ${ATTRIBUTION_FIELDS} from lead.lead_attributions where lead_id = $1
         on conflict (lead_id) do nothing returning lead_id`,
        [sourceId, targetId],
      );
      // The target now holds the source's contact data: the consents given with it come along
      // (copied, so that the source's own record, found by its address, keeps its proof too).
      await tx.send(
        `insert into lead.lead_consents (id, lead_id, policy_version, marketing, text, page, given_at)
         select gen_random_uuid(), $2, policy_version, marketing, text, page, given_at from lead.lead_consents where lead_id = $1`,
        [sourceId, targetId],
      );
      const values: Partial<LeadRecord> = Object.fromEntries(fields.map((f) => [f, source[f]]));
      if (attributed.length)
        Object.assign(values, { utmSource: source.utmSource, utmMedium: source.utmMedium, utmCampaign: source.utmCampaign });
      const columns = Object.keys(values)
        .map((field, i) => `, ${COLUMN_OF[field as keyof typeof COLUMN_OF]} = $${i + 3}`)
        .join('');
      await tx.query(`update lead.leads set updated_at = $2${columns} where id = $1`, [targetId, now, ...Object.values(values)]);
      const filled: string[] = [...fields, ...(attributed.length ? ['attribution'] : [])];
      const closedAt = source.closedAt ?? now;
      await tx.query(
        `update lead.leads set status = 'closed_lost', lost_reason = 'duplicate', merged_into = $2, closed_at = $3, updated_at = $4 where id = $1`,
        [sourceId, targetId, closedAt, now],
      );
      await addToTimeline(tx, targetId, {
        type: 'merged',
        description: `Merged lead ${sourceId} into this one`,
        details: { merged_lead_id: sourceId, filled_fields: filled.join(', ') || null },
        actor: opts.actor,
        at: now,
      });
      await addToTimeline(tx, sourceId, {
        type: 'merged',
        description: `Merged into lead ${targetId}; closed as lost (duplicate)`,
        details: { merged_into: targetId, old_status: source.status, new_status: 'closed_lost', lost_reason: 'duplicate' },
        actor: opts.actor,
        at: now,
      });
      if (source.status !== 'closed_lost') {
        await recordEvent(
          tx,
          'LeadStatusChanged',
          sourceId,
          { old_status: source.status, new_status: 'closed_lost', lost_reason: 'duplicate' },
          now,
        );
      }
      await recordEvent(tx, 'LeadMerged', sourceId, { merged_into: targetId, filled_fields: [...filled] }, now);
      await writeAudit(tx, opts.audit, [sourceId, targetId]);
      const merged = { ...target, ...values, updatedAt: now };
      return {
        lead: merged,
        attribution: await attributionOf(tx, targetId),
        activities: await timeline(tx, targetId),
        consents: await consentsOf(tx, targetId),
      };
    });
  }

  /**
   * Sets or clears the assignee; an actual change is recorded in the timeline. A caller scoped
   * to their own leads may keep or release a lead, never hand it to someone else.
   */
  async assign(id: string, assignee: string | null, opts: Access & { actor: string }): Promise<LeadRecord> {
    return this.db.transaction(async (tx) => {
      let lead = await lockLead(tx, id, opts.scope);
      if (opts.scope.assignedTo && assignee !== null && assignee !== opts.scope.assignedTo) {
        throw new AssignmentForbiddenError();
      }
      const from = lead.assignedTo;
      if (from !== assignee) {
        const now = new Date();
        await tx.query('update lead.leads set assigned_to = $2, updated_at = $3 where id = $1', [id, assignee, now]);
        await addToTimeline(tx, id, {
          type: 'assigned',
          description: assignee ? `Assigned to ${assignee}` : 'Unassigned',
          details: { assigned_from: from, assigned_to: assignee },
          actor: opts.actor,
          at: now,
        });
        await recordEvent(tx, 'LeadAssigned', id, { old_assigned_to: from, new_assigned_to: assignee }, now);
        lead = { ...lead, assignedTo: assignee, updatedAt: now };
      }
      await writeAudit(tx, opts.audit, [id]);
      return lead;
    });
  }

  /** A note or contact by a user. Only these two types may come from outside the service. */
  async addActivity(
    id: string,
    activity: { type: Extract<ActivityType, 'note_added' | 'contacted'>; description: string; actor: string },
    access: Access,
  ): Promise<ActivityRecord> {
    return this.db.transaction(async (tx) => {
      await lockLead(tx, id, access.scope);
      const now = new Date();
      await tx.query('update lead.leads set updated_at = $2 where id = $1', [id, now]);
      const created = await addToTimeline(tx, id, {
        type: activity.type,
        description: activity.description,
        actor: activity.actor,
        at: now,
      });
      await writeAudit(tx, access.audit, [id]);
      return created;
    });
  }
}

const MAX_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/** Each order's key, the type its position is compared as, and its (key, id) index. */
const SORT_KEYS: Record<LeadSort, { expression: string; type: string }> = {
  created_at: { expression: 'created_at', type: 'timestamptz' },
  updated_at: { expression: 'updated_at', type: 'timestamptz' },
  priority: { expression: 'lead.priority_rank(priority)', type: 'int' },
  status: { expression: 'lead.status_rank(status)', type: 'int' },
  name: { expression: 'lead.search_normalize(name)', type: 'text' },
  change: { expression: 'change_xid', type: 'bigint' },
};

/**
 * The search term as it is looked for in `lead.lead_search.search_text` (which
 * `lead.search_normalize` folds further, as it folded the document). A term of phone characters
 * with at least three digits is searched as its digits (so `+91 98765` finds `+919876543210`).
 */
export function searchTerm(q: string): string {
  const term = q.trim();
  const digits = term.replace(/\D/g, '');
  const asPhone = /^[+\d\s().-]+$/.test(term) && digits.length >= 3;
  return asPhone ? digits : term;
}

/** A trigram in at least this share of the leads is too common to look up in the index (see `lead.search_key`). */
const COMMON_TRIGRAM_SHARE = 0.02;
/** How long the common trigrams are reused before the statistics are read again (they change when ANALYZE runs). */
const COMMON_TRIGRAMS_TTL_MS = 5 * 60_000;
const commonTrigramsCache = new WeakMap<Database, { until: number; trigrams: Promise<string[] | null> }>();

/**
 * The trigrams of at least `COMMON_TRIGRAM_SHARE` of the leads, from ANALYZE's statistics of
 * `show_trgm(search_text)` (`lead.lead_search_trigrams`); null when there are none to read
 * (never analyzed, or unreadable), and the whole term is then searched.
 */
export async function readCommonTrigrams(sql: Sql): Promise<string[] | null> {
  const [row] = await sql.query<{ trigrams: string[] | null }>(
    `select array_agg(u.trigram) as trigrams
       from pg_stats_ext_exprs s,
            unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) as u(trigram, share)
      where s.statistics_schemaname = 'lead' and s.statistics_name = 'lead_search_trigrams'
        and u.trigram is not null and u.share >= $1`,
    [COMMON_TRIGRAM_SHARE],
  );
  return row?.trigrams ?? null;
}

/** `readCommonTrigrams`, read at most once per `COMMON_TRIGRAMS_TTL_MS` per database; a failed read searches whole terms. */
function commonTrigrams(db: Database): Promise<string[] | null> {
  const cached = commonTrigramsCache.get(db);
  if (cached && cached.until > Date.now()) return cached.trigrams;
  const trigrams = readCommonTrigrams(db).catch(() => null);
  commonTrigramsCache.set(db, { until: Date.now() + COMMON_TRIGRAMS_TTL_MS, trigrams });
  return trigrams;
}

/**
 * The statements of one list page: its leads, and the number of all matches. A search looks up
 * in the trigram index only the part of the term whose trigrams are not `common` (a
 * common trigram's posting list is read in full, ~2 ms per trigram at a million leads), and
 * checks each candidate for the whole term in the stored `search_text`.
 */
export function listQueries(
  filter: LeadFilter,
  request: ListRequest,
  scope: LeadScope,
  common: readonly string[] | null = null,
): { items: BatchStatement & { values: unknown[] }; total: { text: string; values: unknown[] } | null } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const add = (condition: (index: number) => string, value: unknown) => {
    params.push(value);
    conditions.push(condition(params.length));
  };
  for (const [column, value] of [
    ['status', filter.status],
    ['source', filter.source],
    ['assigned_to', filter.assignedTo],
    ['assigned_to', scope.assignedTo],
  ] as const) {
    if (value !== undefined) add((i) => `${column} = $${i}`, value);
  }
  // The maintained counts hold exactly these filters; anything more is counted for real. With a
  // utm filter that exact count(*) reads the filter's (utm_…, created_at, id) index: it grows with
  // the number of matches, not with the table (a campaign is a small share of the leads).
  const byAttribution = filter.utmSource !== undefined || filter.utmMedium !== undefined || filter.utmCampaign !== undefined;
  const counted = !byAttribution && filter.lostReason === undefined && !filter.duplicates && !filter.q && filter.updatedSince === undefined;
  const countable = [...conditions];
  const countableParams = [...params];
  for (const [column, value] of [
    ['utm_source', filter.utmSource],
    ['utm_medium', filter.utmMedium],
    ['utm_campaign', filter.utmCampaign],
  ] as const) {
    if (value !== undefined) add((i) => `${column} = $${i}`, value);
  }
  // The conditions so far are the equality filters, each with its own (column, created_at, id) index.
  const equalities = conditions.length;
  if (filter.lostReason) add((i) => `lost_reason = $${i}`, filter.lostReason);
  if (filter.duplicates) conditions.push(filter.duplicates === 'only' ? 'duplicate_of is not null' : 'duplicate_of is null');
  // The condition on `lead.lead_search` that picks a search's matches.
  let searched = '';
  if (filter.q) {
    params.push(searchTerm(filter.q), common);
    const [term, trigrams] = [params.length - 1, params.length];
    searched = `search_text like '%' || lead.search_key(lead.search_normalize($${term}), $${trigrams}::text[]) || '%'
                 and strpos(search_text, lead.search_normalize($${term})) > 0`;
    conditions.push(`id in (select lead_id from lead.lead_search where ${searched})`);
  }
  if (filter.updatedSince) add((i) => `updated_at >= $${i}`, filter.updatedSince);
  const where = (list: string[]) => (list.length ? ` where ${list.join(' and ')}` : '');
  const total = counted
    ? {
        // The counts and the changes not yet folded into them (see `UpkeepRepository`), in one snapshot.
        text: `select coalesce(sum(n), 0) as total from (select n from lead.lead_counts${where(countable)} union all select n from lead.lead_count_changes${where(countable)}) c`,
        values: countableParams,
      }
    : { text: `select count(*) as total from lead.leads${where(conditions)}`, values: [...params] };

  const { expression: key, type } = SORT_KEYS[request.sort];
  const direction = request.order === 'desc' ? 'desc' : 'asc';
  const pageConditions = [...conditions];
  const pageParams = [...params];
  // After a position: `(key, id)` compared with it (`afterPosition`).
  let afterPosition = '';
  if (request.after) {
    pageParams.push(request.after.key, request.after.id);
    const n = pageParams.length;
    afterPosition = `${direction === 'desc' ? '<' : '>'} ($${n - 1}::${type}, $${n}::uuid)`;
    pageConditions.push(`(${key}, id) ${afterPosition}`);
  }
  const order = `order by ${key} ${direction}, id ${direction}`;

  if (request.sort === 'change') {
    // The horizon and the page come from one statement, hence one snapshot: everything below
    // the horizon that matches is either on this page or after it, never before it.
    pageParams.push(request.limit);
    return {
      items: {
        text: `with h as (select pg_snapshot_xmin(pg_current_snapshot())::text::bigint as x)
               select h.x::text as horizon, l.* from h left join lateral (
                 select ${SUMMARY_COLUMNS}, change_xid::text as "sortKey" from lead.leads
                 ${where([...pageConditions, 'change_xid < h.x'])} ${order} limit $${pageParams.length}
               ) l on true order by l."sortKey"::bigint, l.id`,
        values: pageParams,
      },
      total,
    };
  }

  const offset = request.after ? 0 : (request.page - 1) * request.limit;
  pageParams.push(request.limit, offset);
  const [limit, skip] = [`$${pageParams.length - 1}`, `$${pageParams.length}`];
  if (filter.q) {
    // A search's matches are collected once (from the trigram index), counted and ordered: one
    // pass over the candidates for the page and its total (each row's "matchTotal"; an empty
    // page is one row of nulls and the total). Left to choose, the planner walks the order's
    // index and checks each lead for the term, expecting a share of matches it cannot
    // estimate: for a term in one lead of a million, 1.9 s. In creation order with no other
    // condition the matches and their order are all in `lead.lead_search`: only the page's
    // leads are read (a match read from both tables cost a million-lead search 60 % more).
    const matches =
      conditions.length === 1 && request.sort === 'created_at'
        ? `select lead_id as id, created_at as position from lead.lead_search where ${searched}`
        : `select id, ${key} as position from lead.leads${where(conditions)}`;
    return {
      items: {
        text: `with matches as materialized (${matches}),
               counted as (select count(*)::text as total from matches)
               select counted.total as "matchTotal", page.* from counted left join lateral (
                 select ${SUMMARY_COLUMNS}, ${key} as position, (${key})::text as "sortKey" from lead.leads where id in (
                   select id from matches${afterPosition ? ` where (position, id) ${afterPosition}` : ''}
                    order by position ${direction}, id ${direction} limit ${limit} offset ${skip})
               ) page on true order by page.position ${direction}, page.id ${direction}`,
        values: pageParams,
      },
      total: null,
    };
  }
  return {
    // The page's ids come from the order's index alone (an index-only scan where the filter's
    // index holds the key), then their rows by key. Asked for the rows directly, the planner walks the (created_at, id) index and filters
    // by status, which it costs as cheap; but when the newest leads all share one status (a
    // burst of new ones), every other status must first skip all of those: 14-65 ms at 1M
    // leads against 0.3-0.6 ms this way. The ids as an array, looked up by primary key: as
    // `id in (…)`, planning the semi-join cost PostgreSQL more than running it (a custom plan
    // per call: the limit and offset are parameters).
    items: {
      text: `select ${SUMMARY_COLUMNS}, (${key})::text as "sortKey" from lead.leads where id = any(array(
               select id from lead.leads${where(pageConditions)} ${order} limit ${limit} offset ${skip}))
             ${order}`,
      values: pageParams,
      // In creation order with at most one of the equality filters and no other condition, the
      // plan for the text alone reads that filter's index whatever the values and is the one
      // PostgreSQL picks for them (test/list-plan.test.ts holds both); with any other order or
      // filter, the values choose between indexes.
      genericPlan: request.sort === 'created_at' && conditions.length === equalities && equalities <= 1,
    },
    total,
  };
}

/**
 * The WHERE clause of the list's filters and the caller's scope over `lead.leads` (the first
 * four also name columns of `lead.lead_counts`), with `$1…` parameters from `offset + 1`.
 */
export function leadConditions(filter: LeadFilter, scope: LeadScope, offset = 0, alias = ''): { where: string; params: string[] } {
  const conditions: string[] = [];
  const params: string[] = [];
  for (const [column, value] of [
    ['status', filter.status],
    ['source', filter.source],
    ['assigned_to', filter.assignedTo],
    ['assigned_to', scope.assignedTo],
    ['utm_source', filter.utmSource],
    ['utm_medium', filter.utmMedium],
    ['utm_campaign', filter.utmCampaign],
  ] as const) {
    if (value === undefined) continue;
    params.push(value);
    conditions.push(`${alias}${column} = $${offset + params.length}`);
  }
  return { where: conditions.length ? ` where ${conditions.join(' and ')}` : '', params };
}

/**
 * The statements that write a new lead with its `created` activity, `LeadCreated` event and
 * audit row, all known before any of them answers, so that they go in one write: `lock`, then
 * `write`, then `audit`, in this order in one transaction (`Database.change`, with the lock
 * taken `nowait`; or a transaction that waits for it, as the idempotent create's, which claims
 * its key in the same one). `lead` makes the record from the rows `write` returned.
 */
function leadCreation(input: NewLead, audit: AuditEntry, options: CreateOptions) {
  const { attribution, consent, ...fields } = input;
  const id = uuidv7();
  const values: unknown[] = [];
  /** The next parameter, holding `value`. */
  const $ = (value: unknown) => `$${values.push(value)}`;
  // Its time is the statement's, read once the lock is held (below).
  const { timestamp: _unset, ...payload } = eventPayload(
    'LeadCreated',
    id,
    {
      email: input.email,
      source: input.source,
      utm_source: attribution?.utmSource ?? null,
      utm_medium: attribution?.utmMedium ?? null,
      utm_campaign: attribution?.utmCampaign ?? null,
      utm_term: attribution?.utmTerm ?? null,
      utm_content: attribution?.utmContent ?? null,
    },
    new Date(),
  );
  const leadId = $(id);
  // The inserts and the original's update are conditioned on nothing but the duplicate check,
  // made in the same statement (`found`). They are CTEs of it, each run exactly once; the
  // foreign keys to the new lead are checked at the statement's end, once it exists.
  const text = `with found as (
     select t.at, (
       select id from lead.leads
       where email_key = lower(btrim(${$(input.email)})) and created_at >= t.at - make_interval(days => ${$(options.duplicateWindowDays)}::int)
         and status not in ('closed_won', 'closed_lost') and merged_into is null
       order by created_at, id limit 1) as original
     from (select date_trunc('milliseconds', clock_timestamp()) as at) t
   ), lead as (
     insert into lead.leads (id, name, email, phone, company, message, source, status, priority, assigned_to, created_at, updated_at,
                             closed_at, duplicate_of, utm_source, utm_medium, utm_campaign)
     select ${leadId}, ${$(fields.name)}, ${$(fields.email)}, ${$(fields.phone)}, ${$(fields.company)}, ${$(fields.message)},
            ${$(fields.source)}, 'new', ${$(DEFAULT_PRIORITY)}, null, at, at, null, original,
            ${$(attribution?.utmSource ?? null)}, ${$(attribution?.utmMedium ?? null)}, ${$(attribution?.utmCampaign ?? null)}
     from found
   )${
     attribution
       ? `, attribution as (
     insert into lead.lead_attributions (lead_id, ${ATTRIBUTION_FIELDS})
     values (${leadId}, ${[
       attribution.utmSource,
       attribution.utmMedium,
       attribution.utmCampaign,
       attribution.utmTerm,
       attribution.utmContent,
       attribution.referrer,
       attribution.landingPage,
       attribution.page,
       attribution.firstTouch,
     ]
       .map($)
       .join(', ')})
   )`
       : ''
   }${
     consent
       ? `, consent as (
     insert into lead.lead_consents (id, lead_id, policy_version, marketing, text, page, given_at)
     select ${$(uuidv7())}, ${leadId}, ${$(consent.policyVersion)}, ${$(consent.marketing)}, ${$(consent.text)}, ${$(consent.page)}, at from found
   )`
       : ''
   }, activities as (
     insert into lead.lead_activities (id, lead_id, activity_type, description, details, performed_by, created_at)
     select ${$(uuidv7())}::uuid, ${leadId}::uuid, 'created', ${$(`Lead created from ${input.source}`)}::text, null::jsonb, null::uuid, at
     from found
     union all
     select ${$(uuidv7())}::uuid, original, 'duplicate_detected', 'A new lead with the same e-mail address was submitted',
            jsonb_build_object('duplicate_lead_id', ${leadId}::uuid), null, at
     from found where original is not null
   ), touched as (
     update lead.leads set updated_at = found.at from found where id = found.original
   ), event as (
     insert into lead.outbox_events (event_id, event_type, lead_id, payload, state, attempts, next_attempt_at, created_at, trace_parent)
     select ${$(payload.event_id)}, 'LeadCreated', ${leadId}, ${$(payload)}::jsonb || jsonb_build_object('timestamp', ${eventTimestampSql('at')}),
            'pending', 0, at, at, ${$(traceParentForEvent())}
     from found
   )
   select at, original from found`;
  const record = auditFrom('lead.leads where id = $1', [id], audit, [id]);
  return {
    // One create per address at a time (a transaction-scoped lock on its hash), so that of two
    // simultaneous submissions exactly one sees the other and becomes its duplicate. `write`
    // takes its snapshot when it starts, after the lock is held, so it sees the other
    // submission once that has committed; and it reads the lead's time after the lock too, so
    // that the creates of one address are timed in the order they held it and the original is
    // the earliest.
    lock: (wait: boolean) => ({
      text: `select ${wait ? 'pg_advisory_xact_lock' : 'lead.advisory_xact_lock_nowait'}(16, hashtext(lower(btrim($1))))`,
      values: [input.email],
    }),
    write: { text, values },
    audit: record,
    lead: ([row]: Array<{ at: Date; original: string | null }>): LeadRecord => {
      record.settle();
      return {
        id,
        ...fields,
        utmSource: attribution?.utmSource ?? null,
        utmMedium: attribution?.utmMedium ?? null,
        utmCampaign: attribution?.utmCampaign ?? null,
        status: 'new',
        priority: DEFAULT_PRIORITY,
        assignedTo: null,
        createdAt: row!.at,
        updatedAt: row!.at,
        closedAt: null,
        lostReason: null,
        duplicateOf: row!.original,
        mergedInto: null,
        erasedAt: null,
      };
    },
  };
}

/**
 * Writes a new lead with its `created` activity, `LeadCreated` event and audit row on `tx`,
 * which must be a transaction (the idempotent create claims its key in the same one).
 */
export async function insertLead(tx: Sql, input: NewLead, audit: AuditEntry, options: CreateOptions): Promise<LeadRecord> {
  return runCreation(tx, leadCreation(input, audit, options));
}

/** A creation's statements in `tx`, which may wait for the address's lock: the commit goes only after. */
async function runCreation(tx: Sql, creation: ReturnType<typeof leadCreation>): Promise<LeadRecord> {
  await tx.send(creation.lock(true).text, creation.lock(true).values);
  const rows = await tx.query<{ at: Date; original: string | null }>(creation.write.text, creation.write.values);
  await tx.send(creation.audit.text, creation.audit.values, creation.audit.wrapError);
  return creation.lead(rows);
}

/** Reads one lead; out of scope is not found. */
export async function findLead(sql: Sql, id: string, scope: LeadScope = {}): Promise<LeadRecord | undefined> {
  const [lead] = await sql.query<LeadRecord>(`select ${LEAD_COLUMNS} from lead.leads where id = $1${scopeCondition(scope, 2)}`, [
    id,
    ...scopeParams(scope),
  ]);
  return lead;
}

/** One entry of a lead's timeline, written with the change that caused it. */
async function addToTimeline(
  tx: Sql,
  leadId: string,
  entry: { type: ActivityType; description: string; details?: Record<string, string | null>; actor: string | null; at: Date },
): Promise<ActivityRecord> {
  const activity: ActivityRecord = {
    id: uuidv7(),
    leadId,
    activityType: entry.type,
    description: entry.description,
    details: entry.details ?? null,
    performedBy: entry.actor,
    createdAt: entry.at,
  };
  await tx.send(
    `insert into lead.lead_activities (id, lead_id, activity_type, description, details, performed_by, created_at)
     values ($1, $2, $3, $4, $5, $6, $7)`,
    [activity.id, leadId, activity.activityType, activity.description, activity.details, activity.performedBy, activity.createdAt],
  );
  return activity;
}

/** The change's event, in the change's transaction: delivered later by the dispatcher. */
export async function recordEvent(tx: Sql, type: EventType, leadId: string, fields: Record<string, EventField>, at: Date): Promise<void> {
  const payload = eventPayload(type, leadId, fields, at);
  await tx.send(
    `insert into lead.outbox_events (event_id, event_type, lead_id, payload, state, attempts, next_attempt_at, created_at, trace_parent)
     values ($1, $2, $3, $4, 'pending', 0, $5, $5, $6)`,
    [payload.event_id, type, leadId, payload, at, traceParentForEvent()],
  );
}

/** A lead's attribution; null when its submission carried none. */
async function attributionOf(sql: Sql, leadId: string): Promise<AttributionRecord | null> {
  const [attribution] = await sql.query<AttributionRecord>(`select ${ATTRIBUTION_COLUMNS} from lead.lead_attributions where lead_id = $1`, [
    leadId,
  ]);
  return attribution ?? null;
}

/** A lead's consents, oldest first. */
const consentsOf = (sql: Sql, leadId: string) =>
  sql.query<ConsentRecord>(`select ${CONSENT_COLUMNS} from lead.lead_consents where lead_id = $1 order by given_at, id`, [leadId]);

/** A lead's timeline, oldest first. */
const timeline = (sql: Sql, leadId: string) =>
  sql.query<ActivityRecord>(`select ${ACTIVITY_COLUMNS} from lead.lead_activities where lead_id = $1 order by created_at, id`, [leadId]);

const scopeCondition = (scope: LeadScope, index: number) => (scope.assignedTo ? ` and assigned_to = $${index}` : '');
const scopeParams = (scope: LeadScope) => (scope.assignedTo ? [scope.assignedTo] : []);

/**
 * The four reads of `getWithActivities`, unscoped and scoped (`$2` the assignee), built once:
 * a text built per call is hashed and compared in full on each (its statement's name, and
 * whether the connection holds it), where a constant's hash is kept and compares by identity.
 */
function leadReads(scope: LeadScope): string[] {
  const inScope = scope.assignedTo ? ` and exists (select 1 from lead.leads where id = $1${scopeCondition(scope, 2)})` : '';
  return [
    `select ${LEAD_COLUMNS} from lead.leads where id = $1${scopeCondition(scope, 2)}`,
    `select ${ATTRIBUTION_COLUMNS} from lead.lead_attributions where lead_id = $1${inScope}`,
    `select ${ACTIVITY_COLUMNS} from lead.lead_activities where lead_id = $1${inScope} order by created_at, id`,
    `select ${CONSENT_COLUMNS} from lead.lead_consents where lead_id = $1${inScope} order by given_at, id`,
  ];
}
const LEAD_READS = { unscoped: leadReads({}), scoped: leadReads({ assignedTo: 'an assignee' }) };

/** The lead, locked for the transaction so concurrent changes serialise; out of scope is not found. */
async function lockLead(tx: Sql, id: string, scope: LeadScope): Promise<LeadRecord> {
  const [lead] = await tx.query<LeadRecord>(`select ${LEAD_COLUMNS} from lead.leads where id = $1${scopeCondition(scope, 2)} for update`, [
    id,
    ...scopeParams(scope),
  ]);
  if (!lead) throw new LeadNotFoundError(id);
  return lead;
}
