import type { Activity, LeadDetail, LeadSummary } from '@lead/contracts';
import type { ActivityRecord, LeadRecord } from '@lead/db';

export const toSummary = (lead: LeadRecord): LeadSummary => ({
  id: lead.id,
  name: lead.name,
  email: lead.email,
  company: lead.company,
  status: lead.status,
  source: lead.source,
  priority: lead.priority,
  assigned_to: lead.assignedTo,
  lost_reason: lead.lostReason,
  duplicate_of: lead.duplicateOf,
  merged_into: lead.mergedInto,
  created_at: lead.createdAt,
  updated_at: lead.updatedAt,
});

export const toActivity = (activity: ActivityRecord): Activity => ({
  id: activity.id,
  activity_type: activity.activityType,
  description: activity.description,
  details: activity.details,
  performed_by: activity.performedBy,
  created_at: activity.createdAt,
});

export const toDetail = (lead: LeadRecord, activities: ActivityRecord[]): LeadDetail => ({
  id: lead.id,
  name: lead.name,
  email: lead.email,
  phone: lead.phone,
  company: lead.company,
  message: lead.message,
  source: lead.source,
  status: lead.status,
  priority: lead.priority,
  assigned_to: lead.assignedTo,
  lost_reason: lead.lostReason,
  duplicate_of: lead.duplicateOf,
  merged_into: lead.mergedInto,
  activities: activities.map(toActivity),
  created_at: lead.createdAt,
  updated_at: lead.updatedAt,
  closed_at: lead.closedAt,
});
