import { leadContracts } from '@lead/contracts';
import { LeadRepository } from '@lead/db';
import { implementProtected } from '../../trpc.js';
import { toSummary } from './serialize.js';

export const list = implementProtected(leadContracts.list, async ({ ctx, input }) => {
  const { items, total } = await new LeadRepository(ctx.db).listPage(
    {
      status: input.status,
      source: input.source,
      assignedTo: input.assigned_to,
      utmSource: input.utm_source,
      utmMedium: input.utm_medium,
      utmCampaign: input.utm_campaign,
    },
    { page: input.page, limit: input.limit },
    ctx.scope,
  );
  return { items: items.map(toSummary), total, page: input.page, limit: input.limit };
});
