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
 * Which budget a call draws on. `create`: the public create budget per client address, counted
 * before the body is read (so malformed submissions count); `user`: the budget of the
 * authenticated user (token `sub`), counted after authentication; `none`: unlimited.
 */
export type RateLimitPolicy = 'create' | 'user' | 'none';

/**
 * How a call is recorded in the audit trail. `read`: it returns lead data to its caller, so the
 * row (naming the leads returned) is written before the answer leaves; `change`: it changes
 * leads, and the row is written in the change's own transaction; `none`: it touches no lead.
 * `leadIds` names the leads a successful call concerns, from its input and output.
 */
export type AuditPolicy<TInput = never, TOutput = never> =
  'none' | { kind: 'read' | 'change'; leadIds: (call: { input: TInput; output: TOutput }) => readonly string[] };

/**
 * Everything the server applies to a call besides running it, declared once per contract and
 * applied to the procedure a request is routed to, on both surfaces (never to the URL's text).
 */
export interface Policy<TInput = never, TOutput = never> {
  rateLimit: RateLimitPolicy;
  audit: AuditPolicy<TInput, TOutput>;
  /** `public`: free of personal data, may be kept by caches; `no-store`: nobody may keep a copy. */
  cache: 'no-store' | 'public';
  /**
   * Which browser origins may call it: `public` also the website origins (`CORS_ORIGINS`),
   * `admin` only the CMS origins (`CORS_ADMIN_ORIGINS`).
   */
  cors: 'public' | 'admin';
  /** Largest request body accepted, in bytes; the service-wide `BODY_LIMIT_BYTES` caps it. */
  maxBodyBytes: number | null;
}

/** What the server reads at run time, with the audit's types erased. */
export type AnyPolicy = Omit<Policy, 'audit'> & {
  audit: 'none' | { kind: 'read' | 'change'; leadIds: (call: { input: unknown; output: unknown }) => readonly string[] };
};

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
  };
  /** Who may call it; empty means public. The server enforces exactly this list. */
  roles: readonly Role[];
  /** Rate limit, audit, caching, CORS and body limit of the call (see `Policy`). */
  policy: AnyPolicy;
  /** The HTTP status the REST surface answers on success. */
  successStatus: 200 | 201;
  /** What an error status means for this operation, where the generic wording would be vague. */
  errorDescriptions?: Record<number, string>;
  /** A request body and a success body, shown in the OpenAPI document. */
  examples?: ContractExamples;
}

export interface ContractExamples {
  request?: Record<string, unknown>;
  response?: Record<string, unknown>;
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

/**
 * Errors an operation can answer besides its own, by what it is: 400 when it takes input,
 * 413/415 when it takes a body (Fastify parses none for GET), 401/403 when protected, 429 when
 * rate-limited, and 408/431/500/503 always: 408 `TIMEOUT` when the request does not arrive whole
 * within `REQUEST_TIMEOUT_MS`, 431 when its headers exceed the HTTP parser's limit (both
 * answered before any route, `src/http/client-errors.ts` in the server), 503 when the database
 * is unreachable or, for protected operations, when the audit row cannot be written.
 */
function commonErrors(spec: { input: z.ZodType; method: string; roles: readonly Role[]; rateLimit: RateLimitPolicy }): number[] {
  return [
    ...(spec.input._zod.def.type === 'void' ? [] : [400]),
    ...(spec.method === 'GET' ? [] : [413, 415]),
    ...(spec.roles.length === 0 ? [] : [401, 403]),
    ...(spec.rateLimit === 'none' ? [] : [429]),
    408,
    431,
    500,
    503,
  ];
}

interface ContractSpec<TType extends 'query' | 'mutation', TInput extends z.ZodType, TOutput extends z.ZodType> extends Pick<
  LeadMeta['openapi'],
  'method' | 'path' | 'operationId' | 'summary' | 'description' | 'tags' | 'requestHeaders'
> {
  type: TType;
  input: TInput;
  output: TOutput;
  roles: readonly Role[];
  successStatus?: 200 | 201;
  /**
   * Statuses this operation answers besides the common ones (see `commonErrors`); as a record,
   * with what each means for this operation.
   */
  errors?: number[] | Record<number, string>;
  examples?: ContractExamples;
  /** Its budget: `create` only for public contracts, `user` only for protected ones. */
  rateLimit: RateLimitPolicy;
  audit: AuditPolicy<z.output<TInput>, z.output<TOutput>>;
  /** Default `no-store`. */
  cache?: Policy['cache'];
  /** Default `admin`. */
  cors?: Policy['cors'];
  maxBodyBytes?: number;
}

export function defineContract<TType extends 'query' | 'mutation', TInput extends z.ZodType, TOutput extends z.ZodType>(
  spec: ContractSpec<TType, TInput, TOutput>,
): Contract<TType, TInput, TOutput> {
  const isProtected = spec.roles.length > 0;
  // A budget keyed by the client address makes no sense behind a token, nor one keyed by the user without one.
  if (spec.rateLimit === (isProtected ? 'create' : 'user')) {
    throw new Error(`${spec.operationId}: the ${spec.rateLimit} budget is for ${isProtected ? 'public' : 'protected'} contracts`);
  }
  const declared = Array.isArray(spec.errors) ? spec.errors : Object.keys(spec.errors ?? {}).map(Number);
  const errors = [...commonErrors(spec), ...declared].sort((a, b) => a - b);
  const description = isProtected
    ? [spec.description, `Roles: ${spec.roles.map((r) => `\`${r}\``).join(', ')}.`].filter(Boolean).join('\n\n')
    : spec.description;
  return {
    type: spec.type,
    input: spec.input,
    output: spec.output,
    meta: {
      roles: spec.roles,
      policy: {
        rateLimit: spec.rateLimit,
        audit: spec.audit as AnyPolicy['audit'],
        cache: spec.cache ?? 'no-store',
        cors: spec.cors ?? 'admin',
        maxBodyBytes: spec.maxBodyBytes ?? null,
      },
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
        ...(spec.requestHeaders ? { requestHeaders: spec.requestHeaders } : {}),
      },
      ...(spec.errors && !Array.isArray(spec.errors) ? { errorDescriptions: spec.errors } : {}),
      ...(spec.examples ? { examples: spec.examples } : {}),
    },
  };
}
