import { v7 as uuidv7 } from 'uuid';
import type { EventField, EventPayload, EventState, EventType } from '../entities/outbox-event.js';
import { EventNotDeadError, EventNotFoundError } from '../errors.js';
import type { Database } from '../sql.js';
import { writeAudit, type AuditEntry } from './audit.js';
import type { PageRequest } from './pages.js';

/** The body the notification service receives for a change: the spec's fields plus `event_id`. */
export function eventPayload(type: EventType, leadId: string, fields: Record<string, EventField>, at: Date): EventPayload {
  return { event_id: uuidv7(), event_type: type, lead_id: leadId, ...fields, timestamp: at.toISOString() };
}

/**
 * A payload's `timestamp` as SQL writes it, for a statement that reads the event's time itself:
 * the `timestamptz` expression `at` in the form of `Date.prototype.toISOString` (UTC, milliseconds, `Z`).
 */
export const eventTimestampSql = (at: string): string => `to_char(${at} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

let traceParentSource: () => string | null = () => null;

/**
 * Where the trace of the request writing an event comes from (the service's tracing, when on):
 * each outbox row keeps its W3C `traceparent`, so its delivery links back to that request.
 */
export function setTraceParentSource(source: () => string | null): void {
  traceParentSource = source;
}

/** The `traceparent` to store with an event written now, or null. */
export const traceParentForEvent = (): string | null => traceParentSource();

/** An event a dispatcher holds a lease on. `attempts` identifies this claim when its result is recorded. */
export interface ClaimedEvent {
  eventId: string;
  eventType: EventType;
  leadId: string;
  payload: EventPayload;
  attempts: number;
  /** The trace of the request that wrote the event, when tracing was on. */
  traceParent: string | null;
}

export type DeliveryFailure = { permanent: true; error: string } | { permanent: false; error: string; retryInMs: number; maxAgeMs: number };

export interface OutboxStats {
  pending: number;
  delivered: number;
  dead: number;
  /** Age of the oldest event not yet delivered (nor dead), or null when there is none. */
  oldestPendingAgeSeconds: number | null;
}

/** An outbox row as the admin procedures read it (the columns of `lead.outbox_events`). */
export interface EventRecord {
  eventId: string;
  eventType: EventType;
  leadId: string;
  state: EventState;
  payload: EventPayload;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

export const EVENT_COLUMNS = `event_id as "eventId", event_type as "eventType", lead_id as "leadId", state, payload, attempts,
  next_attempt_at as "nextAttemptAt", last_error as "lastError", created_at as "createdAt", delivered_at as "deliveredAt"`;

const seconds = (ms: number) => ms / 1000;

/** The outbox's rules: who may deliver an event, when, and what its result means. */
export class OutboxRepository {
  constructor(private readonly db: Database) {}

  /**
   * Leases up to `limit` due events for `leaseMs`, in one statement. Rows another dispatcher is
   * claiming are skipped, not waited for, and an event is only due when no earlier event of its
   * lead is still pending (leased or waiting to retry): a lead's events go out in the order they
   * happened. A lease that runs out (its dispatcher died) makes the event due again.
   */
  async claim(limit: number, leaseMs: number): Promise<ClaimedEvent[]> {
    const rows = await this.db.query<{
      event_id: string;
      event_type: EventType;
      lead_id: string;
      payload: EventPayload;
      attempts: number;
      seq: string;
      trace_parent: string | null;
    }>(
      `with due as (
         select e.event_id from lead.outbox_events e
          where e.state = 'pending'
            and e.next_attempt_at <= now()
            and (e.locked_until is null or e.locked_until <= now())
            and not exists (
              select 1 from lead.outbox_events earlier
               where earlier.lead_id = e.lead_id and earlier.state = 'pending' and earlier.seq < e.seq)
          order by e.seq
          limit $1
          for update skip locked)
       update lead.outbox_events o
          set locked_until = now() + make_interval(secs => $2),
              attempts = o.attempts + 1,
              first_attempt_at = coalesce(o.first_attempt_at, now())
         from due
        where o.event_id = due.event_id
       returning o.event_id, o.event_type, o.lead_id, o.payload, o.attempts, o.seq, o.trace_parent`,
      [limit, seconds(leaseMs)],
    );
    return rows
      .sort((a, b) => Number(a.seq) - Number(b.seq))
      .map((r) => ({
        eventId: r.event_id,
        eventType: r.event_type,
        leadId: r.lead_id,
        payload: r.payload,
        attempts: Number(r.attempts),
        traceParent: r.trace_parent,
      }));
  }

  /** The receiver accepted the event. */
  async markDelivered(event: Pick<ClaimedEvent, 'eventId'>): Promise<void> {
    await this.db.query(
      `update lead.outbox_events set state = 'delivered', delivered_at = now(), locked_until = null, last_error = null
        where event_id = $1 and state = 'pending'`,
      [event.eventId],
    );
  }

  /**
   * The attempt failed: the event is due again after `retryInMs`, or dead when the failure is
   * permanent or its retry window (from the first attempt) has passed. Ignored when the lease
   * was lost meanwhile: the dispatcher that took the event over records its own result.
   */
  async markFailed(event: Pick<ClaimedEvent, 'eventId' | 'attempts'>, failure: DeliveryFailure): Promise<EventState | null> {
    const rows = await this.db.query<{ state: EventState }>(
      `update lead.outbox_events
          set state = case when $1 or first_attempt_at + make_interval(secs => $2) <= now() then 'dead' else 'pending' end,
              next_attempt_at = now() + make_interval(secs => $3),
              locked_until = null,
              last_error = $4
        where event_id = $5 and attempts = $6 and state = 'pending'
       returning state`,
      [
        failure.permanent,
        failure.permanent ? 0 : seconds(failure.maxAgeMs),
        failure.permanent ? 0 : seconds(failure.retryInMs),
        failure.error.slice(0, 200),
        event.eventId,
        event.attempts,
      ],
    );
    return rows[0]?.state ?? null;
  }

  /** One page of events, newest first, and the number in that state (or of all). */
  async listPage(filter: { state?: EventState }, { page, limit }: PageRequest): Promise<{ items: EventRecord[]; total: number }> {
    const where = filter.state ? 'where state = $1' : '';
    const params = filter.state ? [filter.state] : [];
    const n = params.length;
    const [items, [count]] = await Promise.all([
      this.db.query<EventRecord>(
        `select ${EVENT_COLUMNS} from lead.outbox_events ${where} order by seq desc limit $${n + 1} offset $${n + 2}`,
        [...params, limit, (page - 1) * limit],
      ),
      this.db.query<{ total: string }>(`select count(*) as total from lead.outbox_events ${where}`, params),
    ]);
    return { items, total: Number(count!.total) };
  }

  async stats(): Promise<OutboxStats> {
    const rows = await this.db.query<{ state: EventState; count: string; oldest: string | null }>(
      `select state, count(*) as count, extract(epoch from now() - min(created_at)) as oldest
         from lead.outbox_events group by state`,
    );
    const stats: OutboxStats = { pending: 0, delivered: 0, dead: 0, oldestPendingAgeSeconds: null };
    for (const row of rows) {
      stats[row.state] = Number(row.count);
      if (row.state === 'pending' && row.oldest !== null) stats.oldestPendingAgeSeconds = Math.max(0, Number(row.oldest));
    }
    return stats;
  }

  /**
   * The backlog an operator alerts on: events not delivered, and the age of the oldest pending
   * one. Counts only pending and dead rows (through the state index), never the delivered history.
   */
  async backlog(): Promise<Omit<OutboxStats, 'delivered'>> {
    const [row] = await this.db.query<{ pending: string; dead: string; oldest: string | null }>(
      `select count(*) filter (where state = 'pending') as pending,
              count(*) filter (where state = 'dead') as dead,
              extract(epoch from now() - min(created_at) filter (where state = 'pending')) as oldest
         from lead.outbox_events where state in ('pending', 'dead')`,
    );
    return {
      pending: Number(row?.pending ?? 0),
      dead: Number(row?.dead ?? 0),
      oldestPendingAgeSeconds: row?.oldest == null ? null : Math.max(0, Number(row.oldest)),
    };
  }

  /**
   * Makes the event the next claim would take, among those waiting out a backoff, due now: one
   * probe of a receiver that was failing, instead of waiting for the longest backoff. Skips
   * leased events and any lead's later events (they wait for the earlier one anyway).
   */
  async bringForwardNext(): Promise<boolean> {
    const rows = await this.db.query<{ event_id: string }>(
      `update lead.outbox_events set next_attempt_at = now()
        where event_id = (
          select e.event_id from lead.outbox_events e
           where e.state = 'pending'
             and e.next_attempt_at > now()
             and (e.locked_until is null or e.locked_until <= now())
             and not exists (
               select 1 from lead.outbox_events earlier
                where earlier.lead_id = e.lead_id and earlier.state = 'pending' and earlier.seq < e.seq)
           order by e.next_attempt_at
           limit 1
           for update skip locked)
       returning event_id`,
    );
    return rows.length > 0;
  }

  /**
   * The receiver is back: every pending event still waiting out a backoff becomes due at
   * `notBefore` (a Retry-After still in force) or now. Claim keeps each lead's order, and the
   * retry window (from the first attempt) is untouched. Returns how many were brought forward.
   */
  async bringForwardAll(notBefore: Date): Promise<number> {
    const [row] = await this.db.query<{ moved: string }>(
      `with moved as (
         update lead.outbox_events set next_attempt_at = greatest(now(), $1::timestamptz)
          where state = 'pending' and next_attempt_at > greatest(now(), $1::timestamptz)
         returning 1)
       select count(*) as moved from moved`,
      [notBefore],
    );
    return Number(row?.moved ?? 0);
  }

  /** Gives a dead event a fresh retry window (it is due at once), with the audit row of the change. */
  async retry(eventId: string, audit: AuditEntry): Promise<EventRecord> {
    return this.db.transaction(async (tx) => {
      const [event] = await tx.query<EventRecord>(`select ${EVENT_COLUMNS} from lead.outbox_events where event_id = $1 for update`, [
        eventId,
      ]);
      if (!event) throw new EventNotFoundError(eventId);
      if (event.state !== 'dead') throw new EventNotDeadError(event.state);
      const [retried] = await tx.query<EventRecord>(
        `update lead.outbox_events
            set state = 'pending', attempts = 0, next_attempt_at = now(), first_attempt_at = null, locked_until = null
          where event_id = $1
         returning ${EVENT_COLUMNS}`,
        [eventId],
      );
      await writeAudit(tx, audit, [event.leadId]);
      return retried!;
    });
  }
}
