import { leadContracts } from '@lead/contracts';
import { LeadRepository } from '@lead/db';
import { implementProtected } from '../../trpc.js';
import { toDetail } from './serialize.js';

export const get = implementProtected(leadContracts.get, async ({ ctx, input }) => {
  return toDetail(await new LeadRepository(ctx.db).getWithActivities(input.lead_id, ctx.scope));
});
