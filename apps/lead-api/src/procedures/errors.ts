import type { LeadErrorShape, ValidationIssue, ValidationIssueCode } from '@lead/contracts';
import {
  AssignmentForbiddenError,
  AuditUnavailableError,
  EventNotDeadError,
  EventNotFoundError,
  IdempotencyKeyReusedError,
  isDatabaseUnavailable,
  LeadAlreadyMergedError,
  LeadNotFoundError,
  MergeAcrossAssigneesError,
  MergeIntoSelfError,
  StatusUnchangedError,
  LeadErasedError,
} from '@lead/db';
import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import type { Context } from './context.js';

const INTERNAL_MESSAGE = 'Internal server error';

/** Which request, and which surface, an error belongs to. */
export type ErrorOrigin = Pick<Context, 'requestId' | 'surface'>;

/**
 * Errors raised before a context exists reach the errorFormatter with `ctx` undefined: on /trpc
 * an unsupported content type, a batch mixing queries and mutations, an unbatched streaming
 * call; on REST a missing content type; on both, a context that could not be created. Both
 * adapters (tRPC's fastify adapter, trpc-to-openapi) first hand that same error object to
 * `onError`, with the Fastify request, so the server notes the error's origin there
 * (`noteErrorOrigin`) and the formatter looks it up by the error itself. Weakly held.
 */
const contextlessErrors = new WeakMap<object, ErrorOrigin>();

export function noteErrorOrigin(error: object, origin: ErrorOrigin): void {
  contextlessErrors.set(error, origin);
}

/** A Zod issue as the API documents it: where, what, and the bound where one applies. No library internals. */
function publicIssue(issue: {
  code: ValidationIssueCode;
  path: PropertyKey[];
  message: string;
  minimum?: unknown;
  maximum?: unknown;
}): ValidationIssue {
  return {
    path: issue.path.map((p) => (typeof p === 'number' ? p : String(p))),
    code: issue.code,
    message: issue.message,
    ...(typeof issue.minimum === 'number' ? { minimum: issue.minimum } : {}),
    ...(typeof issue.maximum === 'number' ? { maximum: issue.maximum } : {}),
  };
}

/**
 * Input validation failures keep trpc-to-openapi's and tRPC's own handling (both recognise a
 * cause named `ZodError` with `issues`), but with the issues in their documented shape.
 */
class InputIssues extends Error {
  override readonly name = 'ZodError';
  constructor(readonly issues: ValidationIssue[]) {
    super('Input validation failed');
  }
}

/** A 400 naming one field at fault, for input a handler finds invalid (the same shape as the contract's own validation). */
export const invalidInput = (field: string | string[], message: string): TRPCError =>
  new TRPCError({
    code: 'BAD_REQUEST',
    message: 'Input validation failed',
    cause: new InputIssues([{ path: typeof field === 'string' ? [field] : field, code: 'custom', message }]),
  });

function validationIssues(error: TRPCError): ValidationIssue[] | undefined {
  const cause = error.cause as { name?: string; issues?: unknown } | undefined;
  if (error.code !== 'BAD_REQUEST' || cause?.name !== 'ZodError' || !Array.isArray(cause.issues)) return undefined;
  return cause instanceof InputIssues ? cause.issues : (cause.issues as Parameters<typeof publicIssue>[0][]).map(publicIssue);
}

const DOMAIN_ERRORS: Array<[new (...args: never[]) => Error, TRPC_ERROR_CODE_KEY]> = [
  [LeadNotFoundError, 'NOT_FOUND'],
  [EventNotFoundError, 'NOT_FOUND'],
  [StatusUnchangedError, 'CONFLICT'],
  [EventNotDeadError, 'CONFLICT'],
  [AssignmentForbiddenError, 'FORBIDDEN'],
  [MergeIntoSelfError, 'BAD_REQUEST'],
  [LeadAlreadyMergedError, 'CONFLICT'],
  [MergeAcrossAssigneesError, 'CONFLICT'],
  [LeadErasedError, 'CONFLICT'],
  [IdempotencyKeyReusedError, 'UNPROCESSABLE_CONTENT'],
];

/** Turns a failed call's domain and infrastructure errors into stable API errors. */
export function rethrowMapped<R extends { ok: boolean; error?: TRPCError }>(result: R): R {
  if (result.ok || !result.error) return result;
  const { error } = result;
  const cause = error.cause;
  for (const [type, code] of DOMAIN_ERRORS) {
    if (cause instanceof type) throw new TRPCError({ code, message: cause.message, cause });
  }
  if (cause instanceof AuditUnavailableError) {
    throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'The audit trail is unavailable, try again shortly', cause });
  }
  if (isDatabaseUnavailable(cause)) {
    throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'The database is unavailable, try again shortly', cause });
  }
  const issues = validationIssues(error);
  if (issues) throw new TRPCError({ code: 'BAD_REQUEST', message: 'Input validation failed', cause: new InputIssues(issues) });
  return result;
}

/**
 * One error shape per surface. Internal messages and stacks never leave: a 500 says only
 * "Internal server error" and carries the request id under which the cause is logged.
 */
export function formatError({
  shape,
  error,
  ctx,
}: {
  shape: { message: string; code: number; data: { code: string; httpStatus: number; path?: string } };
  error: TRPCError;
  ctx?: Context;
}): LeadErrorShape {
  const origin: ErrorOrigin | undefined = ctx ?? contextlessErrors.get(error);
  const requestId = origin?.requestId ?? 'unknown';
  const message = error.code === 'INTERNAL_SERVER_ERROR' ? INTERNAL_MESSAGE : shape.message;
  const issues = validationIssues(error);
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
}
