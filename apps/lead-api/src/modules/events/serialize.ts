import type { LeadEvent } from '@lead/contracts';
import type { EventRecord } from '@lead/db';

export const toLeadEvent = (event: EventRecord): LeadEvent => ({
  event_id: event.eventId,
  event_type: event.eventType,
  lead_id: event.leadId,
  state: event.state,
  payload: event.payload,
  attempts: event.attempts,
  next_attempt_at: event.nextAttemptAt,
  last_error: event.lastError ?? null,
  created_at: event.createdAt,
  delivered_at: event.deliveredAt ?? null,
});
