import { v7 as uuidv7 } from 'uuid';
import { AuditUnavailableError } from '../errors.js';
import type { Database, Sql } from '../sql.js';
import type { PageRequest } from './pages.js';

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

/** Entries whose row is written (or, for a caught bot, deliberately not): see `isAuditSettled`. */
const settled = new WeakSet<AuditEntry>();

/** Whether this call's audit row was written (or waived): the server writes it otherwise. */
export const isAuditSettled = (entry: AuditEntry): boolean => settled.has(entry);

/** Marks an entry as needing no row: the call stored nothing and served no lead (the honeypot). */
export const waiveAudit = (entry: AuditEntry): void => void settled.add(entry);

const REASON_MAX = 500;

/**
 * Appends one audit row. Called inside the transaction of a change, so the change and its
 * record commit or fail together; and before a read's data is returned, so nothing is served
 * unaudited. `reason` says why a change was made (an erasure's); it must hold no personal data.
 * Any failure becomes `AuditUnavailableError`.
 */
const auditValues = (entry: AuditEntry, leadIds: string[]) => [
  uuidv7(),
  entry.actorSub,
  entry.actorRole,
  entry.action,
  leadIds,
  entry.requestId,
  entry.clientIp,
  entry.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
  new Date(),
];

/**
 * A read's audit row as a statement of `Database.batch`, sent in the same round trip as the read
 * (and committed with it, before anything is served): written only if `condition` holds, SQL
 * whose parameters follow the row's (`$10…`, given as `conditionValues`), e.g. that the lead
 * exists in the caller's scope, so that a read that finds nothing writes no row, as before.
 * Call `settleAudit` once the batch has succeeded and the condition held.
 */
export function auditRowIf(entry: AuditEntry, leadIds: string[], condition: string, conditionValues: unknown[]) {
  return {
    text: `insert into lead.audit_log (id, actor_sub, actor_role, action, lead_ids, request_id, client_ip, user_agent, created_at)
       select $1::uuid, $2::uuid, $3::varchar, $4::varchar, $5::uuid[], $6::varchar, $7::varchar, $8::varchar, $9::timestamptz where ${condition}`,
    values: [...auditValues(entry, leadIds), ...conditionValues],
    wrapError: (cause: unknown) => new AuditUnavailableError({ cause }),
  };
}

/** Marks a read's row written by `auditRowIf` as settled: the server writes no other. */
export const settleAudit = (entry: AuditEntry): void => void settled.add(entry);

export async function writeAudit(sql: Sql, entry: AuditEntry, leadIds: string[], reason: string | null = null): Promise<void> {
  // In a transaction the row goes out with the change's next statement or its commit (`send`):
  // it commits or fails with them, and a failure is still `AuditUnavailableError`.
  await sql.send(
    `insert into lead.audit_log (id, actor_sub, actor_role, action, lead_ids, request_id, client_ip, user_agent, created_at, reason)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [...auditValues(entry, leadIds), reason?.slice(0, REASON_MAX) ?? null],
    (cause) => new AuditUnavailableError({ cause }),
  );
  settled.add(entry);
}

export interface AuditFilter {
  leadId?: string;
  actorSub?: string;
  /** Inclusive lower bound. */
  from?: Date;
  /** Exclusive upper bound. */
  to?: Date;
}

/** One row of the trail (the columns of `lead.audit_log`). */
export interface AuditRecord {
  id: string;
  actorSub: string | null;
  actorRole: string | null;
  action: string;
  leadIds: string[];
  requestId: string;
  clientIp: string;
  userAgent: string | null;
  createdAt: Date;
  /** Why the change was made (an erasure's reason), when one was given. */
  reason: string | null;
}

export const AUDIT_COLUMNS = `id, actor_sub as "actorSub", actor_role as "actorRole", action, lead_ids as "leadIds", request_id as "requestId",
  client_ip as "clientIp", user_agent as "userAgent", created_at as "createdAt", reason`;

export class AuditRepository {
  constructor(private readonly db: Database) {}

  /** One page of the trail, newest first, and the number of all matches. */
  async listPage(filter: AuditFilter, { page, limit }: PageRequest): Promise<{ items: AuditRecord[]; total: number }> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    const add = (condition: (index: number) => string, value: unknown) => {
      params.push(value);
      conditions.push(condition(params.length));
    };
    if (filter.leadId) add((i) => `lead_ids @> array[$${i}::uuid]`, filter.leadId);
    if (filter.actorSub) add((i) => `actor_sub = $${i}`, filter.actorSub);
    if (filter.from) add((i) => `created_at >= $${i}`, filter.from);
    if (filter.to) add((i) => `created_at < $${i}`, filter.to);
    const where = conditions.length ? `where ${conditions.join(' and ')}` : '';
    const n = params.length;
    const [items, [count]] = await Promise.all([
      this.db.query<AuditRecord>(
        `select ${AUDIT_COLUMNS} from lead.audit_log ${where} order by created_at desc, id desc limit $${n + 1} offset $${n + 2}`,
        [...params, limit, (page - 1) * limit],
      ),
      this.db.query<{ total: string }>(`select count(*) as total from lead.audit_log ${where}`, params),
    ]);
    return { items, total: Number(count!.total) };
  }
}
