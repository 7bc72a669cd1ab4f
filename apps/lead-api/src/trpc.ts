import type { Contract, LeadErrorShape, LeadMeta, ProcedureOf, ValidationIssue } from '@lead/contracts';
import {
  AssignmentForbiddenError,
  AuditUnavailableError,
  EventNotDeadError,
  EventNotFoundError,
  IdempotencyKeyReusedError,
  LeadNotFoundError,
  StatusUnchangedError,
  type AuditEntry,
  type Database,
  type EntityManager,
  type LeadScope,
} from '@lead/db';
import { initTRPC, TRPCError } from '@trpc/server';
import superjson from 'superjson';
import type { z } from 'zod';
import type { Authenticator, User } from './auth.js';
import { rateLimitHeaders, type RateLimit } from './http/rate-limit.js';
import { sqlStateOf } from './logger.js';
import { traceProcedure } from './ops/tracing.js';

/** What every procedure sees, built from the HTTP request by `http/context.ts`. */
export interface Context {
  /** Parameterised SQL on the pool: the lead paths. */
  db: Database;
  /** A fresh ORM EntityManager, for the admin paths that use the ORM (audit trail, events). */
  em(): EntityManager;
  auth: Authenticator;
  requestId: string;
  ip: string;
  userAgent: string | null;
  /** The raw `Authorization` header; verified only by procedures that need a user. */
  authorization: string | undefined;
  /** Which surface the call came through: REST errors and tRPC errors are shaped differently. */
  surface: 'rest' | 'trpc';
  setHeader(name: string, value: string): void;
  /** The `Idempotency-Key` header, read by `leads.create`. */
  idempotencyKey: string | undefined;
  /** Budget per authenticated user on protected procedures; null: unlimited. */
  userRateLimit: RateLimit | null;
  /** Records a submission caught by the honeypot field (counted and logged, without its data). */
  honeypotCaught(): void;
}

/** Every procedure knows the audit row its reads and changes must write. */
export interface PublicContext extends Context {
  audit: AuditEntry;
}

export interface AuthedContext extends PublicContext {
  user: User;
  /** The leads this user may see: a `sales` user only their own. */
  scope: LeadScope;
}

const INTERNAL_MESSAGE = 'Internal server error';

/** Which request, and which surface, an error belongs to. */
export type ErrorOrigin = Pick<Context, 'requestId' | 'surface'>;

/**
 * Errors raised before a context exists reach the errorFormatter with `ctx` undefined: on /trpc
 * an unsupported content type, a batch mixing queries and mutations, an unbatched streaming
 * call; on REST an unknown path or method, a missing content type; on both, a context that
 * could not be created. Both adapters (tRPC's fastify adapter, trpc-to-openapi) first hand that
 * same error object to `onError`, with the Fastify request, so the server notes the error's
 * origin there (`noteErrorOrigin`) and the formatter looks it up by the error itself. Weakly
 * held: nothing outlives the error. (An AsyncLocalStorage around every request did this before,
 * at the price of promise hooks on every promise of every request.)
 */
const contextlessErrors = new WeakMap<object, ErrorOrigin>();

export function noteErrorOrigin(error: object, origin: ErrorOrigin): void {
  contextlessErrors.set(error, origin);
}

function zodIssues(error: TRPCError): ValidationIssue[] | undefined {
  const cause = error.cause as { name?: string; issues?: unknown } | undefined;
  if (error.code !== 'BAD_REQUEST' || cause?.name !== 'ZodError' || !Array.isArray(cause.issues)) return undefined;
  return (cause.issues as Array<{ code: string; path: PropertyKey[]; message: string }>).map((i) => ({
    code: i.code,
    path: i.path.map((p) => (typeof p === 'number' ? p : String(p))),
    message: i.message,
  }));
}

const t = initTRPC
  .context<Context>()
  .meta<LeadMeta>()
  .create({
    transformer: superjson,
    /**
     * One error shape per surface. Internal messages and stacks never leave: a 500 says only
     * "Internal server error" and carries the request id under which the cause is logged.
     */
    errorFormatter({ shape, error, ctx }): LeadErrorShape {
      const origin: ErrorOrigin | undefined = ctx ?? contextlessErrors.get(error);
      const requestId = origin?.requestId ?? 'unknown';
      const message = error.code === 'INTERNAL_SERVER_ERROR' ? INTERNAL_MESSAGE : shape.message;
      const issues = zodIssues(error);
      const data = {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        ...(shape.data.path ? { path: shape.data.path } : {}),
        request_id: requestId,
        ...(issues ? { issues } : {}),
      };
      if (origin?.surface !== 'trpc') {
        // trpc-to-openapi spreads this into the REST body and then sets `code` and `issues`.
        return { message, request_id: requestId } as unknown as LeadErrorShape;
      }
      return { message: issues ? 'Input validation failed' : message, code: shape.code, data };
    },
  });

export const router = t.router;

/** Turns domain and infrastructure failures into stable API errors. */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (cause instanceof LeadNotFoundError) throw new TRPCError({ code: 'NOT_FOUND', message: cause.message });
    if (cause instanceof StatusUnchangedError) throw new TRPCError({ code: 'CONFLICT', message: cause.message, cause });
    if (cause instanceof AssignmentForbiddenError) throw new TRPCError({ code: 'FORBIDDEN', message: cause.message });
    if (cause instanceof AuditUnavailableError) {
      throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'The audit trail is unavailable, try again shortly', cause });
    }
    if (cause instanceof EventNotFoundError) throw new TRPCError({ code: 'NOT_FOUND', message: cause.message });
    if (cause instanceof EventNotDeadError) throw new TRPCError({ code: 'CONFLICT', message: cause.message, cause });
    if (cause instanceof IdempotencyKeyReusedError) throw new TRPCError({ code: 'UNPROCESSABLE_CONTENT', message: cause.message });
    if (isDatabaseUnavailable(cause)) {
      throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'The database is unavailable, try again shortly', cause });
    }
  }
  return result;
});

/**
 * SQLSTATEs saying the server cannot be reached or will not serve right now: class 08
 * (connection exception), 53300 (too many connections), 57P01/57P02 (terminated by an
 * administrator, or by a crash of another backend), 57P03 (cannot connect now), and the bounds
 * every connection carries running out: 57014 (`statement_timeout`) and 55P03 (`lock_timeout`).
 */
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|53300|57P0[123]|57014|55P03)$/;

/** Socket errors (Node's `code`) of a server that is down, restarting or out of reach. */
const UNAVAILABLE_SOCKET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * `pg` reports a connection that closed under it with a plain Error and no code; knex puts the
 * statement before it ("<sql> - <message>") on the ORM's paths, hence the last segment.
 */
const CONNECTION_LOST = /^(Connection terminated|Client has encountered a connection error)/;

/**
 * Whether `error`, or an error it was caused by, says the database cannot be reached, as opposed
 * to refusing this request (a constraint, bad input): the lead paths' raw `pg` errors, knex's
 * pool timing out, and MikroORM's wrappers of both on the admin paths.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (saysUnreachable(e)) return true;
  }
  return false;
}

function saysUnreachable(error: Error): boolean {
  if (error.name === 'ConnectionException') return true;
  const sqlState = sqlStateOf(error);
  if (sqlState !== undefined) return UNAVAILABLE_SQLSTATE.test(sqlState);
  const { code } = error as { code?: unknown };
  return (
    (typeof code === 'string' && UNAVAILABLE_SOCKET.has(code)) ||
    CONNECTION_LOST.test(error.message.split(' - ').pop()!) ||
    error.message.startsWith('Knex: Timeout acquiring a connection')
  );
}

const auditEntry = (ctx: Context, action: string, user: User | null): AuditEntry => ({
  actorSub: user?.id ?? null,
  actorRole: user?.role ?? null,
  action,
  requestId: ctx.requestId,
  clientIp: ctx.ip,
  userAgent: ctx.userAgent,
});

const publicProcedure = t.procedure
  .use(({ path, next }) => traceProcedure(path, next))
  .use(mapErrors)
  .use(({ ctx, path, next }) => next({ ctx: { audit: auditEntry(ctx, path, null) } }));

/** A `sales` user works only the leads assigned to them; the repository enforces it. */
const scopeOf = (user: User): LeadScope => (user.role === 'sales' ? { assignedTo: user.id } : {});

/** The contract's own list of roles decides, so the server enforces what the OpenAPI document says. */
const protectedProcedure = publicProcedure.use(async ({ ctx, meta, path, next }) => {
  const user = await ctx.auth.authenticate(ctx.authorization);
  if (!meta?.roles.some((role) => role === user.role)) {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'Your role may not do this' });
  }
  return next({ ctx: { user, scope: scopeOf(user), audit: auditEntry(ctx, path, user) } });
});

/** Per-user rate limit, after authentication so that it is keyed by the verified `sub`. */
const limitPerUser = t.middleware(async ({ ctx, next }) => {
  const { user, userRateLimit } = ctx as AuthedContext;
  if (!userRateLimit) return next();
  const verdict = await userRateLimit.consume(user.id);
  for (const [name, value] of Object.entries(rateLimitHeaders(verdict))) ctx.setHeader(name, value);
  if (!verdict.allowed) {
    throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `Too many requests: try again in ${verdict.resetSeconds} seconds` });
  }
  return next();
});

type Handler<TCtx, C extends Contract> = (opts: { ctx: TCtx; input: z.output<C['input']> }) => Promise<z.input<C['output']>>;

/**
 * The procedure is built from the contract's own schemas and meta, so it serves exactly what the
 * contract says; its type is stated as the contract's for the same reason.
 */
function build<C extends Contract>(base: typeof publicProcedure, contract: C, handler: Handler<never, C>): ProcedureOf<C> {
  const procedure = base.meta(contract.meta).input(contract.input).output(contract.output);
  const resolver = handler as unknown as Parameters<typeof procedure.query>[0];
  const built = contract.type === 'query' ? procedure.query(resolver) : procedure.mutation(resolver);
  return built as unknown as ProcedureOf<C>;
}

/** Attaches a handler to a public contract. */
export function implementPublic<C extends Contract>(contract: C, handler: Handler<PublicContext, C>) {
  if (contract.meta.roles.length > 0) throw new Error(`${contract.meta.openapi.operationId} is not public`);
  return build(publicProcedure, contract, handler as Handler<never, C>);
}

/** Attaches a handler to a contract that needs an authenticated user in one of its roles. */
export function implementProtected<C extends Contract>(contract: C, handler: Handler<AuthedContext, C>) {
  if (contract.meta.roles.length === 0) throw new Error(`${contract.meta.openapi.operationId} is public`);
  return build(protectedProcedure.use(limitPerUser) as unknown as typeof publicProcedure, contract, handler as Handler<never, C>);
}
