import type { Activity, Attribution, Consent, LeadDetail, LeadSummary } from '@lead/contracts';
import type { ConsentRecord, LeadWithTimeline } from '@lead/db';
import type { ActivityRecord, AttributionRecord, LeadSummaryRecord } from '@lead/db';

export const toSummary = (lead: LeadSummaryRecord): LeadSummary => ({
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

export const toAttribution = (a: AttributionRecord): Attribution => ({
  utm_source: a.utmSource,
  utm_medium: a.utmMedium,
  utm_campaign: a.utmCampaign,
  utm_term: a.utmTerm,
  utm_content: a.utmContent,
  referrer: a.referrer,
  landing_page: a.landingPage,
  page: a.page,
  first_touch: a.firstTouch,
});

export const toConsent = (c: ConsentRecord): Consent => ({
  policy_version: c.policyVersion,
  marketing: c.marketing,
  text: c.text,
  page: c.page,
  given_at: c.givenAt,
});

export const toDetail = ({ lead, attribution, activities, consents }: LeadWithTimeline): LeadDetail => ({
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
  attribution: attribution && toAttribution(attribution),
  activities: activities.map(toActivity),
  consents: consents.map(toConsent),
  created_at: lead.createdAt,
  updated_at: lead.updatedAt,
  closed_at: lead.closedAt,
  erased_at: lead.erasedAt,
});
