import { eventContracts } from '@lead/contracts';
import { OutboxRepository } from '@lead/db';
import { implementProtected } from '../../trpc.js';
import { toLeadEvent } from './serialize.js';

export const list = implementProtected(eventContracts.list, async ({ ctx, input }) => {
  const { items, total } = await new OutboxRepository(ctx.db).listPage({ state: input.state }, { page: input.page, limit: input.limit });
  return { items: items.map(toLeadEvent), total, page: input.page, limit: input.limit };
});
