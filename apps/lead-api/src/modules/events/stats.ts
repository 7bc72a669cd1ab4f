import { eventContracts } from '@lead/contracts';
import { OutboxRepository } from '@lead/db';
import { implementProtected } from '../../trpc.js';

export const stats = implementProtected(eventContracts.stats, async ({ ctx }) => {
  const { pending, delivered, dead, oldestPendingAgeSeconds } = await new OutboxRepository(ctx.db).stats();
  return { pending, delivered, dead, oldest_pending_age_seconds: oldestPendingAgeSeconds };
});
