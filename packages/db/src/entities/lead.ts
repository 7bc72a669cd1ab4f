import { defineEntity, type InferEntity } from '@mikro-orm/core';

export const LEAD_STATUSES = ['new', 'contacted', 'qualified', 'proposal', 'closed_won', 'closed_lost'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];
export const CLOSED_STATUSES: readonly LeadStatus[] = ['closed_won', 'closed_lost'];
export const LEAD_SOURCES = ['website', 'referral', 'social', 'other'] as const;
export type LeadSource = (typeof LEAD_SOURCES)[number];
export const LEAD_PRIORITIES = ['low', 'medium', 'high'] as const;
export type LeadPriority = (typeof LEAD_PRIORITIES)[number];

export const Lead = defineEntity({
  name: 'Lead',
  schema: 'lead',
  tableName: 'leads',
  properties: (p) => ({
    id: p.uuid().primary(),
    name: p.string().length(200),
    email: p.string().length(254),
    phone: p.string().length(32).nullable(),
    company: p.string().length(200).nullable(),
    message: p.text().nullable(),
    source: p.enum([...LEAD_SOURCES]),
    status: p.enum([...LEAD_STATUSES]),
    priority: p.enum([...LEAD_PRIORITIES]),
    // References auth.users, which belongs to the auth service: no cross-service foreign key.
    assignedTo: p.uuid().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
    closedAt: p.datetime().nullable(),
    // The attribution's three filterable dimensions live on the lead itself, so that each has an
    // index in list order; everything else of the attribution is in `lead.lead_attributions`.
    utmSource: p.string().length(200).nullable(),
    utmMedium: p.string().length(200).nullable(),
    utmCampaign: p.string().length(200).nullable(),
  }),
  // Each list filter with the list order (created_at DESC, id DESC, read backwards).
  indexes: [
    { name: 'leads_created_at_id_idx', properties: ['createdAt', 'id'] },
    { name: 'leads_status_created_at_id_idx', properties: ['status', 'createdAt', 'id'] },
    { name: 'leads_source_created_at_id_idx', properties: ['source', 'createdAt', 'id'] },
    { name: 'leads_assigned_to_created_at_id_idx', properties: ['assignedTo', 'createdAt', 'id'] },
    { name: 'leads_utm_source_created_at_id_idx', properties: ['utmSource', 'createdAt', 'id'] },
    { name: 'leads_utm_medium_created_at_id_idx', properties: ['utmMedium', 'createdAt', 'id'] },
    { name: 'leads_utm_campaign_created_at_id_idx', properties: ['utmCampaign', 'createdAt', 'id'] },
  ],
});
export type Lead = InferEntity<typeof Lead>;
