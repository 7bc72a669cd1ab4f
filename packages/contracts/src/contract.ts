import type { z } from 'zod';

/** Who may call a procedure. Finer roles come with access control (issue 3). */
export type Access = 'public' | 'admin';

/**
 * Procedure meta. `openapi` is the shape trpc-to-openapi reads; it is spelled out here so that
 * client type declarations do not depend on that server-side library.
 */
export interface LeadMeta {
  [key: string]: unknown;
  openapi: {
    method: 'GET' | 'POST' | 'PATCH';
    path: `/${string}`;
    operationId: string;
    summary: string;
    description?: string;
    tags: string[];
    protect: boolean;
    errorResponses: number[];
    /** Request headers the operation reads, for the OpenAPI document. */
    requestHeaders?: z.ZodObject;
    /** Headers of the success response, for the OpenAPI document. */
    responseHeaders?: z.ZodObject;
  };
  access: Access;
  /** The HTTP status the REST surface answers on success. */
  successStatus: 200 | 201;
}

export interface Contract<
  TType extends 'query' | 'mutation' = 'query' | 'mutation',
  TInput extends z.ZodType = z.ZodType,
  TOutput extends z.ZodType = z.ZodType,
> {
  type: TType;
  input: TInput;
  output: TOutput;
  meta: LeadMeta;
}

/** Errors every operation can answer besides its own. */
const COMMON_ERRORS = [400, 413, 500] as const;
// 429: the per-user rate limit on protected operations.
const ADMIN_ERRORS = [401, 403, 429] as const;

interface ContractSpec<TType extends 'query' | 'mutation', TInput extends z.ZodType, TOutput extends z.ZodType> {
  type: TType;
  input: TInput;
  output: TOutput;
  access: Access;
  method: 'GET' | 'POST' | 'PATCH';
  path: `/${string}`;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  successStatus?: 200 | 201;
  /** Statuses this operation answers besides the common ones (400, 413, 500, and 401/403/429 when protected). */
  errors?: number[];
  requestHeaders?: z.ZodObject;
  responseHeaders?: z.ZodObject;
}

export function defineContract<TType extends 'query' | 'mutation', TInput extends z.ZodType, TOutput extends z.ZodType>(
  spec: ContractSpec<TType, TInput, TOutput>,
): Contract<TType, TInput, TOutput> {
  const isProtected = spec.access !== 'public';
  const errors = [...COMMON_ERRORS, ...(isProtected ? ADMIN_ERRORS : []), ...(spec.errors ?? [])].sort((a, b) => a - b);
  return {
    type: spec.type,
    input: spec.input,
    output: spec.output,
    meta: {
      access: spec.access,
      successStatus: spec.successStatus ?? 200,
      openapi: {
        method: spec.method,
        path: spec.path,
        operationId: spec.operationId,
        summary: spec.summary,
        ...(spec.description ? { description: spec.description } : {}),
        tags: spec.tags,
        protect: isProtected,
        errorResponses: [...new Set(errors)],
        ...(spec.requestHeaders ? { requestHeaders: spec.requestHeaders } : {}),
        ...(spec.responseHeaders ? { responseHeaders: spec.responseHeaders } : {}),
      },
    },
  };
}
