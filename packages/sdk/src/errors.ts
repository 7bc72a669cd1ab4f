// One error tree for every entry (modelled on openai-node's `src/core/error.ts`): the website
// and the CMS client throw the same classes, so one `instanceof` works everywhere. No imports at
// run time: the website bundle carries these classes and nothing else.
import type { ErrorCode, ValidationIssue } from './types.js';

export interface LeadServiceErrorInit {
  status?: number | undefined;
  code?: ErrorCode | undefined;
  requestId?: string | undefined;
  issues?: ValidationIssue[] | undefined;
  cause?: unknown;
}

/** Base of every error the SDK throws. */
export class LeadServiceError extends Error {
  // Spelled out in each class: minifiers rename classes, and `name` is what logs and trackers show.
  override name = 'LeadServiceError';
  /** HTTP status of the answer; `undefined` when none arrived (connection, timeout, abort). */
  readonly status: number | undefined;
  /** The service's stable code; `undefined` when no answer arrived. */
  readonly code: ErrorCode | undefined;
  /** Quote this when reporting a problem: it is the `X-Request-Id` in the service's logs. */
  readonly requestId: string | undefined;
  /** The fields at fault, on validation errors; otherwise empty. */
  readonly issues: ValidationIssue[];

  constructor(message: string, init: LeadServiceErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.issues = init.issues ?? [];
  }
}

/** 400, 405, 413, 415, 422: the request was refused as sent; `issues` names the fields at fault. */
export class BadRequestError extends LeadServiceError {
  override name = 'BadRequestError';
}
/** 401: no token, or one that is malformed, expired or badly signed. */
export class UnauthorizedError extends LeadServiceError {
  override name = 'UnauthorizedError';
}
/** 403: the token's role may not do this. */
export class ForbiddenError extends LeadServiceError {
  override name = 'ForbiddenError';
}
/** 404: no such resource (or one the caller may not see). */
export class NotFoundError extends LeadServiceError {
  override name = 'NotFoundError';
}
/** 409: the change conflicts with the current state (e.g. the status is already that). */
export class ConflictError extends LeadServiceError {
  override name = 'ConflictError';
}
/** 429: over the rate limit; try again after `retryAfterSeconds` (null when the service did not say). */
export class RateLimitedError extends LeadServiceError {
  override name = 'RateLimitedError';
  retryAfterSeconds: number | null = null;
}
/** 5xx: the service failed. */
export class ServerError extends LeadServiceError {
  override name = 'ServerError';
}
/** 503: the service (or its database) is unavailable for now. */
export class UnavailableError extends ServerError {
  override name = 'UnavailableError';
}
/** No answer arrived: offline, DNS, connection refused, refused by CORS. */
export class ConnectionError extends LeadServiceError {
  override name = 'ConnectionError';
}
/** No answer arrived within `timeout`. */
export class ConnectionTimeoutError extends ConnectionError {
  override name = 'ConnectionTimeoutError';
}
/** The caller's `AbortSignal` cancelled the request. */
export class RequestAbortedError extends LeadServiceError {
  override name = 'RequestAbortedError';
}

type ErrorClass = new (message: string, init?: LeadServiceErrorInit) => LeadServiceError;
const BY_STATUS: Record<number, ErrorClass> = {
  400: BadRequestError,
  401: UnauthorizedError,
  403: ForbiddenError,
  404: NotFoundError,
  405: BadRequestError,
  409: ConflictError,
  413: BadRequestError,
  415: BadRequestError,
  422: BadRequestError,
  429: RateLimitedError,
  503: UnavailableError,
};

/** Seconds from a `Retry-After` header (seconds or an HTTP date); null when absent or unreadable. */
export function retryAfterSeconds(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The error for an answer of the service with this status. */
export function errorForStatus(status: number, message: string, init: LeadServiceErrorInit, headers?: Headers): LeadServiceError {
  const Class = BY_STATUS[status] ?? (status >= 500 ? ServerError : LeadServiceError);
  const error = new Class(message, { ...init, status });
  if (error instanceof RateLimitedError) error.retryAfterSeconds = retryAfterSeconds(headers?.get('retry-after'));
  return error;
}
