import { leadContracts } from '@lead/contracts';
import { LeadRepository } from '@lead/db';
import { implementProtected } from '../../trpc.js';
import { toDetail } from './serialize.js';

export const merge = implementProtected(leadContracts.merge, async ({ ctx, input }) => {
  return toDetail(
    await new LeadRepository(ctx.db).merge(input.lead_id, input.into, {
      scope: ctx.scope,
      audit: ctx.audit,
      actor: ctx.user.id,
    }),
  );
});
