import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { enumeration } from './enumeration.js';
import { LEAD_SOURCES, LEAD_STATUSES } from './lead.js';

/**
 * Unassigned leads are counted under the nil UUID: a primary key column cannot be null, and the
 * nil UUID is never a user id.
 */
export const UNASSIGNED = '00000000-0000-0000-0000-000000000000';

/**
 * The number of leads for each combination of the three list filters, as of the last fold of
 * `LeadCountChange` (see the migrations that create them). The list's `total` for any filter is
 * then a sum over a few rows of both instead of a count over every matching lead. Written only by
 * the fold.
 */
export const LeadCount = defineEntity({
  name: 'LeadCount',
  schema: 'lead',
  tableName: 'lead_counts',
  properties: (p) => ({
    status: enumeration('lead_status', LEAD_STATUSES).primary(),
    source: enumeration('lead_source', LEAD_SOURCES).primary(),
    assignedTo: p.uuid().primary(),
    n: p.bigint(),
  }),
});
export type LeadCount = InferEntity<typeof LeadCount>;

/**
 * A change to `lead.lead_counts` not yet added to it: the count triggers append one row per
 * combination a write leaves or enters (+1/-1) instead of updating the shared counter rows, so
 * concurrent writers never queue on them. `lead.lead_counts_fold()` moves these rows into the
 * counts; until then, a total sums both tables.
 */
export const LeadCountChange = defineEntity({
  name: 'LeadCountChange',
  schema: 'lead',
  tableName: 'lead_count_changes',
  properties: (p) => ({
    id: p.bigint('number').primary().autoincrement(),
    status: enumeration('lead_status', LEAD_STATUSES),
    source: enumeration('lead_source', LEAD_SOURCES),
    assignedTo: p.uuid(),
    n: p.integer(),
  }),
});
export type LeadCountChange = InferEntity<typeof LeadCountChange>;
