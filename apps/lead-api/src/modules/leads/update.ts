import { leadContracts } from '@lead/contracts';
import { LeadRepository, type LeadChanges } from '@lead/db';
import { implementProtected } from '../../trpc.js';
import { toDetail } from './serialize.js';

/** Absent: leave as is; null or empty: clear (optional fields only). */
const cleared = (value: string | null | undefined) => (value === undefined ? undefined : value || null);

export const update = implementProtected(leadContracts.update, async ({ ctx, input }) => {
  const changes: LeadChanges = {
    name: input.name,
    email: input.email,
    phone: cleared(input.phone),
    company: cleared(input.company),
    message: cleared(input.message),
    priority: input.priority,
  };
  return toDetail(
    await new LeadRepository(ctx.db).update(input.lead_id, changes, {
      scope: ctx.scope,
      audit: ctx.audit,
      actor: ctx.user.id,
    }),
  );
});
