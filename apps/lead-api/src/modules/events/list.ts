import { eventContracts } from '@lead/contracts';
import { OutboxRepository, writeAudit } from '@lead/db';
import { implementProtected } from '../../trpc.js';
import { toLeadEvent } from './serialize.js';

export const list = implementProtected(eventContracts.list, async ({ ctx, input }) => {
  const { items, total } = await new OutboxRepository(ctx.em()).listPage({ state: input.state }, { page: input.page, limit: input.limit });
  // Payloads carry lead data (e.g. the email of a new lead): reading them is audited like any read.
  await writeAudit(ctx.db, ctx.audit, [...new Set(items.map((event) => event.leadId))]);
  return { items: items.map(toLeadEvent), total, page: input.page, limit: input.limit };
});
