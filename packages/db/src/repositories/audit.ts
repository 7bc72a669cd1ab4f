import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { v7 as uuidv7 } from 'uuid';
import { AuditLog } from '../entities/audit-log.js';
import { AuditUnavailableError } from '../errors.js';
import type { Sql } from '../sql.js';
import type { PageRequest } from './leads.js';

/** Who did what, and from where: everything an audit row holds except the lead ids and time. */
export interface AuditEntry {
  /** The user's id; null for the public website. */
  actorSub: string | null;
  actorRole: string | null;
  /** The procedure, e.g. `leads.updateStatus`. */
  action: string;
  requestId: string;
  clientIp: string;
  userAgent: string | null;
}

const USER_AGENT_MAX = 512;

/**
 * Appends one audit row. Called inside the transaction of a change, so the change and its
 * record commit or fail together; and before a read's data is returned, so nothing is served
 * unaudited. Any failure becomes `AuditUnavailableError`.
 */
export async function writeAudit(sql: Sql, entry: AuditEntry, leadIds: string[]): Promise<void> {
  try {
    await sql.query(
      `insert into lead.audit_log (id, actor_sub, actor_role, action, lead_ids, request_id, client_ip, user_agent, created_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        uuidv7(),
        entry.actorSub,
        entry.actorRole,
        entry.action,
        leadIds,
        entry.requestId,
        entry.clientIp,
        entry.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
        new Date(),
      ],
    );
  } catch (cause) {
    throw new AuditUnavailableError({ cause });
  }
}

export interface AuditFilter {
  leadId?: string;
  actorSub?: string;
  /** Inclusive lower bound. */
  from?: Date;
  /** Exclusive upper bound. */
  to?: Date;
}

export class AuditRepository {
  constructor(private readonly em: EntityManager) {}

  /** One page of the trail, newest first, and the number of all matches. */
  async listPage(filter: AuditFilter, { page, limit }: PageRequest): Promise<{ items: AuditLog[]; total: number }> {
    const where: FilterQuery<AuditLog> = {};
    if (filter.leadId) where.leadIds = { $contains: [filter.leadId] };
    if (filter.actorSub) where.actorSub = filter.actorSub;
    if (filter.from || filter.to) {
      where.createdAt = { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lt: filter.to } : {}) };
    }
    const [items, total] = await this.em.findAndCount(AuditLog, where, {
      orderBy: { createdAt: 'desc', id: 'desc' },
      limit,
      offset: (page - 1) * limit,
      disableIdentityMap: true,
    });
    return { items, total };
  }
}
