import { leadContracts } from '@lead/contracts';
import { LeadRepository } from '@lead/db';
import { implementPublic } from '../../trpc.js';

/** Empty optional fields are stored as absent. */
const orNull = (value: string | null | undefined) => (value ? value : null);

export const create = implementPublic(leadContracts.create, async ({ ctx, input }) => {
  const lead = await new LeadRepository(ctx.em).create({
    name: input.name,
    email: input.email,
    phone: orNull(input.phone),
    company: orNull(input.company),
    message: orNull(input.message),
    source: input.source,
  }, ctx.audit);
  return { id: lead.id, name: lead.name, email: lead.email, status: lead.status, created_at: lead.createdAt };
});
