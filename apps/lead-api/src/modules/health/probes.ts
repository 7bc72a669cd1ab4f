import { probeContracts } from '@lead/contracts';
import { TRPCError } from '@trpc/server';
import { operationsOf } from '../../ops/operations.js';
import { implementPublic, router } from '../../trpc.js';

const notReady = (reason: string) => new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: `Not ready: ${reason}` });

/** The process is up and its event loop turns: nothing else is asked. */
export const live = implementPublic(probeContracts.live, () => Promise.resolve({ status: 'ok' as const }));

export const ready = implementPublic(probeContracts.ready, async ({ ctx }) => {
  const { lifecycle, readiness } = operationsOf(ctx.db);
  if (lifecycle.draining) throw notReady('the service is shutting down');
  const problem = await readiness.check();
  // Asked again afterwards: shutdown may have begun while the database was being asked.
  if (lifecycle.draining) throw notReady('the service is shutting down');
  if (problem) throw notReady(problem);
  return { status: 'ok' as const, database: 'ok' as const, migrations: 'applied' as const };
});

export const probesRouter = router({ live, ready });
