import { z } from 'zod';

export const LEAD_STATUSES = ['new', 'contacted', 'qualified', 'proposal', 'closed_won', 'closed_lost'] as const;
export const LeadStatus = z.enum(LEAD_STATUSES).meta({ id: 'LeadStatus', description: 'Where the lead is in the pipeline.' });
export type LeadStatus = z.infer<typeof LeadStatus>;

export const LEAD_SOURCES = ['website', 'referral', 'social', 'other'] as const;
export const LeadSource = z.enum(LEAD_SOURCES).meta({ id: 'LeadSource', description: 'Where the lead came from.' });
export type LeadSource = z.infer<typeof LeadSource>;

export const LEAD_PRIORITIES = ['low', 'medium', 'high'] as const;
export const LeadPriority = z.enum(LEAD_PRIORITIES).meta({ id: 'LeadPriority' });
export type LeadPriority = z.infer<typeof LeadPriority>;

/**
 * The spec's four activity types plus `assigned`, which the service writes when a lead's
 * assignee changes. Only `note_added` and `contacted` may be added by clients.
 */
export const ACTIVITY_TYPES = ['created', 'status_changed', 'note_added', 'contacted', 'assigned'] as const;
export const ActivityType = z.enum(ACTIVITY_TYPES).meta({ id: 'ActivityType' });
export type ActivityType = z.infer<typeof ActivityType>;

export const CLIENT_ACTIVITY_TYPES = ['note_added', 'contacted'] as const;
export const ClientActivityType = z
  .enum(CLIENT_ACTIVITY_TYPES)
  .meta({ id: 'ClientActivityType', description: '`created`, `status_changed` and `assigned` are written by the service only.' });
export type ClientActivityType = z.infer<typeof ClientActivityType>;
