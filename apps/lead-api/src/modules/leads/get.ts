import { leadContracts } from '@lead/contracts';
import { LeadRepository } from '@lead/db';
import { implementProtected } from '../../trpc.js';
import { toDetail } from './serialize.js';

// The read's audit row goes in the same round trip as the read (`getWithActivities`), for the
// lead the contract's policy names (`leadIds`: the lead served); the server then writes no other.
export const get = implementProtected(leadContracts.get, async ({ ctx, input }) => {
  return toDetail(await new LeadRepository(ctx.db).getWithActivities(input.lead_id, ctx.scope, ctx.audit));
});
