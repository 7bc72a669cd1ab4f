import { LEAD_STATUSES, reportContracts, type StageFigures } from '@lead/contracts';
import { ReportRepository } from '@lead/db';
import { implementProtected } from '../../trpc.js';
import { ratio, reportScope } from './filters.js';

const CLOSED = new Set(['closed_won', 'closed_lost']);

export const pipeline = implementProtected(reportContracts.pipeline, async ({ ctx, input }) => {
  const { period, filter } = reportScope(input);
  const { byStatus, stages } = await new ReportRepository(ctx.db).pipeline(period, filter, ctx.scope);
  const byStage = new Map(stages.map((row) => [row.stage, row]));
  const figures = LEAD_STATUSES.map((stage): StageFigures => {
    const row = byStage.get(stage);
    const entered = row?.entered ?? 0;
    const closed = CLOSED.has(stage);
    return {
      stage,
      entered,
      converted_to_next: closed ? null : (row?.convertedToNext ?? 0),
      conversion_to_next: closed ? null : ratio(row?.convertedToNext ?? 0, entered),
      converted_to_won: closed ? null : (row?.convertedToWon ?? 0),
      conversion_to_won: closed ? null : ratio(row?.convertedToWon ?? 0, entered),
      stints: row?.stints ?? 0,
      median_seconds: row?.medianSeconds ?? null,
      p90_seconds: row?.p90Seconds ?? null,
    };
  });
  const won = byStage.get('closed_won')?.entered ?? 0;
  const lost = byStage.get('closed_lost')?.entered ?? 0;
  const statusCounts = Object.fromEntries(LEAD_STATUSES.map((s) => [s, byStatus[s] ?? 0])) as Record<
    (typeof LEAD_STATUSES)[number],
    number
  >;
  return {
    from: period.from,
    to: period.to,
    leads: Object.values(statusCounts).reduce((a, b) => a + b, 0),
    by_status: statusCounts,
    stages: figures,
    won,
    lost,
    win_rate: ratio(won, won + lost),
  };
});
