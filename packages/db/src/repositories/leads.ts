import { LockMode, type EntityManager, type FilterQuery } from '@mikro-orm/postgresql';
import { v7 as uuidv7 } from 'uuid';
import { LeadActivity, type ActivityType } from '../entities/lead-activity.js';
import { CLOSED_STATUSES, Lead, type LeadPriority, type LeadSource, type LeadStatus } from '../entities/lead.js';
import { AssignmentForbiddenError, LeadNotFoundError, StatusUnchangedError } from '../errors.js';
import { writeAudit, type AuditEntry } from './audit.js';
import { recordEvent } from './outbox.js';

export interface NewLead {
  name: string;
  email: string;
  phone: string | null;
  company: string | null;
  message: string | null;
  source: LeadSource;
}

export interface LeadFilter {
  status?: LeadStatus;
  source?: LeadSource;
  assignedTo?: string;
}

export interface PageRequest {
  page: number;
  limit: number;
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

const DEFAULT_PRIORITY: LeadPriority = 'medium';

/**
 * The lead domain: every rule of the pipeline and of who may touch which lead lives here,
 * beside the data it guards. Each change is one transaction that includes its audit row; each
 * read writes its audit row before returning data. Time-ordered (v7) ids keep inserts local in
 * the primary key index and give rows of the same millisecond a stable order. A change the
 * notification service must hear of writes its event to the outbox in that same transaction.
 */
export class LeadRepository {
  constructor(private readonly em: EntityManager) {}

  /** A new lead, its `created` activity, its `LeadCreated` event and its audit row, in one transaction. */
  async create(input: NewLead, audit: AuditEntry): Promise<Lead> {
    return this.em.transactional(async (em) => {
      const now = new Date();
      const lead = em.create(Lead, {
        id: uuidv7(),
        ...input,
        status: 'new',
        priority: DEFAULT_PRIORITY,
        assignedTo: null,
        createdAt: now,
        updatedAt: now,
        closedAt: null,
      });
      addToTimeline(em, lead, { type: 'created', description: `Lead created from ${input.source}`, actor: null, at: now });
      recordEvent(em, 'LeadCreated', lead.id, { email: input.email, source: input.source }, now);
      await em.flush();
      await writeAudit(em, audit, [lead.id]);
      return lead;
    });
  }

  /**
   * One page, newest first (ties broken by id), and the number of all matches. The page reads
   * the filter's (…, created_at, id) index backwards; the total sums the maintained counts
   * (`LeadCount`), so neither grows with the number of matching leads (deep pages still walk
   * the index up to their offset).
   */
  async listPage(filter: LeadFilter, { page, limit }: PageRequest, access: Access): Promise<{ items: Lead[]; total: number }> {
    const where: FilterQuery<Lead> = {};
    if (filter.status) where.status = filter.status;
    if (filter.source) where.source = filter.source;
    if (filter.assignedTo) where.assignedTo = filter.assignedTo;
    const items = await this.em.find(Lead, { $and: [where, scoped(access.scope)] }, {
      orderBy: { createdAt: 'desc', id: 'desc' },
      limit,
      offset: (page - 1) * limit,
      disableIdentityMap: true,
    });
    const total = await this.countMatching(filter, access.scope);
    await writeAudit(this.em, access.audit, items.map((lead) => lead.id));
    return { items, total };
  }

  private async countMatching(filter: LeadFilter, scope: LeadScope): Promise<number> {
    const conditions: string[] = [];
    const params: string[] = [];
    for (const [column, value] of [
      ['status', filter.status],
      ['source', filter.source],
      ['assigned_to', filter.assignedTo],
      ['assigned_to', scope.assignedTo],
    ] as const) {
      if (value === undefined) continue;
      params.push(value);
      conditions.push(`${column} = ?`);
    }
    const where = conditions.length ? ` where ${conditions.join(' and ')}` : '';
    const row = await this.em
      .getConnection()
      .execute<{ total: string }>(`select coalesce(sum(n), 0) as total from lead.lead_counts${where}`, params, 'get');
    return Number(row.total);
  }

  /** The lead and its activities, oldest first. */
  async getWithActivities(id: string, access: Access): Promise<{ lead: Lead; activities: LeadActivity[] }> {
    const lead = await this.em.findOne(Lead, { id, ...scoped(access.scope) });
    if (!lead) throw new LeadNotFoundError(id);
    const activities = await this.em.find(LeadActivity, { lead: id }, { orderBy: { createdAt: 'asc', id: 'asc' } });
    await writeAudit(this.em, access.audit, [id]);
    return { lead, activities };
  }

  /**
   * Moves a lead to `status`. The row is locked for the transaction so that concurrent changes
   * each record the status they really changed from. Closing sets `closedAt` (kept when moving
   * between the two closed states); reopening clears it.
   */
  async changeStatus(id: string, status: LeadStatus, opts: Access & { notes: string | null; actor: string }): Promise<Lead> {
    return this.em.transactional(async (em) => {
      const lead = await lockLead(em, id, opts.scope);
      if (lead.status === status) throw new StatusUnchangedError(status);
      const from = lead.status;
      const now = new Date();
      lead.status = status;
      lead.updatedAt = now;
      lead.closedAt = CLOSED_STATUSES.includes(status) ? (lead.closedAt ?? now) : null;
      addToTimeline(em, lead, {
        type: 'status_changed',
        description: opts.notes ?? `Status changed from ${from} to ${status}`,
        details: { old_status: from, new_status: status },
        actor: opts.actor,
        at: now,
      });
      recordEvent(em, 'LeadStatusChanged', lead.id, { old_status: from, new_status: status }, now);
      await em.flush();
      await writeAudit(em, opts.audit, [id]);
      return lead;
    });
  }

  /**
   * Sets or clears the assignee; an actual change is recorded in the timeline. A caller scoped
   * to their own leads may keep or release a lead, never hand it to someone else.
   */
  async assign(id: string, assignee: string | null, opts: Access & { actor: string }): Promise<Lead> {
    return this.em.transactional(async (em) => {
      const lead = await lockLead(em, id, opts.scope);
      if (opts.scope.assignedTo && assignee !== null && assignee !== opts.scope.assignedTo) {
        throw new AssignmentForbiddenError();
      }
      const from = lead.assignedTo ?? null;
      if (from !== assignee) {
        const now = new Date();
        lead.assignedTo = assignee;
        lead.updatedAt = now;
        addToTimeline(em, lead, {
          type: 'assigned',
          description: assignee ? `Assigned to ${assignee}` : 'Unassigned',
          details: { assigned_from: from, assigned_to: assignee },
          actor: opts.actor,
          at: now,
        });
        recordEvent(em, 'LeadAssigned', lead.id, { old_assigned_to: from, new_assigned_to: assignee }, now);
        await em.flush();
      }
      await writeAudit(em, opts.audit, [id]);
      return lead;
    });
  }

  /** A note or contact by a user. Only these two types may come from outside the service. */
  async addActivity(
    id: string,
    activity: { type: Extract<ActivityType, 'note_added' | 'contacted'>; description: string; actor: string },
    access: Access,
  ): Promise<LeadActivity> {
    return this.em.transactional(async (em) => {
      const lead = await lockLead(em, id, access.scope);
      const now = new Date();
      lead.updatedAt = now;
      const created = addToTimeline(em, lead, { type: activity.type, description: activity.description, actor: activity.actor, at: now });
      await em.flush();
      await writeAudit(em, access.audit, [id]);
      return created;
    });
  }
}

/** One entry of a lead's timeline, flushed with the change that caused it. */
function addToTimeline(
  em: EntityManager,
  lead: Lead,
  entry: { type: ActivityType; description: string; details?: Record<string, string | null>; actor: string | null; at: Date },
): LeadActivity {
  return em.create(LeadActivity, {
    id: uuidv7(),
    lead,
    activityType: entry.type,
    description: entry.description,
    details: entry.details ?? null,
    performedBy: entry.actor,
    createdAt: entry.at,
  });
}

const scoped = (scope: LeadScope): { assignedTo?: string } => (scope.assignedTo ? { assignedTo: scope.assignedTo } : {});

/** The lead, locked for the transaction so concurrent changes serialise; out of scope is not found. */
async function lockLead(em: EntityManager, id: string, scope: LeadScope): Promise<Lead> {
  const lead = await em.findOne(Lead, { id, ...scoped(scope) }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!lead) throw new LeadNotFoundError(id);
  return lead;
}
