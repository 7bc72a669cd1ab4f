import { v7 as uuidv7 } from 'uuid';
import type { AttributionRecord } from '../attribution.js';
import type { ActivityType } from '../entities/lead-activity.js';
import { CLOSED_STATUSES, type LeadPriority, type LeadSource, type LeadStatus } from '../entities/lead.js';
import type { EventType } from '../entities/outbox-event.js';
import { AssignmentForbiddenError, LeadNotFoundError, StatusUnchangedError } from '../errors.js';
import type { Database, Sql } from '../sql.js';
import { writeAudit, type AuditEntry } from './audit.js';
import { eventPayload, traceParentForEvent } from './outbox.js';
import type { PageRequest } from './pages.js';

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
}

export interface LeadFilter {
  status?: LeadStatus;
  source?: LeadSource;
  assignedTo?: string;
  utmSource?: string;
  utmMedium?: string;
  utmCampaign?: string;
}

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
export interface LeadRecord extends Omit<NewLead, 'attribution'> {
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

const LEAD_COLUMNS = `id, name, email, phone, company, message, source, status, priority, assigned_to as "assignedTo",
  created_at as "createdAt", updated_at as "updatedAt", closed_at as "closedAt",
  utm_source as "utmSource", utm_medium as "utmMedium", utm_campaign as "utmCampaign"`;
const ATTRIBUTION_COLUMNS = `utm_source as "utmSource", utm_medium as "utmMedium", utm_campaign as "utmCampaign",
  utm_term as "utmTerm", utm_content as "utmContent", referrer, landing_page as "landingPage", page, first_touch as "firstTouch"`;
const ACTIVITY_COLUMNS = `id, lead_id as "leadId", activity_type as "activityType", description, details,
  performed_by as "performedBy", created_at as "createdAt"`;

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
  async create(input: NewLead, audit: AuditEntry): Promise<LeadRecord> {
    return this.db.transaction((tx) => insertLead(tx, input, audit));
  }

  /**
   * One page, newest first (ties broken by id), and the number of all matches. The page's ids
   * come from the filter's (…, created_at, id) index alone, read backwards (`listQueries`); the
   * total sums the maintained counts (`LeadCount`), so neither grows with the number of
   * matching leads (deep pages still walk the index up to their offset).
   */
  async listPage(filter: LeadFilter, page: PageRequest, scope: LeadScope): Promise<{ items: LeadRecord[]; total: number }> {
    const { items: itemsQuery, total: totalQuery } = listQueries(filter, page, scope);
    const [items, [count]] = await Promise.all([
      this.db.query<LeadRecord>(itemsQuery.text, itemsQuery.values),
      this.db.query<{ total: string }>(totalQuery.text, totalQuery.values),
    ]);
    return { items, total: Number(count!.total) };
  }

  /**
   * The lead and its activities, oldest first. The activities are read under the same scope as
   * the lead, so a lead out of scope costs no more than one that does not exist.
   */
  async getWithActivities(
    id: string,
    scope: LeadScope,
  ): Promise<{ lead: LeadRecord; attribution: AttributionRecord | null; activities: ActivityRecord[] }> {
    const inScope = scope.assignedTo ? ' and exists (select 1 from lead.leads where id = $1 and assigned_to = $2)' : '';
    const [[lead], [attribution], activities] = await Promise.all([
      this.db.query<LeadRecord>(`select ${LEAD_COLUMNS} from lead.leads where id = $1${scopeCondition(scope, 2)}`, [
        id,
        ...scopeParams(scope),
      ]),
      this.db.query<AttributionRecord>(`select ${ATTRIBUTION_COLUMNS} from lead.lead_attributions where lead_id = $1${inScope}`, [
        id,
        ...scopeParams(scope),
      ]),
      this.db.query<ActivityRecord>(
        `select ${ACTIVITY_COLUMNS} from lead.lead_activities where lead_id = $1${inScope} order by created_at, id`,
        [id, ...scopeParams(scope)],
      ),
    ]);
    if (!lead) throw new LeadNotFoundError(id);
    return { lead, attribution: attribution ?? null, activities };
  }

  /**
   * Moves a lead to `status`. The row is locked for the transaction so that concurrent changes
   * each record the status they really changed from. Closing sets `closedAt` (kept when moving
   * between the two closed states); reopening clears it.
   */
  async changeStatus(id: string, status: LeadStatus, opts: Access & { notes: string | null; actor: string }): Promise<LeadRecord> {
    return this.db.transaction(async (tx) => {
      const lead = await lockLead(tx, id, opts.scope);
      if (lead.status === status) throw new StatusUnchangedError(status);
      const from = lead.status;
      const now = new Date();
      const closedAt = CLOSED_STATUSES.includes(status) ? (lead.closedAt ?? now) : null;
      await tx.query('update lead.leads set status = $2, updated_at = $3, closed_at = $4 where id = $1', [id, status, now, closedAt]);
      await addToTimeline(tx, id, {
        type: 'status_changed',
        description: opts.notes ?? `Status changed from ${from} to ${status}`,
        details: { old_status: from, new_status: status },
        actor: opts.actor,
        at: now,
      });
      await recordEvent(tx, 'LeadStatusChanged', id, { old_status: from, new_status: status }, now);
      await writeAudit(tx, opts.audit, [id]);
      return { ...lead, status, updatedAt: now, closedAt };
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

/** The statements of one list page: its leads, and the number of all matches. */
export function listQueries(
  filter: LeadFilter,
  { page, limit }: PageRequest,
  scope: LeadScope,
): { items: { text: string; values: unknown[] }; total: { text: string; values: unknown[] } } {
  const { where, params } = leadConditions(filter, scope);
  const byAttribution = filter.utmSource !== undefined || filter.utmMedium !== undefined || filter.utmCampaign !== undefined;
  return {
    // The page's ids come from the filter's index alone (an index-only scan), then their rows by
    // key. Asked for the rows directly, the planner walks the (created_at, id) index and filters
    // by status, which it costs as cheap; but when the newest leads all share one status (a
    // burst of new ones), every other status must first skip all of those: 14-65 ms at 1M
    // leads against 0.3-0.6 ms this way.
    items: {
      text: `select ${LEAD_COLUMNS} from lead.leads where id in (
               select id from lead.leads${where} order by created_at desc, id desc limit $${params.length + 1} offset $${params.length + 2})
             order by created_at desc, id desc`,
      values: [...params, limit, (page - 1) * limit],
    },
    // The maintained counts cover (status, source, assignee) only. With a utm filter the total is
    // an exact count(*) instead, read from that filter's (utm_…, created_at, id) index: it grows
    // with the number of matches, not with the table (a campaign is a small share of the leads).
    total: byAttribution
      ? { text: `select count(*) as total from lead.leads${where}`, values: params }
      : { text: `select coalesce(sum(n), 0) as total from lead.lead_counts${where}`, values: params },
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
 * Writes a new lead with its `created` activity, `LeadCreated` event and audit row on `tx`,
 * which must be a transaction (the idempotent create claims its key in the same one).
 */
export async function insertLead(tx: Sql, input: NewLead, audit: AuditEntry): Promise<LeadRecord> {
  const now = new Date();
  const { attribution, ...fields } = input;
  const lead: LeadRecord = {
    id: uuidv7(),
    ...fields,
    utmSource: attribution?.utmSource ?? null,
    utmMedium: attribution?.utmMedium ?? null,
    utmCampaign: attribution?.utmCampaign ?? null,
    status: 'new',
    priority: DEFAULT_PRIORITY,
    assignedTo: null,
    createdAt: now,
    updatedAt: now,
    closedAt: null,
  };
  await tx.query(
    `insert into lead.leads (id, name, email, phone, company, message, source, status, priority, assigned_to, created_at, updated_at, closed_at,
                             utm_source, utm_medium, utm_campaign)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, null, $10, $10, null, $11, $12, $13)`,
    [
      lead.id,
      lead.name,
      lead.email,
      lead.phone,
      lead.company,
      lead.message,
      lead.source,
      lead.status,
      lead.priority,
      now,
      lead.utmSource,
      lead.utmMedium,
      lead.utmCampaign,
    ],
  );
  if (attribution) {
    await tx.query(
      `insert into lead.lead_attributions (lead_id, utm_source, utm_medium, utm_campaign, utm_term, utm_content, referrer, landing_page, page, first_touch)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        lead.id,
        attribution.utmSource,
        attribution.utmMedium,
        attribution.utmCampaign,
        attribution.utmTerm,
        attribution.utmContent,
        attribution.referrer,
        attribution.landingPage,
        attribution.page,
        attribution.firstTouch,
      ],
    );
  }
  await addToTimeline(tx, lead.id, { type: 'created', description: `Lead created from ${input.source}`, actor: null, at: now });
  await recordEvent(
    tx,
    'LeadCreated',
    lead.id,
    {
      email: input.email,
      source: input.source,
      utm_source: attribution?.utmSource ?? null,
      utm_medium: attribution?.utmMedium ?? null,
      utm_campaign: attribution?.utmCampaign ?? null,
      utm_term: attribution?.utmTerm ?? null,
      utm_content: attribution?.utmContent ?? null,
    },
    now,
  );
  await writeAudit(tx, audit, [lead.id]);
  return lead;
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
  await tx.query(
    `insert into lead.lead_activities (id, lead_id, activity_type, description, details, performed_by, created_at)
     values ($1, $2, $3, $4, $5, $6, $7)`,
    [activity.id, leadId, activity.activityType, activity.description, activity.details, activity.performedBy, activity.createdAt],
  );
  return activity;
}

/** The change's event, in the change's transaction: delivered later by the dispatcher. */
async function recordEvent(tx: Sql, type: EventType, leadId: string, fields: Record<string, string | null>, at: Date): Promise<void> {
  const payload = eventPayload(type, leadId, fields, at);
  await tx.query(
    `insert into lead.outbox_events (event_id, event_type, lead_id, payload, state, attempts, next_attempt_at, created_at, trace_parent)
     values ($1, $2, $3, $4, 'pending', 0, $5, $5, $6)`,
    [payload.event_id, type, leadId, payload, at, traceParentForEvent()],
  );
}

const scopeCondition = (scope: LeadScope, index: number) => (scope.assignedTo ? ` and assigned_to = $${index}` : '');
const scopeParams = (scope: LeadScope) => (scope.assignedTo ? [scope.assignedTo] : []);

/** The lead, locked for the transaction so concurrent changes serialise; out of scope is not found. */
async function lockLead(tx: Sql, id: string, scope: LeadScope): Promise<LeadRecord> {
  const [lead] = await tx.query<LeadRecord>(`select ${LEAD_COLUMNS} from lead.leads where id = $1${scopeCondition(scope, 2)} for update`, [
    id,
    ...scopeParams(scope),
  ]);
  if (!lead) throw new LeadNotFoundError(id);
  return lead;
}
