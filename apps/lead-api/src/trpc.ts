import type { Contract, LeadErrorShape, LeadMeta, ProcedureOf } from '@lead/contracts';
import { initTRPC } from '@trpc/server';
import superjson from 'superjson';
import type { z } from 'zod';
import type { AuthedContext, Context, PublicContext } from './procedures/context.js';
import { recordCall, startAudit } from './procedures/audit.js';
import { formatError, rethrowMapped } from './procedures/errors.js';
import { spendUserBudget } from './procedures/limits.js';
import { traceProcedure } from './ops/tracing.js';
import { authorize } from './procedures/roles.js';

const t = initTRPC.context<Context>().meta<LeadMeta>().create({ transformer: superjson, errorFormatter: formatError });

export const router = t.router;

/**
 * Every procedure's policies, read from its contract's meta on the procedure a request reached,
 * whichever surface and URL spelling it came through: its span, domain errors mapped to API
 * errors, and the audit row it carries; for a protected contract also the caller, verified and
 * in one of its roles, and the per-user budget, all before the input is parsed. One middleware
 * rather than one per policy: tRPC copies a call's options at every layer with a slow spread
 * helper (about 8 % of a read's server CPU in the benchmark's profile with five layers more).
 */
const procedureWithPolicies = t.procedure.use(({ ctx, meta, path, next }) =>
  traceProcedure(path, async () => {
    // A contract that lists no role is public (`implementPublic` holds only those).
    if (meta!.roles.length === 0) return rethrowMapped(await next({ ctx: { audit: startAudit(ctx, path, null) } }));
    const caller = await authorize(ctx, meta!, path);
    await spendUserBudget(ctx, caller.user, meta!.policy);
    return rethrowMapped(await next({ ctx: caller }));
  }),
);

type Handler<TCtx, C extends Contract> = (opts: { ctx: TCtx; input: z.output<C['input']> }) => Promise<z.input<C['output']>>;

/**
 * The procedure takes the contract's schemas and meta, so it serves exactly what the contract
 * says; its type is the contract's for the same reason. The audit row is written from the
 * contract's policy after the handler, unless the handler wrote it in its own transaction.
 */
function build<C extends Contract>(contract: C, handler: Handler<never, C>): ProcedureOf<C> {
  const procedure = procedureWithPolicies
    .meta(contract.meta)
    .input(contract.input)
    .use(async ({ ctx, meta, input, next }) => {
      const result = await next();
      if (result.ok) await recordCall(ctx, meta!.policy.audit, input, result.data);
      return result;
    })
    .output(contract.output);
  const resolver = handler as unknown as Parameters<typeof procedure.query>[0];
  const built = contract.type === 'query' ? procedure.query(resolver) : procedure.mutation(resolver);
  return built as unknown as ProcedureOf<C>;
}

/** Attaches a handler to a public contract. */
export function implementPublic<C extends Contract>(contract: C, handler: Handler<PublicContext, C>): ProcedureOf<C> {
  if (contract.meta.roles.length > 0) throw new Error(`${contract.meta.openapi.operationId} is not public`);
  return build(contract, handler as Handler<never, C>);
}

/** Attaches a handler to a contract that needs an authenticated user in one of its roles. */
export function implementProtected<C extends Contract>(contract: C, handler: Handler<AuthedContext, C>): ProcedureOf<C> {
  if (contract.meta.roles.length === 0) throw new Error(`${contract.meta.openapi.operationId} is public`);
  return build(contract, handler as Handler<never, C>);
}

export type { AuthedContext, Context, LeadErrorShape, PublicContext };
