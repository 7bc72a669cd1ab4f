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

/** Every code a validation issue can carry: Zod 4's issue codes, passed on unchanged. */
export const VALIDATION_ISSUE_CODES = [
  'invalid_type',
  'invalid_format',
  'invalid_value',
  'invalid_union',
  'invalid_key',
  'invalid_element',
  'too_small',
  'too_big',
  'not_multiple_of',
  'unrecognized_keys',
  'custom',
] as const;
export type ValidationIssueCode = (typeof VALIDATION_ISSUE_CODES)[number];

/**
 * One issue exactly as both surfaces send it (`publicIssue` in the server): where, what, and the
 * bound where one applies; never the validator's internals.
 */
export const ValidationIssue = z
  .strictObject({
    path: z.array(z.union([z.string(), z.number()])).meta({ description: 'Location of the field at fault, e.g. `["email"]`.' }),
    code: z.enum(VALIDATION_ISSUE_CODES).meta({
      description:
        'What is wrong: `invalid_type` (wrong type or missing), `invalid_format` (e.g. not an e-mail address or UUID), ' +
        '`invalid_value` (not one of the allowed values), `invalid_union`, `invalid_key`, `invalid_element`, ' +
        '`too_small` / `too_big` (see `minimum` / `maximum`), `not_multiple_of`, `unrecognized_keys`, `custom`.',
    }),
    message: z.string().meta({ description: 'Human-readable explanation, safe to show next to the field.' }),
    minimum: z
      .number()
      .optional()
      .meta({ description: 'With `too_small`: the least allowed length (strings, arrays) or value (numbers).' }),
    maximum: z
      .number()
      .optional()
      .meta({ description: 'With `too_big`: the greatest allowed length (strings, arrays) or value (numbers).' }),
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
  .meta({ id: 'ApiError', description: 'The body of every error response.' });
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
