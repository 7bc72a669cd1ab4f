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

export const LOST_REASONS = ['price', 'timing', 'competitor', 'no_response', 'not_a_fit', 'duplicate', 'other'] as const;
export const LostReason = z.enum(LOST_REASONS).meta({
  id: 'LostReason',
  description: 'Why a lead was closed as `closed_lost` (required for that status). Leads closed before it existed have none.',
});
export type LostReason = z.infer<typeof LostReason>;

/**
 * The spec's four activity types plus those the service writes itself: `assigned` (the assignee
 * changed), `updated` (fields corrected; names the fields, not their values), `duplicate_detected`
 * (on the original, when a lead with the same e-mail arrives) and `merged` (on both leads of a
 * merge). Only `note_added` and `contacted` may be added by clients.
 */
export const ACTIVITY_TYPES = [
  'created',
  'status_changed',
  'note_added',
  'contacted',
  'assigned',
  'updated',
  'duplicate_detected',
  'merged',
] as const;
export const ActivityType = z.enum(ACTIVITY_TYPES).meta({ id: 'ActivityType' });
export type ActivityType = z.infer<typeof ActivityType>;

export const CLIENT_ACTIVITY_TYPES = ['note_added', 'contacted'] as const;
export const ClientActivityType = z
  .enum(CLIENT_ACTIVITY_TYPES)
  .meta({ id: 'ClientActivityType', description: 'Every other activity type is written by the service only.' });
export type ClientActivityType = z.infer<typeof ClientActivityType>;
