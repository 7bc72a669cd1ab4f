import { leadContracts } from '@lead/contracts';
import { LeadRepository } from '@lead/db';
import { implementAdmin } from '../../trpc.js';
import { toDetail } from './serialize.js';

export const get = implementAdmin(leadContracts.get, async ({ ctx, input }) => {
  const { lead, activities } = await new LeadRepository(ctx.em).getWithActivities(input.lead_id);
  return toDetail(lead, activities);
});
