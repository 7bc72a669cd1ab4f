import { createTRPCClient, httpBatchLink, httpLink, splitLink, TRPCClientError, type TRPCClient } from '@trpc/client';
import { CREATE_LEAD_PROCEDURE, TRPC_PREFIX } from '@lead/contracts/routes';
import superjson from 'superjson';
import { errorForStatus, LeadServiceError, RequestAbortedError } from './errors.js';
import { send, trimBase, type ClientOptions } from './internal/request.js';
import type { AppRouter } from './router.js';
import type { ErrorCode, LeadErrorShape } from './types.js';

export * from './errors.js';
export type * from './types.js';
export type { AppRouter } from './router.js';
export type { ClientOptions } from './internal/request.js';

type Awaitable<T> = T | Promise<T>;

export interface LeadClientOptions extends ClientOptions {
  /** A bearer token for the admin procedures. */
  token?: string | undefined;
  /** Called before every request, for tokens that expire; wins over `token`. */
  getToken?: (() => Awaitable<string | null | undefined>) | undefined;
}

/**
 * What a call may carry in `{ context }`: `idempotencyKey` is sent as `Idempotency-Key` and makes
 * a mutation safe to retry. `leads.create` gets a fresh one unless given; other mutations
 * without one are never retried.
 */
export interface LeadCallContext {
  idempotencyKey?: string;
}

/** The typed client: one method per procedure, `Date`s where the service has dates. */
export type LeadClient = TRPCClient<AppRouter>;

const IDEMPOTENCY_HEADER = 'idempotency-key';

/** A tRPC client failure as the SDK's error tree; the original stays as `cause`. */
export function toLeadServiceError(error: unknown): LeadServiceError {
  if (error instanceof LeadServiceError) return error;
  if (!(error instanceof TRPCClientError)) return new LeadServiceError(String(error), { cause: error });
  const cause: unknown = error.cause;
  // Our request loop's own errors (connection, timeout, abort) arrive wrapped by tRPC.
  if (cause instanceof LeadServiceError) return cause;
  if (cause instanceof Error && cause.name === 'AbortError') return new RequestAbortedError('The request was aborted', { cause });
  const shape = error.shape as LeadErrorShape | undefined;
  const response = (error.meta as { response?: Response } | undefined)?.response;
  const status = shape?.data.httpStatus ?? response?.status ?? 500;
  return errorForStatus(
    status,
    error.message,
    {
      code: shape?.data.code as ErrorCode | undefined,
      requestId: shape?.data.request_id ?? response?.headers.get('x-request-id') ?? undefined,
      issues: shape?.data.issues,
      cause: error,
    },
    response?.headers,
  );
}

/** Wraps each `query` / `mutate` of tRPC's proxy so that it rejects with the SDK's error tree. */
function withLeadErrors<T extends object>(node: T): T {
  return new Proxy(node, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key);
      if (typeof value !== 'function' && (typeof value !== 'object' || value === null)) return value;
      if (key === 'query' || key === 'mutate') {
        return (...args: unknown[]) =>
          (value as (...a: unknown[]) => Promise<unknown>)(...args).catch((error: unknown) => {
            throw toLeadServiceError(error);
          });
      }
      return withLeadErrors(value);
    },
  });
}

/** The typed tRPC client for the CMS (superjson, so dates arrive as `Date`s). */
export function createLeadClient(options: LeadClientOptions): LeadClient {
  const base = { timeout: options.timeout ?? 30_000, maxRetries: options.maxRetries ?? 2, fetch: options.fetch ?? globalThis.fetch };
  // Queries go out as GET and may always be repeated; a mutation only with an idempotency key.
  const fetchWithRetries: typeof fetch = (input, init = {}) =>
    send(String(input instanceof Request ? input.url : input), init, {
      ...base,
      retryable: (init.method ?? 'GET') === 'GET' || new Headers(init.headers).has(IDEMPOTENCY_HEADER),
    });
  const url = `${trimBase(options.baseURL)}${TRPC_PREFIX}`;
  const authorization = async (): Promise<Record<string, string>> => {
    const token = options.getToken ? await options.getToken() : options.token;
    return { ...options.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) };
  };
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'mutation',
        // One mutation per request, so each carries its own Idempotency-Key.
        true: httpLink({
          url,
          transformer: superjson,
          fetch: fetchWithRetries,
          async headers({ op }) {
            const context = op.context as LeadCallContext;
            const key = context.idempotencyKey ?? (op.path === CREATE_LEAD_PROCEDURE ? crypto.randomUUID() : undefined);
            return { ...(await authorization()), ...(key ? { [IDEMPOTENCY_HEADER]: key } : {}) };
          },
        }),
        false: httpBatchLink({ url, transformer: superjson, fetch: fetchWithRetries, headers: authorization }),
      }),
    ],
  });
  return withLeadErrors(client);
}
