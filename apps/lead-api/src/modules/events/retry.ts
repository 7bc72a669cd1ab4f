import { eventContracts } from '@lead/contracts';
import { OutboxRepository } from '@lead/db';
import { implementProtected } from '../../trpc.js';
import { toLeadEvent } from './serialize.js';

export const retry = implementProtected(eventContracts.retry, async ({ ctx, input }) => {
  const event = await new OutboxRepository(ctx.db).retry(input.event_id, ctx.audit);
  return toLeadEvent(event);
});
