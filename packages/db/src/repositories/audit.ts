import { v7 as uuidv7 } from 'uuid';
import { AuditUnavailableError } from '../errors.js';
import { Database, type Sql } from '../sql.js';
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

/** One row's values, in the order of `AUDIT_INSERT_COLUMNS`. */
const auditValues = (entry: AuditEntry, leadIds: string[], reason: string | null): AuditRow => [
  uuidv7(),
  entry.actorSub,
  entry.actorRole,
  entry.action,
  leadIds,
  entry.requestId,
  entry.clientIp,
  entry.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
  new Date(),
  reason?.slice(0, REASON_MAX) ?? null,
];

type AuditRow = [string, string | null, string | null, string, string[], string, string, string | null, Date, string | null];

/** Where a row holds its lead ids. */
const LEAD_IDS = 4;

const AUDIT_INSERT_COLUMNS = 'id, actor_sub, actor_role, action, lead_ids, request_id, client_ip, user_agent, created_at, reason';

/**
 * Many rows in one statement: each column as one array parameter. The lead ids of a row are an
 * array themselves, so they travel as its text form (`{…}`) and are cast back.
 */
const INSERT_ROWS = `insert into lead.audit_log (${AUDIT_INSERT_COLUMNS})
  select id, actor_sub, actor_role, action, lead_ids::uuid[], request_id, client_ip, user_agent, created_at, reason
  from unnest($1::uuid[], $2::uuid[], $3::varchar[], $4::varchar[], $5::text[], $6::varchar[], $7::varchar[], $8::varchar[], $9::timestamptz[], $10::varchar[])
    as row (${AUDIT_INSERT_COLUMNS})`;

/** Rows of one statement at most, so that one insert stays short however deep the queue. */
const MAX_ROWS_PER_INSERT = 200;

interface Waiting {
  row: AuditRow;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The audit rows written outside a change's transaction (a read's, before it is served), group
 * committed: the rows of the calls that arrive while one insert is in flight go out together in
 * the next, one statement and one commit (one WAL flush) for all of them. Nothing waits for a
 * batch to fill: a row that finds no insert in flight goes at once. Each call still resolves
 * only once its own row has committed, so nothing is served unaudited. Should a batch fail, its
 * rows are tried once more one by one, so that one row PostgreSQL refuses fails only its own
 * call, and a database that is down fails each of them as before.
 */
class AuditQueue {
  private waiting: Waiting[] = [];
  private flushing = false;

  constructor(private readonly db: Database) {}

  write(row: AuditRow): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ row, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, MAX_ROWS_PER_INSERT);
      try {
        await this.insert(batch.map((w) => w.row));
        for (const w of batch) w.resolve();
      } catch (error) {
        if (batch.length === 1) batch[0]!.reject(new AuditUnavailableError({ cause: error }));
        else
          await Promise.all(
            batch.map((w) => this.insert([w.row]).then(w.resolve, (cause: unknown) => w.reject(new AuditUnavailableError({ cause })))),
          );
      }
    }
    this.flushing = false;
  }

  private async insert(rows: AuditRow[]): Promise<void> {
    const columns: unknown[][] = rows[0]!.map((_, i) => rows.map((row) => row[i]));
    columns[LEAD_IDS] = rows.map((row) => `{${row[LEAD_IDS].join(',')}}`);
    await this.db.query(INSERT_ROWS, columns);
  }
}

/** The types of `AUDIT_INSERT_COLUMNS`, for a row's values as the parameters of a `select`. */
const AUDIT_TYPES = ['uuid', 'uuid', 'varchar', 'varchar', 'uuid[]', 'varchar', 'varchar', 'varchar', 'timestamptz', 'varchar'];

/**
 * The audit row of a change whose statements are all sent at once (`Database.change`): an
 * `insert … select` of the row from `source` (e.g. `lead.lead_activities where id = $1`, the
 * change's activity, with `sourceValues` its parameters), so that the row is written exactly
 * when the change was made. `wrapError` is the statement's (a failure is
 * `AuditUnavailableError`); `settle` once it has committed (see `isAuditSettled`).
 */
export function auditFrom(source: string, sourceValues: unknown[], entry: AuditEntry, leadIds: string[]) {
  const params = AUDIT_TYPES.map((type, i) => `$${sourceValues.length + 1 + i}::${type}`).join(', ');
  return {
    text: `insert into lead.audit_log (${AUDIT_INSERT_COLUMNS}) select ${params} from ${source}`,
    values: [...sourceValues, ...auditValues(entry, leadIds, null)],
    wrapError: (cause: unknown) => new AuditUnavailableError({ cause }),
    settle: () => void settled.add(entry),
  };
}

const queues = new WeakMap<Database, AuditQueue>();

/**
 * Appends one audit row. In a change's transaction, the row goes out with the change's next
 * statement or its commit (`send`): the change and its record commit or fail together. Outside
 * one (a read, before its data is returned), it is written through the database's `AuditQueue`
 * and committed before this resolves, so nothing is served unaudited. `reason` says why a change
 * was made (an erasure's); it must hold no personal data. Any failure becomes
 * `AuditUnavailableError`.
 */
export async function writeAudit(sql: Sql, entry: AuditEntry, leadIds: string[], reason: string | null = null): Promise<void> {
  const row = auditValues(entry, leadIds, reason);
  if (sql instanceof Database) {
    let queue = queues.get(sql);
    if (!queue) queues.set(sql, (queue = new AuditQueue(sql)));
    await queue.write(row);
  } else {
    await sql.send(
      `insert into lead.audit_log (${AUDIT_INSERT_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      row,
      (cause) => new AuditUnavailableError({ cause }),
    );
  }
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
