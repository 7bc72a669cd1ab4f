import { z } from 'zod';
import { Instant, Timestamp, Uuid } from '../common/ids.js';
import { UtmFilters } from '../leads/attribution.js';
import { LeadSource, LeadStatus } from '../leads/enums.js';

/** A period and the list's filters: what every report is computed over. */
const reportFilters = {
  from: Instant.optional().meta({
    description: 'Start of the period, inclusive (ISO 8601). Left out: since the first lead.',
    example: '2024-01-01T00:00:00Z',
  }),
  to: Instant.optional().meta({
    description: 'End of the period, exclusive (ISO 8601). Left out: now and later.',
    example: '2024-04-01T00:00:00Z',
  }),
  status: LeadStatus.optional().meta({ description: 'Only leads whose current status is this.' }),
  source: LeadSource.optional(),
  assigned_to: Uuid.optional().meta({ description: 'Only leads assigned to this user.' }),
  ...UtmFilters,
};

export const PipelineReportInput = z.object(reportFilters);
export type PipelineReportInput = z.input<typeof PipelineReportInput>;

export const REPORT_GROUPS = ['source', 'utm_source', 'utm_medium', 'utm_campaign'] as const;
export const SourcesReportInput = z.object({
  group_by: z.enum(REPORT_GROUPS).default('source').meta({ description: 'The dimension to group leads by (default `source`).' }),
  ...reportFilters,
});
export type SourcesReportInput = z.input<typeof SourcesReportInput>;

const Count = z.number().int().min(0);
const Ratio = z.number().min(0).max(1).nullable().meta({ description: 'A fraction from 0 to 1; null when its denominator is 0.' });
const Seconds = z.number().min(0).nullable();

export const StageFigures = z
  .object({
    stage: LeadStatus,
    entered: Count.meta({ description: 'Leads that entered this stage in the period (a lead entering it twice counts once).' }),
    converted_to_next: Count.nullable().meta({
      description:
        'Of those, leads that afterwards entered a later stage (`closed_won` included, `closed_lost` not); null for closed stages.',
    }),
    conversion_to_next: Ratio,
    converted_to_won: Count.nullable().meta({
      description: 'Of those, leads that afterwards entered `closed_won`; null for closed stages.',
    }),
    conversion_to_won: Ratio,
    stints: Count.meta({ description: 'Completed stays in this stage that began in the period (the basis of the times).' }),
    median_seconds: Seconds.meta({ description: 'Median time spent in the stage, over those stays (interpolated); null without any.' }),
    p90_seconds: Seconds.meta({ description: '90th percentile of the time spent in the stage (interpolated).' }),
  })
  .meta({ id: 'StageFigures' });
export type StageFigures = z.infer<typeof StageFigures>;

const ByStatus = z.object(Object.fromEntries(LeadStatus.options.map((s) => [s, Count])) as Record<LeadStatus, typeof Count>);

export const PipelineReport = z
  .object({
    from: Timestamp.nullable(),
    to: Timestamp.nullable(),
    leads: Count.meta({ description: 'Leads created in the period that match the filters.' }),
    by_status: ByStatus.meta({ description: 'Those leads by their current status.' }),
    stages: z.array(StageFigures).meta({ description: 'One entry per stage, in pipeline order.' }),
    won: Count.meta({ description: 'Leads that entered `closed_won` in the period.' }),
    lost: Count.meta({ description: 'Leads that entered `closed_lost` in the period.' }),
    win_rate: Ratio.meta({ description: '`won / (won + lost)`.' }),
  })
  .meta({ id: 'PipelineReport', description: 'Counts and times only: no lead, name or address.' });
export type PipelineReport = z.infer<typeof PipelineReport>;

export const SourceGroup = z
  .object({
    key: z.string().nullable().meta({ description: 'The group’s value; null for leads without it (no utm parameter).' }),
    leads: Count,
    reached_qualified: Count.meta({ description: 'Leads that are, or were at some point, `qualified`, `proposal` or `closed_won`.' }),
    won: Count.meta({ description: 'Leads now `closed_won`.' }),
    lost: Count.meta({ description: 'Leads now `closed_lost`.' }),
    conversion_to_won: Ratio.meta({ description: '`won / leads`.' }),
    median_days_to_close: z.number().min(0).nullable().meta({
      description: 'Median of `closed_at − created_at` in days over the won and lost leads (interpolated); null without any.',
    }),
  })
  .meta({ id: 'SourceGroup' });
export type SourceGroup = z.infer<typeof SourceGroup>;

export const SourcesReport = z
  .object({
    from: Timestamp.nullable(),
    to: Timestamp.nullable(),
    group_by: z.enum(REPORT_GROUPS),
    groups: z.array(SourceGroup).meta({ description: 'Most leads first; ties by key, null last.' }),
    total: z.object({ leads: Count, reached_qualified: Count, won: Count, lost: Count }),
  })
  .meta({ id: 'SourcesReport', description: 'Leads created in the period that match the filters, grouped. No personal data.' });
export type SourcesReport = z.infer<typeof SourcesReport>;
