import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { enumeration } from './enumeration.js';
import { LEAD_SOURCES, LEAD_STATUSES } from './lead.js';

/**
 * One entry of a lead's status timeline (its creation, `new`, at position 0; then each
 * `status_changed` activity in order), with what the reports ask of it, recomputed from the
 * leads and their activities for each lead of a `LeadStageChange` (see the migrations that create
 * them, and the view `lead.lead_stage_rows`, the one definition of these rows). Written only by
 * `lead.lead_stages_fold` (and `lead.lead_stages_rebuild`).
 */
export const LeadStage = defineEntity({
  name: 'LeadStage',
  schema: 'lead',
  tableName: 'lead_stages',
  properties: (p) => ({
    // No foreign key: a deleted lead's rows are removed by its trigger, with their weekly sums.
    leadId: p.uuid().primary(),
    position: p.smallint().primary(),
    stage: enumeration('lead_status', LEAD_STATUSES),
    enteredAt: p.datetime(),
    /** Seconds until the next entry; null while the lead is still in this stage. */
    seconds: p.double().nullable(),
    /** `floor(16 · log2(1 + seconds))`: the duration's bucket in `lead_stage_weeks`. */
    bucket: p.smallint().nullable(),
    /** When the lead last entered this stage before (null for a first entry). */
    previousEntryAt: p.datetime().nullable(),
    /** A later entry ranks higher in the pipeline (new < contacted < qualified < proposal < won). */
    toNext: p.boolean(),
    /** A later entry is `closed_won`. */
    toWon: p.boolean(),
    // The lead's filter columns and what the sources report reads, as they are now.
    source: enumeration('lead_source', LEAD_SOURCES),
    status: enumeration('lead_status', LEAD_STATUSES),
    assignedTo: p.uuid().nullable(),
    utmSource: p.string().length(200).nullable(),
    utmMedium: p.string().length(200).nullable(),
    utmCampaign: p.string().length(200).nullable(),
    closedAt: p.datetime().nullable(),
    /** The lead is, or was once, `qualified` or beyond. */
    reachedQualified: p.boolean(),
    /** For a closed lead's creation row: days from creation to closing (the sources report's median). */
    daysToClose: p.double().nullable(),
  }),
  indexes: [
    { name: 'lead_stages_entered_at_idx', properties: ['enteredAt'] },
    {
      name: 'lead_stages_stage_bucket_entered_at_idx',
      expression: `create index "lead_stages_stage_bucket_entered_at_idx" on "lead"."lead_stages" ("stage", "bucket", "entered_at") include ("seconds", "source") where "seconds" is not null`,
    },
    {
      name: 'lead_stages_closed_idx',
      expression: `create index "lead_stages_closed_idx" on "lead"."lead_stages" ("entered_at") include ("source", "utm_source", "utm_medium", "utm_campaign", "assigned_to", "status", "days_to_close") where "days_to_close" is not null`,
    },
    {
      name: 'lead_stages_reentered_at_idx',
      expression: `create index "lead_stages_reentered_at_idx" on "lead"."lead_stages" ("entered_at") where "previous_entry_at" is not null`,
    },
  ],
});
export type LeadStage = InferEntity<typeof LeadStage>;

/**
 * `lead.lead_stages` summed per UTC week (of `entered_at`), stage, source and duration bucket
 * (-1: no finished stay): first entries, those that went on to a later stage and to won, finished
 * stays, and (for creation entries, under their lead's current status) leads. Kept by the same
 * fold; a report reads the whole weeks of its period here.
 */
export const LeadStageWeek = defineEntity({
  name: 'LeadStageWeek',
  schema: 'lead',
  tableName: 'lead_stage_weeks',
  properties: (p) => ({
    week: p.datetime().primary(),
    stage: enumeration('lead_status', LEAD_STATUSES).primary(),
    source: enumeration('lead_source', LEAD_SOURCES).primary(),
    bucket: p.smallint().primary(),
    entered: p.bigint('number'),
    toNext: p.bigint('number'),
    toWon: p.bigint('number'),
    stints: p.bigint('number'),
    leads: p.bigint('number'),
  }),
});
export type LeadStageWeek = InferEntity<typeof LeadStageWeek>;

export const SOURCE_DIMENSIONS = ['utm_source', 'utm_medium', 'utm_campaign'] as const;
/** A lead's current status as the sources report counts it. */
const OUTCOMES = ['open', 'won', 'lost'] as const;

/**
 * The leads of `lead.lead_stages`' creation rows summed per UTC week of creation, for each utm
 * dimension: its value (`has_key` false for none, `key` then empty), source, whether it is open,
 * won or lost now, and whether it reached `qualified` (the sources report sums `utm_source`'s rows by source for its
 * `source` grouping). Kept by the same fold.
 */
export const LeadSourceWeek = defineEntity({
  name: 'LeadSourceWeek',
  schema: 'lead',
  tableName: 'lead_source_weeks',
  properties: (p) => ({
    week: p.datetime().primary(),
    dimension: enumeration('source_dimension', SOURCE_DIMENSIONS).primary(),
    hasKey: p.boolean().primary(),
    key: p.string().length(200).primary(),
    source: enumeration('lead_source', LEAD_SOURCES).primary(),
    outcome: enumeration('source_outcome', OUTCOMES).primary(),
    reachedQualified: p.boolean().primary(),
    leads: p.bigint('number'),
  }),
});
export type LeadSourceWeek = InferEntity<typeof LeadSourceWeek>;

/**
 * A lead whose `lead.lead_stages` rows (and their weekly sums) may no longer match its timeline:
 * the triggers append one row per write that touches the timeline or the filter columns, and
 * `lead.lead_stages_fold()` recomputes those leads together, in one pass, then deletes the rows.
 * The service folds them every moment and before every report, so a report still sees every
 * committed change.
 */
export const LeadStageChange = defineEntity({
  name: 'LeadStageChange',
  schema: 'lead',
  tableName: 'lead_stage_changes',
  properties: (p) => ({
    id: p.bigint('number').primary().autoincrement(),
    // No foreign key: a deleted lead's change is what removes its rows.
    leadId: p.uuid(),
  }),
});
export type LeadStageChange = InferEntity<typeof LeadStageChange>;
