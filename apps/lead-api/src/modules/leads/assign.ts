import { leadContracts } from '@lead/contracts';
import { LeadRepository } from '@lead/db';
import { implementProtected } from '../../trpc.js';

export const assign = implementProtected(leadContracts.assign, async ({ ctx, input }) => {
  const lead = await new LeadRepository(ctx.db).assign(input.lead_id, input.assigned_to, {
    scope: ctx.scope,
    audit: ctx.audit,
    actor: ctx.user.id,
  });
  return { id: lead.id, assigned_to: lead.assignedTo, updated_at: lead.updatedAt };
});
