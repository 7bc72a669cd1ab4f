import { z } from 'zod';
import { Timestamp, Uuid } from '../common/ids.js';
import { defineContract } from '../contract.js';

const Days = (description: string) => z.number().int().nullable().meta({ description });
const Count = (description: string) => z.number().int().meta({ description });

const LeadRule = (what: string) =>
  z.object({
    days: Days(`${what}; null: the rule is off.`),
    would_erase: Count('Leads the rule matches now: what the next run erases, unless they change before it.'),
  });

export const RetentionRules = z
  .object({
    closed_leads: LeadRule('Closed (won or lost) leads are erased this many days after `closed_at` (`RETENTION_CLOSED_DAYS`)'),
    inactive_leads: LeadRule(
      'Leads are erased after this many days without activity: since the later of `updated_at` and their newest timeline entry (`RETENTION_INACTIVE_DAYS`). A lead the closed rule also matches is counted there only',
    ),
    event_payloads: z.object({
      days: Days(
        'Delivered and dead events lose their personal fields this many days after they were written (`EVENT_PAYLOAD_RETENTION_DAYS`)',
      ),
      would_strip: Count('Delivered or dead events past that age that still carry personal fields.'),
    }),
    audit_rows: z.object({
      days: Days('Audit rows are dropped at this age (`AUDIT_RETENTION_DAYS`)'),
      would_drop: Count('Audit rows past that age.'),
    }),
  })
  .meta({ id: 'RetentionRules' });

export const RETENTION_RUN_OUTCOMES = ['running', 'completed', 'failed', 'interrupted'] as const;
export const RetentionRunOutcome = z.enum(RETENTION_RUN_OUTCOMES).meta({
  id: 'RetentionRunOutcome',
  description:
    '`running`: in progress; `completed`: every rule applied; `failed`: stopped by an error (`error` says which, briefly); `interrupted`: cut short by a shutdown, or its process died (found by the next run).',
});

export const RetentionRun = z
  .object({
    id: Uuid,
    started_at: Timestamp,
    finished_at: Timestamp.nullable(),
    outcome: RetentionRunOutcome,
    closed_leads: Count('Leads the closed rule erased.'),
    inactive_leads: Count('Leads the inactivity rule erased.'),
    event_payloads: Count('Event payloads stripped of personal fields.'),
    audit_rows: Count('Audit rows dropped.'),
    error: z.string().nullable().meta({ description: 'Why a failed run stopped; never personal data.' }),
  })
  .meta({ id: 'RetentionRun' });

export const RetentionOverview = z
  .object({
    as_of: Timestamp.meta({ description: 'When the counts were taken.' }),
    rules: RetentionRules,
    interval_ms: z.number().int().meta({ description: 'How often each instance tries a run; one instance at a time does it.' }),
    batch_size: z
      .number()
      .int()
      .meta({ description: 'Leads erased (one transaction each), or payloads and audit rows handled, per batch.' }),
    last_run: RetentionRun.nullable().meta({ description: 'The latest run, or null before the first.' }),
  })
  .meta({ id: 'RetentionOverview' });
export type RetentionOverview = z.infer<typeof RetentionOverview>;

export const retentionContract = defineContract({
  type: 'query',
  input: z.void(),
  output: RetentionOverview,
  roles: ['admin'],
  rateLimit: 'user',
  // Counts only, no lead data; the call is still in the trail, naming no lead.
  audit: { kind: 'read', leadIds: () => [] },
  method: 'GET',
  path: '/api/v1/privacy/retention',
  operationId: 'retentionOverview',
  summary: 'The retention rules in force, what each would erase now, and the last run',
  description:
    'The counts use the very predicates a run uses, so they are what the next run erases, strips and drops unless the data changes in between.',
  tags: ['Privacy'],
});
