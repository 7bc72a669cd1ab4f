import { leadContracts } from '@lead/contracts';
import { LeadRepository } from '@lead/db';
import { implementProtected } from '../../trpc.js';
import { toActivity } from './serialize.js';

export const addActivity = implementProtected(leadContracts.addActivity, async ({ ctx, input }) => {
  const activity = await new LeadRepository(ctx.db).addActivity(
    input.lead_id,
    {
      type: input.activity_type,
      description: input.description,
      actor: ctx.user.id,
    },
    ctx,
  );
  return toActivity(activity);
});
