import { defineEntity, type InferEntity } from '@mikro-orm/core';

/**
 * What `q` searches: `lead.search_document` of a lead's contact fields, stored so that checking a
 * candidate costs no unaccent per row, one row per lead. Written only by the trigger
 * `lead.leads_search_write` (with the lead, when one of those fields or its creation time
 * changes, and its removal), so that the lead's other changes never touch its trigram index
 * (Migration20261203190000_search_table).
 */
export const LeadSearch = defineEntity({
  name: 'LeadSearch',
  schema: 'lead',
  tableName: 'lead_search',
  properties: (p) => ({
    // No foreign key: the trigger that writes the row removes it with its lead.
    leadId: p.uuid().primary(),
    /** The lead's: a search in the default order with no other filter is answered from this table. */
    createdAt: p.datetime(),
    searchText: p.text(),
  }),
  indexes: [
    {
      name: 'lead_search_trgm_idx',
      expression: 'CREATE INDEX lead_search_trgm_idx ON lead.lead_search USING gin (search_text gin_trgm_ops)',
    },
  ],
});
export type LeadSearch = InferEntity<typeof LeadSearch>;
