import type { Contract, LeadErrorShape, LeadMeta, ProcedureOf } from '@lead/contracts';
import type { AuditEntry, Database, LeadScope } from '@lead/db';
import { initTRPC } from '@trpc/server';
import type { FastifyBaseLogger } from 'fastify';
import superjson from 'superjson';
import type { z } from 'zod';
import type { Authenticator, User } from './auth.js';
import type { RateLimit } from './http/rate-limit.js';
import { recordCall, startAudit } from './procedures/audit.js';
import { formatError, rethrowMapped } from './procedures/errors.js';
import { spendUserBudget } from './procedures/limits.js';
import { authorize } from './procedures/roles.js';

/** What every procedure sees, built from the HTTP request by `http/context.ts`. */
export interface Context {
  /** The database: every repository runs on it. */
  db: Database;
  auth: Authenticator;
  requestId: string;
  /** The client's address, canonical (see `http/client-address.ts`). */
  ip: string;
  userAgent: string | null;
  /** The raw `Authorization` header; verified only by procedures that need a user. */
  authorization: string | undefined;
  /** Which surface the call came through: REST errors and tRPC errors are shaped differently. */
  surface: 'rest' | 'trpc';
  log: FastifyBaseLogger;
  setHeader(name: string, value: string): void;
  /** The `Idempotency-Key` header, read by `leads.create`. */
  idempotencyKey: string | undefined;
  /** Budget per authenticated user, for contracts whose policy names it; null: unlimited. */
  userRateLimit: RateLimit | null;
  /** Records a submission caught by the honeypot field (counted and logged, without its data). */
  honeypotCaught(): void;
  /** Settings of the lead procedures. */
  leads: { duplicateWindowDays: number };
}

/** Every procedure carries the audit row its call must write, if its contract audits it. */
export interface PublicContext extends Context {
  audit: AuditEntry;
}

export interface AuthedContext extends PublicContext {
  user: User;
  /** The leads this user may see: a `sales` user only their own. */
  scope: LeadScope;
}

const t = initTRPC.context<Context>().meta<LeadMeta>().create({ transformer: superjson, errorFormatter: formatError });

export const router = t.router;

/**
 * Every procedure: domain errors mapped to API errors, and the call's audit entry. The policies
 * of the contract (roles, per-user budget, audit) are read from its meta here, on the procedure
 * a request reached, whichever surface and URL spelling it came through.
 */
const publicProcedure = t.procedure
  .use(async ({ next }) => rethrowMapped(await next()))
  .use(({ ctx, path, next }) => next({ ctx: { audit: startAudit(ctx, path, null) } }));

const protectedProcedure = publicProcedure
  .use(async ({ ctx, meta, path, next }) => next({ ctx: await authorize(ctx, meta!, path) }))
  .use(async ({ ctx, meta, next }) => {
    await spendUserBudget(ctx, meta!.policy);
    return next();
  });

type Handler<TCtx, C extends Contract> = (opts: { ctx: TCtx; input: z.output<C['input']> }) => Promise<z.input<C['output']>>;

/**
 * The procedure takes the contract's schemas and meta, so it serves exactly what the contract
 * says; its type is the contract's for the same reason. The audit row is written from the
 * contract's policy after the handler, unless the handler wrote it in its own transaction.
 */
function build<C extends Contract>(base: typeof publicProcedure, contract: C, handler: Handler<never, C>): ProcedureOf<C> {
  const procedure = base
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
  return build(publicProcedure, contract, handler as Handler<never, C>);
}

/** Attaches a handler to a contract that needs an authenticated user in one of its roles. */
export function implementProtected<C extends Contract>(contract: C, handler: Handler<AuthedContext, C>): ProcedureOf<C> {
  if (contract.meta.roles.length === 0) throw new Error(`${contract.meta.openapi.operationId} is public`);
  return build(protectedProcedure as unknown as typeof publicProcedure, contract, handler as Handler<never, C>);
}

export type { LeadErrorShape };
