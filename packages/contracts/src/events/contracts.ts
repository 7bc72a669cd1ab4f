import { z } from 'zod';
import { defineContract } from '../contract.js';
import { EventIdInput, EventPage, EventStats, ListEventsInput, LeadEvent } from './schemas.js';

const tags = ['Events'];

export const eventContracts = {
  list: defineContract({
    type: 'query',
    input: ListEventsInput,
    output: EventPage,
    roles: ['admin'],
    rateLimit: 'user',
    // Payloads carry lead data (the email of a new lead): reading them is a read of those leads.
    audit: { kind: 'read', leadIds: ({ output }) => [...new Set(output.items.map((event) => event.lead_id))] },
    method: 'GET',
    path: '/api/v1/events',
    operationId: 'listEvents',
    summary: 'List events sent (or to be sent) to the notification service',
    description: 'Newest first, optionally only those in one state.',
    tags,
  }),
  stats: defineContract({
    type: 'query',
    input: z.void(),
    output: EventStats,
    roles: ['admin'],
    rateLimit: 'user',
    audit: 'none',
    method: 'GET',
    path: '/api/v1/events/stats',
    operationId: 'eventStats',
    summary: 'Events by state, and the age of the oldest pending one',
    tags,
  }),
  retry: defineContract({
    type: 'mutation',
    input: EventIdInput,
    output: LeadEvent,
    roles: ['admin'],
    rateLimit: 'user',
    // It changes the event's delivery, and answers with its payload.
    audit: { kind: 'change', leadIds: ({ output }) => [output.lead_id] },
    method: 'POST',
    path: '/api/v1/events/{event_id}/retry',
    operationId: 'retryEvent',
    summary: 'Deliver a dead event again',
    description:
      'Makes the event pending with a fresh retry window; it is delivered before any later event of its lead that is still pending. 409 unless the event is dead.',
    tags,
    errors: [404, 409],
  }),
};
