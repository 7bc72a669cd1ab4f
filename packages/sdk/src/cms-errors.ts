import { TRPCClientError } from '@trpc/client';
import type { AppRouter, ValidationIssue } from '@lead/contracts';

/**
 * Every failed call of the CMS client rejects with this. It is a `TRPCClientError` (so tRPC's own
 * tooling keeps working) that also names what an integrator needs: the HTTP status, the
 * service's stable error code, the request id to quote, and the fields at fault.
 */
export class LeadApiError extends TRPCClientError<AppRouter> {
  /** HTTP status of the answer; `undefined` when no answer arrived (network failure, timeout). */
  readonly status: number | undefined;
  /** The service's stable code (`BAD_REQUEST`, `NOT_FOUND`, …), or `NETWORK_ERROR` when no answer arrived. */
  readonly code: string;
  /** Matches the `X-Request-Id` header and the service's logs. */
  readonly requestId: string | undefined;
  /** The fields at fault, on validation errors. */
  readonly issues: ValidationIssue[];

  constructor(error: TRPCClientError<AppRouter>) {
    super(error.message, {
      cause: error.cause,
      ...(error.shape ? { result: { error: error.shape } } : {}),
      ...(error.meta ? { meta: error.meta } : {}),
    });
    // TRPCClientError pins its own prototype in its constructor; restore the subclass's.
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = 'LeadApiError';
    const response = error.meta?.response as { status?: number; headers?: Headers } | undefined;
    this.status = error.data?.httpStatus ?? response?.status;
    this.code = error.data?.code ?? (this.status === undefined ? 'NETWORK_ERROR' : 'UNKNOWN_ERROR');
    this.requestId = error.data?.request_id ?? response?.headers?.get?.('x-request-id') ?? undefined;
    this.issues = error.data?.issues ?? [];
  }
}

/** Any failure of a client call as a `LeadApiError`. */
export function toLeadApiError(cause: unknown): LeadApiError {
  if (cause instanceof LeadApiError) return cause;
  return new LeadApiError(TRPCClientError.from<AppRouter>(cause as Error));
}

export function isLeadApiError(error: unknown): error is LeadApiError {
  return error instanceof LeadApiError;
}
