import { reportContracts } from '@lead/contracts';
import { ReportRepository } from '@lead/db';
import { implementProtected } from '../../trpc.js';
import { ratio, reportScope } from './filters.js';

export const sources = implementProtected(reportContracts.sources, async ({ ctx, input }) => {
  const { period, filter } = reportScope(input);
  const rows = await new ReportRepository(ctx.db).sources(input.group_by, period, filter, ctx.scope);
  const groups = rows.map((row) => ({
    key: row.key,
    leads: row.leads,
    reached_qualified: row.reachedQualified,
    won: row.won,
    lost: row.lost,
    conversion_to_won: ratio(row.won, row.leads),
    median_days_to_close: row.medianDaysToClose,
  }));
  const sum = (pick: (g: (typeof groups)[number]) => number) => groups.reduce((n, g) => n + pick(g), 0);
  return {
    from: period.from,
    to: period.to,
    group_by: input.group_by,
    groups,
    total: {
      leads: sum((g) => g.leads),
      reached_qualified: sum((g) => g.reached_qualified),
      won: sum((g) => g.won),
      lost: sum((g) => g.lost),
    },
  };
});
