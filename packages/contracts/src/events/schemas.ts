import { z } from 'zod';
import { Timestamp, Uuid } from '../common/ids.js';
import { PageLimit, PageNumber } from '../common/pagination.js';

export const EVENT_TYPES = ['LeadCreated', 'LeadStatusChanged', 'LeadAssigned', 'LeadUpdated', 'LeadMerged', 'LeadErased'] as const;
export const EventType = z.enum(EVENT_TYPES).meta({ id: 'EventType' });
export type EventType = z.infer<typeof EventType>;

export const EVENT_STATES = ['pending', 'delivered', 'dead'] as const;
export const EventState = z.enum(EVENT_STATES).meta({
  id: 'EventState',
  description:
    '`pending`: not delivered yet (waiting, in flight or retrying); `delivered`: the notification service answered 2xx; `dead`: refused (4xx) or still failing after the retry window.',
});
export type EventState = z.infer<typeof EventState>;

const EventId = Uuid.meta({ description: 'The event id, also sent as `X-Event-Id`.' });

export const ListEventsInput = z.object({
  state: EventState.optional(),
  page: PageNumber,
  limit: PageLimit,
});
export type ListEventsInput = z.input<typeof ListEventsInput>;

export const EventIdInput = z.object({ event_id: EventId });
export type EventIdInput = z.input<typeof EventIdInput>;

export const LeadEvent = z
  .object({
    event_id: Uuid,
    event_type: EventType,
    lead_id: Uuid,
    state: EventState,
    payload: z
      .record(z.string(), z.union([z.string(), z.array(z.string())]).nullable())
      .meta({ description: 'The JSON body the notification service receives.' }),
    attempts: z.number().int().meta({ description: 'Delivery attempts since the event was written or last retried.' }),
    next_attempt_at: Timestamp.meta({ description: 'When a pending event is due (again).' }),
    last_error: z.string().nullable().meta({ description: 'Why the last attempt failed, e.g. `HTTP 503`, `timeout`, `ECONNREFUSED`.' }),
    created_at: Timestamp,
    delivered_at: Timestamp.nullable(),
  })
  .meta({ id: 'LeadEvent' });
export type LeadEvent = z.infer<typeof LeadEvent>;

export const EventPage = z
  .object({
    items: z.array(LeadEvent),
    total: z.number().int().meta({ description: 'Number of events in the state asked for, over all pages.' }),
    page: z.number().int(),
    limit: z.number().int(),
  })
  .meta({ id: 'EventPage' });
export type EventPage = z.infer<typeof EventPage>;

export const EventStats = z
  .object({
    pending: z.number().int(),
    delivered: z.number().int(),
    dead: z.number().int(),
    oldest_pending_age_seconds: z
      .number()
      .nullable()
      .meta({ description: 'Age of the oldest pending event; null when none is pending. Alert when it keeps growing.' }),
  })
  .meta({ id: 'EventStats' });
export type EventStats = z.infer<typeof EventStats>;
