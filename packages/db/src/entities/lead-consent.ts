import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { Lead } from './lead.js';

/**
 * What a visitor agreed to when they submitted the form: the policy version, whether they
 * accepted marketing, the wording shown, the page it was shown on (cleaned like attribution
 * URLs) and when. Erasing the lead drops the page and keeps the rest as proof of the consent.
 */
export const LeadConsent = defineEntity({
  name: 'LeadConsent',
  schema: 'lead',
  tableName: 'lead_consents',
  properties: (p) => ({
    id: p.uuid().primary(),
    lead: p.manyToOne(Lead).fieldName('lead_id').deleteRule('cascade'),
    policyVersion: p.string().length(100).nullable(),
    marketing: p.boolean(),
    text: p.string().length(2000).nullable(),
    page: p.string().length(2048).nullable(),
    givenAt: p.datetime(),
  }),
  indexes: [{ name: 'lead_consents_lead_id_given_at_idx', properties: ['lead', 'givenAt'] }],
});
export type LeadConsent = InferEntity<typeof LeadConsent>;
