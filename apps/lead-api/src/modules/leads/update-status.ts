import { leadContracts } from '@lead/contracts';
import { LeadRepository } from '@lead/db';
import { implementProtected } from '../../trpc.js';

export const updateStatus = implementProtected(leadContracts.updateStatus, async ({ ctx, input }) => {
  const lead = await new LeadRepository(ctx.db).changeStatus(input.lead_id, input.status, {
    notes: input.notes || null,
    lostReason: input.lost_reason ?? null,
    actor: ctx.user.id,
    scope: ctx.scope,
    audit: ctx.audit,
  });
  return { id: lead.id, status: lead.status, lost_reason: lead.lostReason, updated_at: lead.updatedAt, closed_at: lead.closedAt };
});
