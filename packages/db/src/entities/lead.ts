import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { enumeration } from './enumeration.js';

export const LEAD_STATUSES = ['new', 'contacted', 'qualified', 'proposal', 'closed_won', 'closed_lost'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];
export const CLOSED_STATUSES: readonly LeadStatus[] = ['closed_won', 'closed_lost'];
export const LEAD_SOURCES = ['website', 'referral', 'social', 'other'] as const;
export type LeadSource = (typeof LEAD_SOURCES)[number];
export const LEAD_PRIORITIES = ['low', 'medium', 'high'] as const;
export type LeadPriority = (typeof LEAD_PRIORITIES)[number];
/** Why a lead was closed as `closed_lost`; required for that status, null otherwise. */
export const LOST_REASONS = ['price', 'timing', 'competitor', 'no_response', 'not_a_fit', 'duplicate', 'other'] as const;
export type LostReason = (typeof LOST_REASONS)[number];

/**
 * Indexes on expressions (search, sort keys) or partial ones, declared as PostgreSQL reports them
 * (`pg_get_indexdef`). MikroORM's schema diff does not compare expression indexes, so the
 * migration `Migration20261201120000_workday` (which also creates the functions they call) and
 * those named beside them are their source, and `test/workday.test.ts` checks that the planner uses them.
 */
const expressionIndex = (name: string, definition: string) => ({
  name,
  expression: `CREATE INDEX ${name} ON lead.leads ${definition}`,
});

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
    source: enumeration('lead_source', LEAD_SOURCES),
    status: enumeration('lead_status', LEAD_STATUSES),
    priority: enumeration('lead_priority', LEAD_PRIORITIES),
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
    lostReason: enumeration('lost_reason', LOST_REASONS).nullable(),
    /** Lower-cased, trimmed e-mail (set by a trigger from `email`): what duplicates are matched on. */
    emailKey: p.string().length(254),
    /** The oldest open lead with the same e-mail at the time this one was created. */
    duplicateOf: p.uuid().nullable(),
    /** Set when this lead was merged into another (and closed as `closed_lost`/`duplicate`). */
    mergedInto: p.uuid().nullable(),
    /**
     * The id of the transaction that last wrote the row (`pg_current_xact_id()`, set by a
     * trigger): the order of `updated_since` sync, read only below the oldest running
     * transaction, so that a commit that becomes visible late is never skipped.
     */
    changeXid: p.bigint().default(0),
    /** When the lead was anonymised (see `PrivacyRepository.eraseLead`); null while it holds personal data. */
    erasedAt: p.datetime().nullable(),
  }),
  // Each list filter with the list order (created_at DESC, id DESC, read backwards).
  indexes: [
    { name: 'leads_created_at_id_idx', properties: ['createdAt', 'id'] },
    { name: 'leads_status_created_at_id_idx', properties: ['status', 'createdAt', 'id'] },
    { name: 'leads_source_created_at_id_idx', properties: ['source', 'createdAt', 'id'] },
    // Filtered only by `= value`: the leads without one have no entry (Migration20261202070000_index_upkeep).
    expressionIndex('leads_assigned_to_created_at_id_idx', 'USING btree (assigned_to, created_at, id) WHERE (assigned_to IS NOT NULL)'),
    expressionIndex('leads_utm_source_created_at_id_idx', 'USING btree (utm_source, created_at, id) WHERE (utm_source IS NOT NULL)'),
    expressionIndex('leads_utm_medium_created_at_id_idx', 'USING btree (utm_medium, created_at, id) WHERE (utm_medium IS NOT NULL)'),
    expressionIndex('leads_utm_campaign_created_at_id_idx', 'USING btree (utm_campaign, created_at, id) WHERE (utm_campaign IS NOT NULL)'),
    // Sort orders (keyset pages) and sync.
    { name: 'leads_updated_at_id_idx', properties: ['updatedAt', 'id'] },
    { name: 'leads_change_xid_id_idx', properties: ['changeXid', 'id'] },
    // Duplicate detection: the open leads of one address, oldest first.
    { name: 'leads_email_key_created_at_idx', properties: ['emailKey', 'createdAt'] },
    { name: 'leads_duplicate_of_idx', properties: ['duplicateOf'] },
    // By name as people read it: case and accents ignored (the database collation may be C).
    expressionIndex('leads_name_key_id_idx', 'USING btree (lead.search_normalize((name)::text), id)'),
    expressionIndex('leads_status_rank_id_idx', 'USING btree (lead.status_rank(status), id)'),
    expressionIndex('leads_priority_rank_id_idx', 'USING btree (lead.priority_rank(priority), id)'),
    // The retention rules' candidates: leads not yet erased (Migration20261202021000_retention).
    expressionIndex('leads_retention_closed_idx', 'USING btree (closed_at) WHERE ((erased_at IS NULL) AND (closed_at IS NOT NULL))'),
    expressionIndex('leads_retention_updated_idx', 'USING btree (updated_at) WHERE (erased_at IS NULL)'),
  ],
});
export type Lead = InferEntity<typeof Lead>;
