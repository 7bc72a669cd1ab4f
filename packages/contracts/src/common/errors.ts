import { z } from 'zod';

/**
 * Stable, machine-readable error codes. They are tRPC's codes, so one name means the same on
 * both surfaces; each maps to exactly one HTTP status.
 */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  PARSE_ERROR: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_SUPPORTED: 405,
  /** The request did not arrive whole within the service's request timeout. */
  TIMEOUT: 408,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE_CONTENT: 422,
  TOO_MANY_REQUESTS: 429,
  /** Answered by the HTTP layer before any route: the headers exceed its limit. */
  REQUEST_HEADER_FIELDS_TOO_LARGE: 431,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

// Loose: over REST each issue also carries Zod's details for its code (`minimum`, `expected`…).
export const ValidationIssue = z
  .looseObject({
    code: z.string().meta({ description: 'Zod issue code, e.g. `invalid_format`, `too_big`, `invalid_value`.' }),
    path: z.array(z.union([z.string(), z.number()])).meta({ description: 'Location of the field at fault, e.g. `["email"]`.' }),
    message: z.string(),
  })
  .meta({ id: 'ValidationIssue', description: 'One problem with one field of the input.' });
export type ValidationIssue = z.infer<typeof ValidationIssue>;

/** The body of every REST error response. */
export const ApiError = z
  .object({
    code: z
      .enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]])
      .meta({ description: 'Machine-readable error code; each maps to one HTTP status.', example: 'BAD_REQUEST' }),
    message: z.string().meta({ description: 'Human-readable summary; safe to show, never internal details.' }),
    request_id: z.string().meta({ description: 'Quote this when reporting a problem; it is in the server logs.' }),
    issues: z.array(ValidationIssue).optional().meta({ description: 'Present on input validation errors.' }),
  })
  .meta({ id: 'Error', description: 'Error response' });
export type ApiError = z.infer<typeof ApiError>;

/** Extra fields tRPC clients find in `error.data` (alongside tRPC's `code`, `httpStatus`, `path`). */
export interface LeadErrorData {
  code: string;
  httpStatus: number;
  path?: string;
  request_id: string;
  issues?: ValidationIssue[];
}

/** The error shape on the tRPC surface. */
export interface LeadErrorShape {
  message: string;
  code: number;
  data: LeadErrorData;
}
