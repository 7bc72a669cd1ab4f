import { auditContracts } from '@lead/contracts';
import { AuditRepository } from '@lead/db';
import { implementProtected } from '../../trpc.js';
import { toAuditEntry } from './serialize.js';

export const list = implementProtected(auditContracts.list, async ({ ctx, input }) => {
  const { items, total } = await new AuditRepository(ctx.db).listPage(
    {
      leadId: input.lead_id,
      actorSub: input.actor,
      from: input.from ? new Date(input.from) : undefined,
      to: input.to ? new Date(input.to) : undefined,
    },
    { page: input.page, limit: input.limit },
  );
  return {
    items: items.map(toAuditEntry),
    total,
    page: input.page,
    limit: input.limit,
  };
});
