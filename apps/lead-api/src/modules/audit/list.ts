import { auditContracts } from '@lead/contracts';
import { AuditRepository } from '@lead/db';
import { implementProtected } from '../../trpc.js';

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
    items: items.map((entry) => ({
      id: entry.id,
      actor: entry.actorSub ?? null,
      actor_role: entry.actorRole ?? null,
      action: entry.action,
      lead_ids: entry.leadIds,
      request_id: entry.requestId,
      client_ip: entry.clientIp,
      user_agent: entry.userAgent ?? null,
      created_at: entry.createdAt,
    })),
    total,
    page: input.page,
    limit: input.limit,
  };
});
