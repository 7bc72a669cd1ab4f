import type { Activity, LeadDetail, LeadSummary } from '@lead/contracts';
import type { Lead, LeadActivity } from '@lead/db';

export const toSummary = (lead: Lead): LeadSummary => ({
  id: lead.id,
  name: lead.name,
  email: lead.email,
  company: lead.company ?? null,
  status: lead.status,
  source: lead.source,
  priority: lead.priority,
  assigned_to: lead.assignedTo ?? null,
  created_at: lead.createdAt,
  updated_at: lead.updatedAt,
});

export const toActivity = (activity: LeadActivity): Activity => ({
  id: activity.id,
  activity_type: activity.activityType,
  description: activity.description ?? null,
  details: activity.details ?? null,
  performed_by: activity.performedBy ?? null,
  created_at: activity.createdAt,
});

export const toDetail = (lead: Lead, activities: LeadActivity[]): LeadDetail => ({
  id: lead.id,
  name: lead.name,
  email: lead.email,
  phone: lead.phone ?? null,
  company: lead.company ?? null,
  message: lead.message ?? null,
  source: lead.source,
  status: lead.status,
  priority: lead.priority,
  assigned_to: lead.assignedTo ?? null,
  activities: activities.map(toActivity),
  created_at: lead.createdAt,
  updated_at: lead.updatedAt,
  closed_at: lead.closedAt ?? null,
});
