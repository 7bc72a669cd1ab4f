import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { enumeration } from './enumeration.js';

export const EVENT_TYPES = ['LeadCreated', 'LeadStatusChanged', 'LeadAssigned', 'LeadUpdated', 'LeadMerged', 'LeadErased'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export const EVENT_STATES = ['pending', 'delivered', 'dead'] as const;
export type EventState = (typeof EVENT_STATES)[number];

/** What the notification service receives: the spec's event body plus its `event_id`. */
export type EventPayload = { event_id: string; event_type: EventType; lead_id: string; timestamp: string } & Record<string, EventField>;
/** A field of an event body: text, a list of names (e.g. `changed_fields`), or null. */
export type EventField = string | string[] | null;

/**
 * The transactional outbox: an event is inserted in the same transaction as the change it
 * reports and delivered later by the dispatcher, so neither exists without the other.
 */
export const OutboxEvent = defineEntity({
  name: 'OutboxEvent',
  schema: 'lead',
  tableName: 'outbox_events',
  properties: (p) => ({
    eventId: p.uuid().primary(),
    // Assigned by the database at insert: the order in which a lead's events happened (a lead's
    // changes hold its row lock, so they commit in sequence order).
    seq: p.bigint('number').autoincrement(),
    eventType: enumeration('event_type', EVENT_TYPES),
    // No foreign key: an event outlives nothing it refers to, and is kept even if a lead is erased.
    leadId: p.uuid(),
    payload: p.json<EventPayload>(),
    state: enumeration('event_state', EVENT_STATES),
    attempts: p.integer(),
    nextAttemptAt: p.datetime(),
    /** While in the future, a dispatcher holds the event; once past, another may take it over. */
    lockedUntil: p.datetime().nullable(),
    /** When delivery was first tried: the retry window starts here, not when the event was written. */
    firstAttemptAt: p.datetime().nullable(),
    /** Short and free of personal data: an HTTP status, a timeout, a network error code. */
    lastError: p.string().length(200).nullable(),
    createdAt: p.datetime(),
    deliveredAt: p.datetime().nullable(),
    /** W3C `traceparent` of the request that wrote the event (ids only, no data), when tracing was on. */
    traceParent: p.string().length(55).nullable(),
  }),
  indexes: [
    { name: 'outbox_events_state_next_attempt_at_idx', properties: ['state', 'nextAttemptAt'] },
    { name: 'outbox_events_lead_id_seq_idx', properties: ['leadId', 'seq'] },
    { name: 'outbox_events_state_seq_idx', properties: ['state', 'seq'] },
    // Delivered and dead events still holding personal fields, by age: the payload retention rule's.
    {
      name: 'outbox_events_retention_idx',
      expression: `create index "outbox_events_retention_idx" on "lead"."outbox_events" ("created_at") where "state" in ('delivered', 'dead') and "payload" is distinct from "lead"."strip_personal_fields"("payload")`,
    },
  ],
});
export type OutboxEvent = InferEntity<typeof OutboxEvent>;
