import { eventContracts } from '@lead/contracts';
import { OutboxRepository } from '@lead/db';
import { implementAdmin } from '../../trpc.js';

export const stats = implementAdmin(eventContracts.stats, async ({ ctx }) => {
  const { pending, delivered, dead, oldestPendingAgeSeconds } = await new OutboxRepository(ctx.em).stats();
  return { pending, delivered, dead, oldest_pending_age_seconds: oldestPendingAgeSeconds };
});
