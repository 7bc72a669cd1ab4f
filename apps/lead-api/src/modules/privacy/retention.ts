import { privacyContracts } from '@lead/contracts';
import { RetentionRepository } from '@lead/db';
import { implementProtected } from '../../trpc.js';

export const retention = implementProtected(privacyContracts.retention, async ({ ctx }) => {
  const { rules, intervalMs, batchSize } = ctx.retention;
  const repo = new RetentionRepository(ctx.db);
  const asOf = new Date();
  const [counts, last] = await Promise.all([repo.preview(rules, asOf), repo.lastRun()]);
  return {
    as_of: asOf,
    rules: {
      closed_leads: { days: rules.closedDays, would_erase: counts.closedLeads },
      inactive_leads: { days: rules.inactiveDays, would_erase: counts.inactiveLeads },
      event_payloads: { days: rules.eventPayloadDays, would_strip: counts.eventPayloads },
      audit_rows: { days: rules.auditDays, would_drop: counts.auditRows },
    },
    interval_ms: intervalMs,
    batch_size: batchSize,
    last_run: last && {
      id: last.id,
      started_at: last.startedAt,
      finished_at: last.finishedAt,
      outcome: last.outcome,
      closed_leads: last.closedLeads,
      inactive_leads: last.inactiveLeads,
      event_payloads: last.eventPayloads,
      audit_rows: last.auditRows,
      error: last.error,
    },
  };
});
