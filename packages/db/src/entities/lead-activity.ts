import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { enumeration } from './enumeration.js';
import { Lead } from './lead.js';

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
export type ActivityType = (typeof ACTIVITY_TYPES)[number];

export const LeadActivity = defineEntity({
  name: 'LeadActivity',
  schema: 'lead',
  tableName: 'lead_activities',
  properties: (p) => ({
    id: p.uuid().primary(),
    lead: p.manyToOne(Lead).fieldName('lead_id').deleteRule('cascade'),
    activityType: enumeration('activity_type', ACTIVITY_TYPES),
    description: p.text().nullable(),
    details: p.json<Record<string, string | null>>().nullable(),
    performedBy: p.uuid().nullable(),
    createdAt: p.datetime(),
  }),
  indexes: [{ name: 'lead_activities_lead_id_created_at_id_idx', properties: ['lead', 'createdAt', 'id'] }],
});
export type LeadActivity = InferEntity<typeof LeadActivity>;
