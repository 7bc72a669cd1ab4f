import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { enumeration } from './enumeration.js';

export const RETENTION_OUTCOMES = ['running', 'completed', 'failed', 'interrupted'] as const;
export type RetentionOutcome = (typeof RETENTION_OUTCOMES)[number];

/**
 * One run of the retention job: when, under which rules, and how much each rule erased,
 * stripped or dropped. Counts are written after every batch, so a run cut short (`interrupted`,
 * set by the next run, or by shutdown) still says what it did. `error` is a short reason free of
 * personal data.
 */
export const RetentionRun = defineEntity({
  name: 'RetentionRun',
  schema: 'lead',
  tableName: 'retention_runs',
  properties: (p) => ({
    id: p.uuid().primary(),
    startedAt: p.datetime(),
    finishedAt: p.datetime().nullable(),
    outcome: enumeration('retention_outcome', RETENTION_OUTCOMES),
    /** The rules in force for this run (days per rule, null when off). */
    rules: p.json<Record<string, number | null>>(),
    closedLeads: p.integer().default(0),
    inactiveLeads: p.integer().default(0),
    eventPayloads: p.integer().default(0),
    auditRows: p.integer().default(0),
    error: p.string().length(200).nullable(),
  }),
  indexes: [{ name: 'retention_runs_started_at_idx', properties: ['startedAt'] }],
});
export type RetentionRun = InferEntity<typeof RetentionRun>;
