import { healthContract } from '@lead/contracts';
import { TRPCError } from '@trpc/server';
import { implementPublic } from '../../trpc.js';

export const health = implementPublic(healthContract, async ({ ctx }) => {
  try {
    await ctx.db.query('select 1');
  } catch (cause) {
    throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'The database is unavailable', cause });
  }
  return { status: 'ok' as const, database: 'ok' as const };
});
