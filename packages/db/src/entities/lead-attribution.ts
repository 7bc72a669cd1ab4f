import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { Lead } from './lead.js';

/** The first arrival as the site remembered it (same fields as the attribution, plus `at`). */
export interface FirstTouchRecord {
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  utm_term: string | null;
  utm_content: string | null;
  referrer: string | null;
  landing_page: string | null;
  page: string | null;
  at: string | null;
}

/**
 * Where a lead came from, written once with the lead (none for a lead submitted without it).
 * URLs are stored already cleaned (see `attribution.ts`). `utm_source`, `utm_medium` and
 * `utm_campaign` are also on the lead, where the list filters and the reports read them.
 */
export const LeadAttribution = defineEntity({
  name: 'LeadAttribution',
  schema: 'lead',
  tableName: 'lead_attributions',
  properties: (p) => ({
    lead: p.oneToOne(Lead).owner().primary().fieldName('lead_id').deleteRule('cascade'),
    utmSource: p.string().length(200).nullable(),
    utmMedium: p.string().length(200).nullable(),
    utmCampaign: p.string().length(200).nullable(),
    utmTerm: p.string().length(200).nullable(),
    utmContent: p.string().length(200).nullable(),
    referrer: p.string().length(2048).nullable(),
    landingPage: p.string().length(2048).nullable(),
    page: p.string().length(2048).nullable(),
    firstTouch: p.json<FirstTouchRecord>().nullable(),
  }),
});
export type LeadAttribution = InferEntity<typeof LeadAttribution>;
