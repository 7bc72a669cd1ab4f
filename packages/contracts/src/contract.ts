import type { z } from 'zod';

/**
 * Staff roles, from the token's `role` claim. `admin` may do everything; `cms` may work every
 * lead; `sales` only the leads assigned to them (others answer 404, as if they did not exist).
 */
export const ROLES = ['admin', 'cms', 'sales'] as const;
export type Role = (typeof ROLES)[number];

/** The roles of a contract that anyone may call, without a token. */
export const PUBLIC: readonly Role[] = [];

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
  };
  /** Who may call it; empty means public. The server enforces exactly this list. */
  roles: readonly Role[];
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
/** A protected operation also answers these: bad credentials, a role it does not allow, and an audit row that cannot be written. */
const PROTECTED_ERRORS = [401, 403, 503] as const;

interface ContractSpec<TType extends 'query' | 'mutation', TInput extends z.ZodType, TOutput extends z.ZodType> {
  type: TType;
  input: TInput;
  output: TOutput;
  roles: readonly Role[];
  method: 'GET' | 'POST' | 'PATCH';
  path: `/${string}`;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  successStatus?: 200 | 201;
  /** Statuses this operation answers besides the common ones (400, 413, 500, and 401/403/503 when protected). */
  errors?: number[];
}

export function defineContract<TType extends 'query' | 'mutation', TInput extends z.ZodType, TOutput extends z.ZodType>(
  spec: ContractSpec<TType, TInput, TOutput>,
): Contract<TType, TInput, TOutput> {
  const isProtected = spec.roles.length > 0;
  const errors = [...COMMON_ERRORS, ...(isProtected ? PROTECTED_ERRORS : []), ...(spec.errors ?? [])].sort((a, b) => a - b);
  const description = isProtected
    ? [spec.description, `Roles: ${spec.roles.map((r) => `\`${r}\``).join(', ')}.`].filter(Boolean).join('\n\n')
    : spec.description;
  return {
    type: spec.type,
    input: spec.input,
    output: spec.output,
    meta: {
      roles: spec.roles,
      successStatus: spec.successStatus ?? 200,
      openapi: {
        method: spec.method,
        path: spec.path,
        operationId: spec.operationId,
        summary: spec.summary,
        ...(description ? { description } : {}),
        tags: spec.tags,
        protect: isProtected,
        errorResponses: [...new Set(errors)],
      },
    },
  };
}
